import type { Violation } from "../errors/errors.js";
import {
  checkAbsoluteUri,
  checkInteger,
  checkName,
  checkString,
  checkTimestamp,
  checkUriReference,
} from "./attribute-rules.js";
import type { AttributeValue } from "./cloud-event.js";
import { checkKnownExtension, isKnownExtension } from "./extension-attributes.js";
import { isMediaType, repeatedParameter } from "./media-type.js";

/** The only specification version Herald speaks. */
export const SPEC_VERSION = "1.0";

type Check = (value: string) => string | undefined;

const nonEmpty: Check = (v) => (v.length === 0 ? "must not be empty" : undefined);
const all =
  (...checks: Check[]): Check =>
  (v) => {
    for (const check of checks) {
      const reason = check(v);
      if (reason) return reason;
    }
    return undefined;
  };

/** Context attributes defined by the core specification, with their type rules (spec 3.1, 3.2). */
const CORE: Readonly<Record<string, Check>> = {
  specversion: (v) =>
    v === SPEC_VERSION ? undefined : `must be "${SPEC_VERSION}" (got "${v.slice(0, 20)}")`,
  id: all(nonEmpty, checkString),
  source: all(nonEmpty, checkUriReference),
  type: all(nonEmpty, checkString),
  datacontenttype: all(
    nonEmpty,
    checkString,
    (v) =>
      isMediaType(v) ? undefined : "must be a media type such as application/json (RFC 9110 8.3.1)",
    (v) => {
      const name = repeatedParameter(v);
      return name === undefined
        ? undefined
        : `gives the parameter ${name} twice; give it once (RFC 6838 4.3), as readers disagree on which one counts`;
    },
  ),
  dataschema: all(nonEmpty, checkAbsoluteUri),
  subject: all(nonEmpty, checkString),
  time: checkTimestamp,
};

const REQUIRED = ["specversion", "id", "source", "type"] as const;
const NONE: ReadonlySet<string> = new Set();

/**
 * Validates the context attributes of one event against CloudEvents 1.0.2: required attributes,
 * naming, and the type system. Core attributes must be strings; the extensions whose documents
 * fix a type (`dataref` a URI-reference, `expirytime` a Timestamp, ...: see
 * `extension-attributes.ts`) must have it; other extension attributes may be strings, 32-bit
 * integers or booleans (JSON event format 2.2) and are otherwise left alone.
 * Returns every violation found (empty when valid).
 *
 * @example
 * validateAttributes({ specversion: "1.0", id: "", source: "/s", type: "t" })
 * // => [{ attribute: "id", message: "must not be empty" }]
 */
export function validateAttributes(
  attributes: Readonly<Record<string, AttributeValue>>,
  /**
   * Attributes that were sent but already refused (a header that did not decode, a JSON member
   * of the wrong type): their own violation says why, so "is required" would only contradict it.
   */
  refused: ReadonlySet<string> = NONE,
): Violation[] {
  const violations: Violation[] = [];
  for (const name of REQUIRED) {
    if (attributes[name] === undefined && !refused.has(name)) {
      violations.push({ attribute: name, message: "is required" });
    }
  }
  for (const name in attributes) {
    const value = attributes[name]!;
    // Own properties only: `constructor` is a valid extension name, not Object's.
    const core = Object.hasOwn(CORE, name) ? CORE[name] : undefined;
    if (core) {
      const reason = typeof value === "string" ? core(value) : "must be a string";
      if (reason) violations.push({ attribute: name, message: reason });
      continue;
    }
    const badName = checkName(name);
    if (badName) {
      violations.push({ attribute: name, message: badName });
      continue;
    }
    if (isKnownExtension(name)) {
      const reason = checkKnownExtension(name, value);
      if (reason) violations.push({ attribute: name, message: reason });
      continue;
    }
    const reason =
      typeof value === "string"
        ? checkString(value)
        : typeof value === "number"
          ? checkInteger(value)
          : typeof value === "boolean"
            ? undefined
            : "must be a string, an integer or a boolean";
    if (reason) violations.push({ attribute: name, message: reason });
  }
  return violations;
}
