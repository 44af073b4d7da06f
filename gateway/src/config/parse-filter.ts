import { CesqlParseError } from "../cesql/cesql-parse-error.js";
import { parseCesql } from "../cesql/parse-cesql.js";
import { staticProblem } from "../cesql/static-problem.js";
import { checkString, RESERVED_NAMES } from "../event/attribute-rules.js";
import type { Filter } from "../subscriptions/subscription.js";
import type { FieldPath } from "./field-path.js";
import { type Report, trackReport } from "./report.js";
import { expectList, expectObject, notAString } from "./value-checks.js";

/** The dialects Herald evaluates: the mandatory ones (3.2.4.1.1) and `sql`, CESQL (3.2.4.1.2). */
export const FILTER_DIALECTS = ["exact", "prefix", "suffix", "all", "any", "not", "sql"] as const;

/** CloudEvents core spec, "Attribute Naming Convention": lower-case ASCII letters and digits. */
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/**
 * Validates one filter expression (Subscriptions API 3.2.4): an object with exactly one dialect
 * key. `exact`, `prefix` and `suffix` map attribute names to non-empty strings; `all` and `any`
 * hold a non-empty list of filters; `not` holds one filter; `sql` holds a CESQL v1.0.0 expression,
 * compiled here once so a syntax error is reported with its line and column in the expression.
 * Every problem, at any depth, is reported; the result is `undefined` when there was any.
 *
 * @example
 * parseFilter({ prefix: { subject: "uploads/" } }, ["filters", 0], report);
 * // { prefix: { subject: "uploads/" } }
 * parseFilter({ sql: "EXISTS dataref" }, ["filters", 1], report);
 * // { sql: "EXISTS dataref" }
 * parseFilter({ sql: "subject LIKE 'a%' AND" }, ["filters", 2], report);
 * // undefined; reports filters[2].sql: invalid CESQL at 1:22: expected an expression, found end of expression
 */
export function parseFilter(raw: unknown, path: FieldPath, report: Report): Filter | undefined {
  const tracked = trackReport(report);
  const object = expectObject(raw, path, tracked.report);
  if (object === undefined) return undefined;
  const dialects = Object.keys(object);
  if (dialects.length === 0) {
    tracked.report(path, `must hold one filter dialect: ${FILTER_DIALECTS.join(", ")}`);
  } else if (dialects.length > 1) {
    tracked.report(path, `must hold exactly one filter dialect; found ${dialects.join(", ")}`);
  }
  // Every key is still checked, so one pass shows all the mistakes in the expression.
  const filters = dialects.map((dialect) =>
    parseDialect(dialect, object[dialect], [...path, dialect], tracked.report),
  );
  return tracked.failed() ? undefined : filters[0];
}

/**
 * Validates a list of filters; `all` and `any` need at least one (3.2.4.1.1), a subscription's own
 * `filters` may be empty (3.2.1: "absence of a filter or empty array implies a value of true").
 *
 * @example
 * parseFilterList([{ exact: { type: "a" } }], ["filters"], report, true);
 */
export function parseFilterList(
  raw: unknown,
  path: FieldPath,
  report: Report,
  allowEmpty: boolean,
): readonly Filter[] | undefined {
  const tracked = trackReport(report);
  const items = expectList(raw, path, tracked.report, allowEmpty);
  const filters = items?.map((item, index) => parseFilter(item, [...path, index], tracked.report));
  return tracked.failed() ? undefined : filters?.filter((filter) => filter !== undefined);
}

function parseDialect(
  dialect: string,
  value: unknown,
  path: FieldPath,
  report: Report,
): Filter | undefined {
  switch (dialect) {
    case "exact": {
      const exact = parseAttributeValues(value, path, report);
      return exact && { exact };
    }
    case "prefix": {
      const prefix = parseAttributeValues(value, path, report);
      return prefix && { prefix };
    }
    case "suffix": {
      const suffix = parseAttributeValues(value, path, report);
      return suffix && { suffix };
    }
    case "all": {
      const all = parseFilterList(value, path, report, false);
      return all && { all };
    }
    case "any": {
      const any = parseFilterList(value, path, report, false);
      return any && { any };
    }
    case "not": {
      const not = parseFilter(value, path, report);
      return not && { not };
    }
    case "sql": {
      const sql = parseSql(value, path, report);
      return sql === undefined ? undefined : { sql };
    }
    default:
      report(
        path,
        `unknown filter dialect ${JSON.stringify(dialect)}; supported: ${FILTER_DIALECTS.join(", ")}`,
        { at: "key" },
      );
      return undefined;
  }
}

/**
 * `sql` (3.2.4.1.2): "The filter expression MUST NOT be an empty string", and it must be valid
 * CESQL v1.0.0. Parsed once here, for validation only (compiling cannot fail once it parses);
 * the matcher compiles its own copy.
 */
function parseSql(raw: unknown, path: FieldPath, report: Report): string | undefined {
  if (typeof raw !== "string") {
    report(path, notAString(raw));
    return undefined;
  }
  if (raw.trim() === "") {
    report(path, "must not be empty");
    return undefined;
  }
  let expression: ReturnType<typeof parseCesql>;
  try {
    expression = parseCesql(raw);
  } catch (error) {
    if (!(error instanceof CesqlParseError)) throw error;
    report(path, error.message);
    return undefined;
  }
  // What can be told without an event is told now, not by a filter that silently never matches.
  const problem = staticProblem(expression);
  if (problem !== undefined) {
    report(path, `invalid CESQL: ${problem}`);
    return undefined;
  }
  return raw;
}

/**
 * `exact`/`prefix`/`suffix`: names and values "MUST NOT be empty strings" (3.2.4.1.1). The names
 * are of attributes, so `data` (the payload, which ingest refuses as an attribute name) is refused
 * too, and so is a value no attribute can hold: either would never match, silently.
 */
function parseAttributeValues(
  raw: unknown,
  path: FieldPath,
  report: Report,
): Readonly<Record<string, string>> | undefined {
  const tracked = trackReport(report);
  const object = expectObject(raw, path, tracked.report);
  if (object === undefined) return undefined;
  const entries = Object.entries(object);
  if (entries.length === 0) tracked.report(path, "must name at least one attribute");
  for (const [name, value] of entries) {
    if (!ATTRIBUTE_NAME.test(name)) {
      const message =
        name === ""
          ? "attribute names must not be empty"
          : "must be a CloudEvents attribute name: lower-case letters a-z and digits 0-9";
      tracked.report([...path, name], message, { at: "key" });
    } else if (RESERVED_NAMES.has(name)) {
      tracked.report([...path, name], NOT_AN_ATTRIBUTE, { at: "key" });
    }
    if (typeof value !== "string") tracked.report([...path, name], notAString(value));
    else if (value === "") tracked.report([...path, name], "must not be empty");
    else reportNeverHeld(value, [...path, name], tracked.report);
  }
  // fromEntries defines own properties, so a `__proto__` name could never reach the prototype.
  return tracked.failed() ? undefined : Object.fromEntries(entries as [string, string][]);
}

/**
 * `data` is the event's payload, not a context attribute (CloudEvents "Event Data"): ingest refuses
 * it as an attribute name, so a filter on it would never match. Neither the dialects (3.2.4.1.1:
 * "names of the CloudEvents attributes") nor CESQL (1: no "handling of the data field") read data.
 */
const NOT_AN_ATTRIBUTE =
  "data is the event's payload, not an attribute: filters compare context attributes only, so it would never match";

/**
 * Reports a filter value (or a `types` entry) that no String attribute can hold (control
 * characters, unpaired surrogates, noncharacters: CloudEvents "Type System"; ingest refuses them),
 * so it would never match.
 *
 * @example
 * reportNeverHeld("a\nb", ["filters", 0, "exact", "subject"], report);
 * // filters[0].exact.subject: must not contain control characters: no attribute can hold it, ...
 */
export function reportNeverHeld(value: string, path: FieldPath, report: Report): void {
  const problem = checkString(value);
  if (problem !== undefined) {
    report(path, `${problem}: no CloudEvents attribute can hold it, so it would never match`);
  }
}
