import {
  type AdminRule,
  type AuthConfig,
  type ClaimsRule,
  DEFAULT_MAX_TOKEN_BYTES,
  type IssuerConfig,
  type PublisherRule,
  SPACE_SEPARATED_CLAIMS,
} from "./auth-config.js";
import { type FieldPath, formatFieldPath } from "./field-path.js";
import { parseGlobList } from "./parse-glob-list.js";
import { parseIssuer, parseStringList } from "./parse-issuer.js";
import { parseRate } from "./parse-rate.js";
import { type Report, trackReport } from "./report.js";
import {
  expectInteger,
  expectList,
  expectObject,
  expectString,
  isAbsent,
  isRawObject,
  optional,
  rejectUnknownKeys,
  required,
} from "./value-checks.js";

const AUTH_KEYS = ["issuers", "publishers", "admins", "maxTokenBytes"];
const PUBLISHER_KEYS = ["claims", "sources", "types", "rate"];
const ADMIN_KEYS = ["claims"];

/** `500/s`, `30000/m`: a whole number of events per second or per minute. */

/**
 * Validates the `auth` section (DESIGN.md "Config", issue 3) and normalises it: issuers (see
 * `parseIssuer`), `publishers` (first match wins), `admins` and `maxTokenBytes` (default 8192).
 * `issuers` is required and not empty; `publishers` and `admins` default to none.
 *
 * @example
 * parseAuth({
 *   issuers: [{ issuer: "https://id.example.com", audience: "herald", jwks: "./jwks.json" }],
 *   publishers: [{ claims: { sub: "orders-service" }, sources: ["/orders/*"], rate: "500/s" }],
 * }, ["auth"], report)?.publishers[0]?.rate; // { count: 500, periodMs: 1000 }
 */
export function parseAuth(raw: unknown, path: FieldPath, report: Report): AuthConfig | undefined {
  const tracked = trackReport(report);
  const r = tracked.report;
  const object = expectObject(raw, path, r);
  if (object === undefined) return undefined;
  rejectUnknownKeys(object, AUTH_KEYS, path, r);
  const at = (key: string): FieldPath => [...path, key];

  const issuers = required(object.issuers, at("issuers"), r, parseIssuers);
  const publishers = parseRules(object.publishers, at("publishers"), r, parsePublisher);
  const admins = parseRules(object.admins, at("admins"), r, parseAdmin);
  const maxTokenBytes =
    optional(object.maxTokenBytes, at("maxTokenBytes"), r, (value, p, rr) =>
      expectInteger(value, p, rr, 1),
    ) ?? DEFAULT_MAX_TOKEN_BYTES;
  if (tracked.failed() || !issuers || !publishers || !admins) return undefined;
  return { issuers, publishers, admins, maxTokenBytes };
}

/** Each issuer once: the token's `iss` picks the entry, so two entries for one `iss` conflict. */
function parseIssuers(raw: unknown, path: FieldPath, report: Report) {
  const tracked = trackReport(report);
  const items = expectList(raw, path, tracked.report);
  const firstIndex = new Map<string, number>();
  const issuers = items?.map((item, index): IssuerConfig | undefined => {
    const issuer = parseIssuer(item, [...path, index], tracked.report);
    const name = isRawObject(item) && typeof item.issuer === "string" ? item.issuer : undefined;
    const first = name === undefined ? undefined : firstIndex.get(name);
    if (name !== undefined && first === undefined) firstIndex.set(name, index);
    else if (first !== undefined) {
      const other = formatFieldPath([...path, first]);
      tracked.report([...path, index, "issuer"], `duplicate issuer; ${other} has it`);
    }
    return issuer;
  });
  return tracked.failed() ? undefined : issuers?.filter((issuer) => issuer !== undefined);
}

function parseRules<T>(
  raw: unknown,
  path: FieldPath,
  report: Report,
  parseRule: (raw: unknown, path: FieldPath, report: Report) => T | undefined,
): readonly T[] | undefined {
  if (isAbsent(raw)) return [];
  const tracked = trackReport(report);
  const rules = expectList(raw, path, tracked.report, true)?.map((item, index) =>
    parseRule(item, [...path, index], tracked.report),
  );
  return tracked.failed() ? undefined : rules?.filter((rule) => rule !== undefined);
}

function parsePublisher(raw: unknown, path: FieldPath, report: Report): PublisherRule | undefined {
  const tracked = trackReport(report);
  const r = tracked.report;
  const object = expectObject(raw, path, r);
  if (object === undefined) return undefined;
  rejectUnknownKeys(object, PUBLISHER_KEYS, path, r);
  const at = (key: string): FieldPath => [...path, key];
  const claims = required(object.claims, at("claims"), r, parseClaimsRule);
  // A written list is never empty: an empty one would match no event, absent matches every one.
  const sources = optional(object.sources, at("sources"), r, parseGlobList);
  const types = optional(object.types, at("types"), r, parseGlobList);
  const rate = optional(object.rate, at("rate"), r, parseRate);
  if (tracked.failed() || !claims) return undefined;
  return {
    claims,
    ...(sources === undefined ? {} : { sources }),
    ...(types === undefined ? {} : { types }),
    ...(rate === undefined ? {} : { rate }),
  };
}

function parseAdmin(raw: unknown, path: FieldPath, report: Report): AdminRule | undefined {
  const tracked = trackReport(report);
  const object = expectObject(raw, path, tracked.report);
  if (object === undefined) return undefined;
  rejectUnknownKeys(object, ADMIN_KEYS, path, tracked.report);
  const claims = required(object.claims, [...path, "claims"], tracked.report, parseClaimsRule);
  return tracked.failed() ? undefined : claims && { claims };
}

/**
 * `{ name: value | [values] }`, at least one claim: a rule without claims would match every token
 * any trusted issuer signs. Values are strings as written (quote `"true"` or `"42"` in YAML).
 */
function parseClaimsRule(raw: unknown, path: FieldPath, report: Report): ClaimsRule | undefined {
  const tracked = trackReport(report);
  const object = expectObject(raw, path, tracked.report);
  if (object === undefined) return undefined;
  const names = Object.keys(object);
  if (names.length === 0) {
    tracked.report(path, "must list at least one claim; a rule without claims matches every token");
  }
  const entries = names.map((name): [string, string | readonly string[] | undefined] => {
    const value = object[name];
    const at = [...path, name];
    if (isAbsent(value)) tracked.report(at, "is required: a string or a list of strings");
    else if (isRawObject(value)) {
      // `realm_access: { roles: admin }`: nested claims are not looked into.
      tracked.report(
        at,
        "must be a string or a list of strings: rules match top-level claims only (a claim holding an object never matches)",
      );
    } else if (Array.isArray(value)) {
      // A number or boolean item is reported with its fix, and checked no further.
      const items = value.map((item, index) =>
        unquoted(item, [...at, index], tracked.report) ? String(item) : item,
      );
      const values = parseStringList(items, at, tracked.report);
      if (SPACE_SEPARATED_CLAIMS.has(name)) {
        values?.forEach((item, index) => {
          requireWord(item, [...at, index], tracked.report);
        });
      }
      return [name, values];
    } else {
      const text = unquoted(value, at, tracked.report)
        ? undefined
        : expectString(value, at, tracked.report);
      if (SPACE_SEPARATED_CLAIMS.has(name) && text !== undefined) {
        requireWord(text, at, tracked.report);
      }
      return [name, text];
    }
    return [name, undefined];
  });
  // fromEntries defines own properties, so a claim named `__proto__` stays a claim.
  if (tracked.failed()) return undefined;
  return Object.fromEntries(
    entries.filter(
      (entry): entry is [string, string | readonly string[]] => entry[1] !== undefined,
    ),
  );
}

/**
 * Reports a YAML number or boolean written as a claim value (`tier: 2`, `verified: true`) with
 * the fix: quote it. The quoted text matches a number or boolean claim too (`"2"` matches 2), and
 * a value YAML read as a number may not be the text that was written (`tier: 010` is 10).
 */
function unquoted(value: unknown, path: FieldPath, report: Report): boolean {
  if (typeof value !== "number" && typeof value !== "boolean") return false;
  report(
    path,
    `must be a string, not a ${typeof value}: quote it; quoted, it matches a ${typeof value} claim of that value too`,
  );
  return true;
}

/**
 * A `scope`/`scp` value is split at spaces (RFC 6749 3.3) before it is compared; one of spaces
 * only asks for no scope at all, so the rule would match any token that has the claim, an
 * administrator rule included.
 */
function requireWord(value: string, path: FieldPath, report: Report): void {
  if (value.trim() === "") {
    report(path, "holds no scope, only spaces; it would match any token with this claim");
  }
}
