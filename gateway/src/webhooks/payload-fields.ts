import { InvalidPayload, type PayloadProblem } from "./webhook-errors.js";

/**
 * Problems kept for the 400's `errors`; past it they are only counted. A 1 MiB body of
 * `{"Records":[{},{},...]}` has 340,000 records with 6 missing fields each: listing every one
 * took 1.3 GB and answered 140 MB.
 */
export const MAX_PAYLOAD_PROBLEMS = 100;

/** The problems of one payload, shared by its readers: the first ones, and how many in all. */
interface ProblemList {
  readonly kept: PayloadProblem[];
  total: number;
}

/**
 * Reads fields of a parsed JSON payload by the dotted paths the CloudEvents adapter documents
 * use (`repository.url`, `s3.object.key`) and collects what is missing, so one 400 names every
 * problem (the first `MAX_PAYLOAD_PROBLEMS` of them, and how many there are). Only own properties
 * of plain objects are followed (never `__proto__` or prototype members).
 *
 * @example
 * const fields = payloadFields("github", body);
 * const source = fields.text("repository.url");   // reports "repository.url is missing" when absent
 * fields.throwIfProblems();                      // InvalidPayload (400)
 */
export interface PayloadFields {
  /** The value at a dotted path, or `undefined`. */
  get(path: string): unknown;
  /**
   * The value at `path` as attribute text (a non-empty string, or a number written out); reports
   * a problem and returns `undefined` when it is missing or of another type.
   */
  text(path: string): string | undefined;
  /** Like `text`, but a missing value is no problem (`undefined`); a wrong type still is. */
  optionalText(path: string): string | undefined;
  /** A reader of `root` (a record of the payload) that reports into the same problem list. */
  at(root: unknown, prefix: string): PayloadFields;
  /** Records a problem with `path` (under this reader's prefix), or with a header. */
  problem(path: string, message: string): void;
  /** Throws `InvalidPayload` naming every problem so far; returns when there is none. */
  throwIfProblems(): void;
  /** Throws `InvalidPayload` with the problems so far (after at least one was recorded). */
  fail(): never;
}

/**
 * `PayloadFields` over `root`; `prefix` is put before every reported path (`Records[2].`).
 *
 * @example
 * payloadFields("s3", record, "Records[0].").text("awsRegion");
 */
export function payloadFields(kind: string, root: unknown, prefix = ""): PayloadFields {
  return fieldsOver(kind, root, prefix, { kept: [], total: 0 });
}

function fieldsOver(
  kind: string,
  root: unknown,
  prefix: string,
  problems: ProblemList,
): PayloadFields {
  const report = (path: string, message: string): void => {
    problems.total += 1;
    if (problems.kept.length < MAX_PAYLOAD_PROBLEMS) {
      problems.kept.push({ field: prefix + path, message });
    }
  };
  const read = (path: string, required: boolean): string | undefined => {
    const value = valueAt(root, path);
    if (value === undefined || value === null || value === "") {
      if (required) report(path, "is missing");
      return undefined;
    }
    const text = scalarText(value);
    if (text === undefined) report(path, "must be a string or a number");
    return text;
  };
  const fail = (): never => {
    throw new InvalidPayload(kind, problems.kept, problems.total);
  };
  return {
    get: (path) => valueAt(root, path),
    at: (record, recordPrefix) => fieldsOver(kind, record, recordPrefix, problems),
    text: (path) => read(path, true),
    optionalText: (path) => read(path, false),
    problem: report,
    throwIfProblems() {
      if (problems.total > 0) fail();
    },
    fail,
  };
}

/**
 * The value at a dotted path (`a.b.c`) of a JSON value, following own properties of objects
 * only; `undefined` when any step is missing.
 *
 * @example
 * valueAt({ a: { b: 1 } }, "a.b"); // 1
 */
export function valueAt(root: unknown, path: string): unknown {
  let current = root;
  for (const step of path.split(".")) {
    if (!isJsonObject(current) || !Object.hasOwn(current, step)) return undefined;
    current = current[step];
  }
  return current;
}

/**
 * A JSON scalar as attribute text: a non-empty string as it is, a finite number written out
 * (GitHub ids are numbers, CloudEvents `id` and `subject` are strings); otherwise `undefined`.
 *
 * @example
 * scalarText(42); // "42"
 */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The most characters of a payload's value a problem repeats (`quoteValue`). */
export const MAX_QUOTED_CHARS = 80;

/**
 * A payload's value as a problem names it: JSON, cut after `MAX_QUOTED_CHARS` characters. A
 * problem says which value was wrong; repeating all of it (a 200 KB `noteable_type`, the same
 * long `type` in each of 100 rows) made a 400 and its log line as large as the body, twice over.
 *
 * @example
 * quoteValue("release");        // '"release"'
 * quoteValue("x".repeat(500));  // '"xxxx…' (80 characters, then "…")
 */
export function quoteValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= MAX_QUOTED_CHARS ? text : `${text.slice(0, MAX_QUOTED_CHARS)}…`;
}

/** True for a JSON object (not an array, not `null`). */
export function isJsonObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
