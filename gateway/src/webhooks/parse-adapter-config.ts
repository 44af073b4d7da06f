import {
  DEAD_LETTER_ATTRIBUTES,
  HOPS_ATTRIBUTE,
  PROVENANCE_ATTRIBUTES,
} from "../auth/provenance.js";
import type { FieldPath } from "../config/field-path.js";
import { type Report, trackReport } from "../config/report.js";
import {
  expectBoolean,
  expectHttpUrl,
  expectList,
  expectObject,
  expectOneOf,
  expectString,
  isRawObject,
  optional,
  type RawObject,
  rejectUnknownKeys,
  required,
} from "../config/value-checks.js";
import { checkName, checkString } from "../event/attribute-rules.js";
import { validateAttributes } from "../event/validate-attributes.js";
import { ADAPTER_KINDS, type AdapterConfig } from "./adapter-config.js";
import { jsonPointerProblem } from "./json-pointer.js";
import type { MappedValue } from "./mapping-adapter.js";
import { isSubscriptionArn, isSubscriptionOf, isTopicArn } from "./sns-subscription-arn.js";

/** Keys each kind takes besides `id` and `kind`. */
const KIND_KEYS: Readonly<Record<(typeof ADAPTER_KINDS)[number], readonly string[]>> = {
  github: ["secret"],
  gitlab: ["secret"],
  sns: ["topics", "subscriptions", "trustedUrls", "autoConfirm"],
  s3: [],
  kinesis: [],
  couchdb: ["server", "database"],
  mapping: ["attributes", "records"],
};

/**
 * Attributes a mapping may not set: the envelope's own, the payload, and those only the gateway
 * writes (provenance, the reply hop count, the dead-letter failure attributes). The publisher
 * path drops the last two from every event it stamps, so a mapping to them would be lost silently.
 */
const NOT_MAPPED: readonly string[] = [
  "specversion",
  "datacontenttype",
  "data",
  "data_base64",
  ...PROVENANCE_ATTRIBUTES,
  HOPS_ATTRIBUTE,
  ...DEAD_LETTER_ATTRIBUTES,
];

/**
 * An adapter id is one URL path segment: `/webhooks/{id}`. Not `.` or `..`: those are dot
 * segments that URL parsing removes (RFC 3986 5.2.4), so no request could reach the adapter
 * (`POST /webhooks/..` is `POST /`).
 */
const ID = /^[A-Za-z0-9._~-]+$/;
const DOT_SEGMENTS: readonly string[] = [".", ".."];

/**
 * Validates one `adapters[]` entry by its kind and normalises it; every problem goes to `report`
 * with its field path (so `herald validate` names file, line and field). `id` and `kind` are
 * already checked to be strings by the caller.
 *
 * @example
 * parseAdapterConfig({ id: "gh", kind: "github", secret: "s" }, ["adapters", 0], report);
 * // { id: "gh", kind: "github", secret: "s" }
 */
export function parseAdapterConfig(
  raw: RawObject,
  path: FieldPath,
  report: Report,
): AdapterConfig | undefined {
  const tracked = trackReport(report);
  const r = tracked.report;
  const id = raw.id;
  if (typeof id !== "string" || !ID.test(id)) {
    if (typeof id === "string" && id !== "") {
      r(
        [...path, "id"],
        "must be letters, digits, '.', '_', '~' or '-' (it is a URL path segment)",
      );
    }
    return undefined;
  }
  if (DOT_SEGMENTS.includes(id)) {
    r([...path, "id"], `must not be "${id}": /webhooks/${id} is a dot segment no URL can address`);
    return undefined;
  }
  const kind = expectOneOf(raw.kind, ADAPTER_KINDS, [...path, "kind"], r);
  if (kind === undefined) return undefined;
  rejectUnknownKeys(raw, ["id", "kind", ...KIND_KEYS[kind]], path, r);
  const at = (key: string): FieldPath => [...path, key];
  let config: AdapterConfig | undefined;
  switch (kind) {
    case "github":
    case "gitlab": {
      const secret = required(raw.secret, at("secret"), r, expectString);
      config = secret === undefined ? undefined : { id, kind, secret };
      break;
    }
    case "s3":
    case "kinesis":
      config = { id, kind };
      break;
    case "sns": {
      const topics = optional(raw.topics, at("topics"), r, (value, p, rep) =>
        listOf(value, p, rep, expectTopicArn),
      );
      const subscriptions = optional(raw.subscriptions, at("subscriptions"), r, (value, p, rep) =>
        listOf(value, p, rep, (item, itemPath, itemReport) =>
          expectSubscriptionArn(item, itemPath, itemReport, topics),
        ),
      );
      const trustedUrls = optional(raw.trustedUrls, at("trustedUrls"), r, (value, p, rep) =>
        listOf(value, p, rep, expectHttpUrl),
      );
      const autoConfirm = optional(raw.autoConfirm, at("autoConfirm"), r, expectBoolean) ?? false;
      config = {
        id,
        kind,
        ...(topics === undefined ? {} : { topics }),
        ...(subscriptions === undefined ? {} : { subscriptions }),
        ...(trustedUrls === undefined ? {} : { trustedUrls }),
        autoConfirm,
      };
      break;
    }
    case "couchdb": {
      const server = required(raw.server, at("server"), r, expectHttpUrl);
      const database = optional(raw.database, at("database"), r, expectString);
      config =
        server === undefined
          ? undefined
          : { id, kind, server, ...(database === undefined ? {} : { database }) };
      break;
    }
    case "mapping": {
      const records = optional(raw.records, at("records"), r, expectPointer);
      const attributes = required(raw.attributes, at("attributes"), r, parseMappedAttributes);
      config =
        attributes === undefined
          ? undefined
          : { id, kind, attributes, ...(records === undefined ? {} : { records }) };
      break;
    }
  }
  return tracked.failed() ? undefined : config;
}

function listOf<T>(
  value: unknown,
  path: FieldPath,
  report: Report,
  check: (item: unknown, path: FieldPath, report: Report) => T | undefined,
): T[] | undefined {
  const tracked = trackReport(report);
  const items = expectList(value, path, tracked.report);
  const out = items?.map((item, i) => check(item, [...path, i], tracked.report));
  return tracked.failed() || out === undefined ? undefined : (out as T[]);
}

/**
 * An SNS topic ARN, as the `TopicArn` of the messages `topics` is compared with: a topic's name
 * alone (`orders`) or another service's ARN would make every message of the adapter 403.
 */
function expectTopicArn(value: unknown, path: FieldPath, report: Report): string | undefined {
  if (typeof value === "string" && isTopicArn(value)) return value;
  report(path, "must be an SNS topic ARN: arn:aws:sns:REGION:ACCOUNT:TOPIC");
  return undefined;
}

/** An SNS subscription ARN (`<TopicArn>:<uuid>`), of one of `topics` when they are listed. */
function expectSubscriptionArn(
  value: unknown,
  path: FieldPath,
  report: Report,
  topics: readonly string[] | undefined,
): string | undefined {
  if (typeof value !== "string" || !isSubscriptionArn(value)) {
    report(
      path,
      "must be an SNS subscription ARN: arn:aws:sns:REGION:ACCOUNT:TOPIC:UUID (lower case, as SNS writes it)",
    );
    return undefined;
  }
  if (topics !== undefined && !topics.some((topic) => isSubscriptionOf(value, topic))) {
    report(path, "is not a subscription of one of topics");
    return undefined;
  }
  return value;
}

function expectPointer(value: unknown, path: FieldPath, report: Report): string | undefined {
  if (typeof value !== "string") {
    report(path, "must be a JSON Pointer such as /order/id");
    return undefined;
  }
  const problem = jsonPointerProblem(value);
  if (problem !== undefined) report(path, `must be a JSON Pointer (RFC 6901): it ${problem}`);
  return problem === undefined ? value : undefined;
}

/**
 * `attributes:` of a mapping: attribute name -> a constant string, or
 * `{ pointer, prefix?, default? }`. `source` and `type` are required.
 */
function parseMappedAttributes(
  value: unknown,
  path: FieldPath,
  report: Report,
): Record<string, MappedValue> | undefined {
  const tracked = trackReport(report);
  const r = tracked.report;
  const object = expectObject(value, path, r);
  if (object === undefined) return undefined;
  const out: Record<string, MappedValue> = {};
  for (const name of ["source", "type"]) {
    if (!Object.hasOwn(object, name)) r([...path, name], "is required");
  }
  for (const [name, rule] of Object.entries(object)) {
    const at = [...path, name];
    const badName = checkName(name);
    if (badName !== undefined) {
      r(at, badName, { at: "key" });
      continue;
    }
    if (NOT_MAPPED.includes(name)) {
      r(at, "cannot be mapped: Herald sets it", { at: "key" });
      continue;
    }
    if (typeof rule === "string") {
      const problem = rule === "" ? "must not be empty" : valueProblem(name, rule);
      if (problem !== undefined) r(at, problem);
      else out[name] = { constant: rule };
      continue;
    }
    if (!isRawObject(rule)) {
      r(at, "must be a constant string or { pointer: /json/pointer }");
      continue;
    }
    rejectUnknownKeys(rule, ["pointer", "prefix", "default"], at, r);
    const pointer = required(rule.pointer, [...at, "pointer"], r, expectPointer);
    const prefix = optional(rule.prefix, [...at, "prefix"], r, expectString);
    const fallback = optional(rule.default, [...at, "default"], r, expectString);
    // A value that breaks the attribute's rule would refuse every payload it is used for (400
    // invalid_event), so it is a config error, named here rather than at each webhook. A prefix
    // is only part of a value; a character no attribute may hold is wrong in any of them.
    const badDefault = fallback === undefined ? undefined : valueProblem(name, fallback);
    if (badDefault !== undefined) r([...at, "default"], badDefault);
    const badPrefix = prefix === undefined ? undefined : checkString(prefix);
    if (badPrefix !== undefined) r([...at, "prefix"], badPrefix);
    if (pointer !== undefined) {
      out[name] = {
        pointer,
        ...(prefix === undefined ? {} : { prefix }),
        ...(fallback === undefined ? {} : { default: fallback }),
      };
    }
  }
  return tracked.failed() ? undefined : out;
}

/** Valid required attributes, beside which one configured value is checked. */
const PLACEHOLDERS = { specversion: "1.0", id: "x", source: "/x", type: "x" } as const;

/**
 * Why a whole configured value (a constant, a default) cannot be attribute `name`'s, by the
 * CloudEvents rules an event is checked with (`time` an RFC 3339 timestamp, `source` a
 * URI-reference, `dataschema` an absolute URI, no control characters); `undefined` when it can.
 */
function valueProblem(name: string, value: string): string | undefined {
  const violations = validateAttributes({ ...PLACEHOLDERS, [name]: value });
  return violations.find((violation) => violation.attribute === name)?.message;
}
