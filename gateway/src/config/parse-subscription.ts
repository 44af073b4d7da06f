import { checkUriReference } from "../event/attribute-rules.js";
import { unencodable } from "../event/charset.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { FieldPath } from "./field-path.js";
import { parseDelivery } from "./parse-delivery.js";
import { parseFilterList, reportNeverHeld } from "./parse-filter.js";
import { parseProtocolSettings } from "./parse-protocol-settings.js";
import { type Report, trackReport } from "./report.js";
import {
  expectHttpUrl,
  expectList,
  expectObject,
  expectString,
  isAbsent,
  optional,
  rejectUnknownKeys,
  required,
} from "./value-checks.js";

/** Subscriptions API 3.2.1 properties (`sinkcredential` refused by name), plus Herald's `delivery`. */
const SUBSCRIPTION_KEYS = [
  "id",
  "source",
  "types",
  "config",
  "filters",
  "sink",
  "sinkcredential",
  "protocol",
  "protocolsettings",
  "delivery",
];

/** 3.2.1 protocol: the other protocols with a CloudEvents binding, which Herald does not deliver over. */
const OTHER_PROTOCOLS: ReadonlySet<unknown> = new Set(["AMQP", "MQTT3", "MQTT5", "KAFKA", "NATS"]);

const SINGULAR_FILTER =
  'unknown key: spell it filters, a list of filter expressions (Subscriptions API 3.2.1; the HTTP binding placeholder of 3.3 writes "filter"): [{ "exact": { "type": "..." } }]';

const CREDENTIAL_SPELLINGS = /^sink[-_]?credentials?$/i;
const NO_CREDENTIAL =
  "send the sink's credential as a header in protocolsettings.headers (e.g. Authorization), or sign deliveries with delivery.signingSecret";
const MISSPELT_CREDENTIAL = `unknown key: the Subscriptions API's OpenAPI document spells it sinkcredential (spec.md 3.2.1 heads it sinkCredential, but every other member is lower case), which is not supported either: ${NO_CREDENTIAL}`;

/**
 * Validates one subscription in the CloudEvents Subscriptions API resource shape (spec section
 * 3.2.1) plus `delivery`, and normalises it (defaults filled in). Every problem is passed to
 * `report` with its path below `path`; the result is `undefined` when there was any. Shared by the
 * config loader and the Subscriptions API, so a subscription means the same thing in both.
 *
 * `id` is required here; an API that assigns ids on create sets it before validating. Uniqueness
 * is the caller's business (it needs the other subscriptions).
 *
 * @example
 * const issues: string[] = [];
 * const subscription = parseSubscription(
 *   { id: "thumbnails", sink: "http://127.0.0.1:9000/thumbnail", types: ["com.example.image.created"] },
 *   (path, message) => issues.push(`${formatFieldPath(path)}: ${message}`),
 * );
 * // subscription.filters: [], subscription.protocol: "HTTP", subscription.delivery.timeoutMs: 5000
 */
export function parseSubscription(
  raw: unknown,
  report: Report,
  path: FieldPath = [],
): Subscription | undefined {
  const tracked = trackReport(report);
  const r = tracked.report;
  const object = expectObject(raw, path, r);
  if (object === undefined) return undefined;
  const at = (key: string): FieldPath => [...path, key];
  // The spec's OpenAPI document spells the field `sinkcredential`, like every other member (3.2.1's
  // heading says `sinkCredential`). Other spellings (`sinkCredential`, `sinkcredentials`,
  // `sink_credential`) would be plain unknown keys whose list offers `sinkcredential`, which is
  // refused in turn: say both things at once.
  const misspelt = Object.keys(object).filter(
    (key) => key !== "sinkcredential" && CREDENTIAL_SPELLINGS.test(key),
  );
  for (const key of misspelt) r(at(key), MISSPELT_CREDENTIAL, { at: "key" });
  // The HTTP binding's placeholder (3.3) writes `"filter": { ... }`; the resource (3.2.1) has
  // `filters`, a list. A client copying 3.3 is told both, not handed the list of known keys.
  if (Object.hasOwn(object, "filter")) {
    misspelt.push("filter");
    r(at("filter"), SINGULAR_FILTER, { at: "key" });
  }
  rejectUnknownKeys(
    misspelt.length === 0
      ? object
      : Object.fromEntries(Object.entries(object).filter(([key]) => !misspelt.includes(key))),
    SUBSCRIPTION_KEYS,
    path,
    r,
  );

  const id = required(object.id, at("id"), r, parseId);
  // 3.2.1 source: "If present, MUST be a non-empty URI"; matched exactly against the event's.
  const source = optional(object.source, at("source"), r, parseSource);
  const types = optional(object.types, at("types"), r, parseTypes);
  const filters = isAbsent(object.filters)
    ? []
    : parseFilterList(object.filters, at("filters"), r, true);
  const sink = required(object.sink, at("sink"), r, expectHttpUrl);
  if (!isAbsent(object.protocol) && object.protocol !== "HTTP") {
    // 3.2.1 protocol: "Value comparisons MUST be case sensitive"; HTTP is the one Herald speaks.
    r(at("protocol"), 'must be "HTTP" (the only delivery protocol supported; case-sensitive)');
  }
  // Another protocol's settings (MQTT `topicname`, NATS `subject`: 3.2.2.2-3.2.2.5) are not judged
  // by HTTP's rules: "unknown key; expected one of: method, headers" would point at the wrong fix.
  // A misspelt HTTP (`http`) still has its settings checked: they are meant for HTTP.
  const protocolsettings = OTHER_PROTOCOLS.has(object.protocol)
    ? undefined
    : parseProtocolSettings(object.protocolsettings, at("protocolsettings"), r);
  const delivery = parseDelivery(object.delivery, at("delivery"), r);
  const config = isAbsent(object.config)
    ? undefined
    : parseConfigMap(object.config, at("config"), r);
  if (!isAbsent(object.sinkcredential)) r(at("sinkcredential"), `not supported: ${NO_CREDENTIAL}`);

  if (tracked.failed()) return undefined;
  if (!id || !sink || !filters || !protocolsettings || !delivery) return undefined;
  return {
    id,
    ...(source === undefined ? {} : { source }),
    ...(types === undefined ? {} : { types }),
    ...(config === undefined || Object.keys(config).length === 0 ? {} : { config }),
    filters,
    sink,
    protocol: "HTTP",
    protocolsettings,
    delivery,
  };
}

/**
 * A source that some event could carry: an event's `source` is a non-empty URI-reference (core
 * spec 3.1, REQUIRED Attributes), so any other text would match no event at all.
 */
function parseSource(raw: unknown, path: FieldPath, report: Report): string | undefined {
  const source = expectString(raw, path, report);
  const problem = source === undefined ? undefined : checkUriReference(source);
  if (problem === undefined) return source;
  report(path, problem);
  return undefined;
}

/**
 * 3.2.1 id: a non-empty string, and one a URL can address: `/subscriptions/{id}` with `.` or `..`
 * (even percent-encoded) is a dot segment that URL parsing removes (RFC 3986 5.2.4, WHATWG URL),
 * so GET, the dead set and redrive of such a subscription would never reach it. Well-formed
 * Unicode too (no unpaired surrogate).
 */
function parseId(raw: unknown, path: FieldPath, report: Report): string | undefined {
  const id = expectString(raw, path, report);
  if (id === "." || id === "..") {
    report(path, `must not be "${id}": /subscriptions/${id} is a dot segment no URL can address`);
    return undefined;
  }
  // A JSON config's `\ud800` escape: no URL, store row, NATS subject or `/metrics` label (all
  // UTF-8) can hold it, and each would write it as U+FFFD, so `a\ud800` and `a\udc00` would
  // be one subscription there (two series with one label set on `/metrics`).
  const bad = id === undefined ? undefined : unencodable(id, "utf-8");
  if (bad === undefined) return id;
  report(path, `must not contain ${bad}: it has no UTF-8 form`);
  return undefined;
}

/**
 * 3.2.1 types: "If present, any value present MUST a non-empty string"; an empty list matches
 * nothing, and so would a type no event can carry (a control character: see `reportNeverHeld`).
 */
function parseTypes(raw: unknown, path: FieldPath, report: Report) {
  const tracked = trackReport(report);
  const items = expectList(raw, path, tracked.report);
  const types = items?.map((item, index) => {
    const type = expectString(item, [...path, index], tracked.report);
    if (type !== undefined) reportNeverHeld(type, [...path, index], tracked.report);
    return type;
  });
  return tracked.failed() ? undefined : types?.filter((type) => type !== undefined);
}

/**
 * 3.2.1 config: a map of subscription manager defined values; "any key used in the map MUST be a
 * non-empty string", and its keys are restricted only where a Registry endpoint definition lists
 * `subscriptionconfig` keys, which Herald publishes none of. So any map with non-empty keys is
 * valid input (the spec's own example has `{ "data": "hello", "interval": 5 }`): it is kept and
 * shown as sent. Herald acquires no events (it routes what publishers send), so no key changes
 * what it does.
 */
function parseConfigMap(
  raw: unknown,
  path: FieldPath,
  report: Report,
): Readonly<Record<string, unknown>> | undefined {
  const object = expectObject(raw, path, report);
  if (object === undefined) return undefined;
  const entries = Object.entries(object);
  let failed = false;
  for (const [key] of entries) {
    if (key !== "") continue;
    report([...path, key], "keys must not be empty (Subscriptions API 3.2.1 config)", {
      at: "key",
    });
    failed = true;
  }
  // JSON reads 1e400 as Infinity, which the store would write back as null: refused, not changed.
  const odd = entries.find(([, value]) => holdsNonFinite(value));
  if (odd !== undefined) {
    report([...path, odd[0]], "numbers must be finite: the value would not read back as sent");
    failed = true;
  }
  // fromEntries defines own properties, so a `__proto__` key stays a plain key.
  return failed ? undefined : Object.fromEntries(entries);
}

/** Whether a JSON-like value holds a number JSON cannot write (Infinity, NaN) at any depth. */
function holdsNonFinite(value: unknown): boolean {
  if (typeof value === "number") return !Number.isFinite(value);
  if (typeof value !== "object" || value === null) return false;
  return Object.values(value).some(holdsNonFinite);
}
