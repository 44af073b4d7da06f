import type { FieldPath } from "./field-path.js";
import { DEFAULT_LIMITS, DEFAULT_LISTEN, type HeraldConfig, type Limits } from "./herald-config.js";
import { listenHostProblem } from "./listen-host.js";
import { parseAdapters } from "./parse-adapters.js";
import { parseAuth } from "./parse-auth.js";
import { parseStore } from "./parse-store.js";
import { parseSubscriptionList } from "./parse-subscription-list.js";
import { type Report, trackReport } from "./report.js";
import {
  expectInteger,
  expectObject,
  expectString,
  isAbsent,
  isRawObject,
  optional,
  rejectUnknownKeys,
} from "./value-checks.js";

const TOP_LEVEL_KEYS = ["listen", "limits", "store", "auth", "subscriptions", "adapters"];

/**
 * Validates a parsed config document (DESIGN.md "Config") and normalises it into a
 * `HeraldConfig`, defaults filled in. Every problem goes to `report`; the result is `undefined`
 * when there was any. An empty document is a valid config: every default.
 *
 * @example
 * parseHeraldConfig({ listen: { port: 9000 } }, report)?.listen; // { host: "127.0.0.1", port: 9000 }
 */
export function parseHeraldConfig(raw: unknown, report: Report): HeraldConfig | undefined {
  const tracked = trackReport(report);
  const r = tracked.report;
  if (!isAbsent(raw) && !isRawObject(raw)) {
    r([], "the configuration must be an object (a YAML mapping or a JSON object)");
    return undefined;
  }
  const root = raw ?? {};
  rejectUnknownKeys(root, TOP_LEVEL_KEYS, [], r);
  const listen = parseListen(root.listen, ["listen"], r);
  const limits = parseLimits(root.limits, ["limits"], r);
  const store = parseStore(root.store, ["store"], r);
  const auth = optional(root.auth, ["auth"], r, parseAuth);
  const subscriptions = parseSubscriptionList(root.subscriptions, ["subscriptions"], r);
  const adapters = parseAdapters(root.adapters, ["adapters"], r);
  if (store?.kind === "nats" && subscriptions !== undefined) {
    checkNatsSubscriptionIds(subscriptions, r);
  }
  if (tracked.failed() || !listen || !limits || !store || !subscriptions || !adapters) {
    return undefined;
  }
  return {
    listen,
    limits,
    store,
    ...(auth === undefined ? {} : { auth }),
    subscriptions,
    adapters,
  };
}

function parseListen(
  raw: unknown,
  path: FieldPath,
  report: Report,
): HeraldConfig["listen"] | undefined {
  if (isAbsent(raw)) return DEFAULT_LISTEN;
  const tracked = trackReport(report);
  const object = expectObject(raw, path, tracked.report);
  if (object === undefined) return undefined;
  rejectUnknownKeys(object, ["host", "port"], path, tracked.report);
  const host = optional(object.host, [...path, "host"], tracked.report, (value, p, r) => {
    const text = expectString(value, p, r);
    const problem = text === undefined ? undefined : listenHostProblem(text);
    if (problem !== undefined) r(p, problem);
    return problem === undefined ? text : undefined;
  });
  // Port 0 asks the system for a free port (tests, several gateways on one machine).
  const port = optional(object.port, [...path, "port"], tracked.report, (value, p, r) =>
    expectInteger(value, p, r, 0, 65_535),
  );
  if (tracked.failed()) return undefined;
  return { host: host ?? DEFAULT_LISTEN.host, port: port ?? DEFAULT_LISTEN.port };
}

const LIMIT_KEYS = [
  "maxEventBytes",
  "maxBatchEvents",
  "maxBatchBytes",
  "maxDeliveriesInFlight",
  "maxQueuedDeliveries",
  "maxReplyHops",
] as const;

function parseLimits(raw: unknown, path: FieldPath, report: Report): Limits | undefined {
  if (isAbsent(raw)) return DEFAULT_LIMITS;
  const tracked = trackReport(report);
  const object = expectObject(raw, path, tracked.report);
  if (object === undefined) return undefined;
  rejectUnknownKeys(object, LIMIT_KEYS, path, tracked.report);
  const positive = (key: (typeof LIMIT_KEYS)[number]) =>
    optional(object[key], [...path, key], tracked.report, (value, p, r) =>
      expectInteger(value, p, r, 1),
    ) ?? DEFAULT_LIMITS[key];
  const limits = {
    maxEventBytes: positive("maxEventBytes"),
    maxBatchEvents: positive("maxBatchEvents"),
    maxBatchBytes: positive("maxBatchBytes"),
    maxDeliveriesInFlight: positive("maxDeliveriesInFlight"),
    maxQueuedDeliveries: positive("maxQueuedDeliveries"),
    maxReplyHops:
      optional(object.maxReplyHops, [...path, "maxReplyHops"], tracked.report, (value, p, r) =>
        expectInteger(value, p, r, 1, 100),
      ) ?? DEFAULT_LIMITS.maxReplyHops,
  };
  if (tracked.failed()) return undefined;
  // A batch of one event of the largest allowed size must still fit.
  if (limits.maxBatchBytes < limits.maxEventBytes) {
    const hint = isAbsent(object.maxBatchBytes)
      ? `; its default, ${DEFAULT_LIMITS.maxBatchBytes}, is smaller, so set it`
      : "";
    tracked.report([...path, "maxBatchBytes"], `must be at least limits.maxEventBytes${hint}`);
    return undefined;
  }
  return limits;
}

/**
 * Longest subscription id on NATS: its durable consumer is `h-` + the id in base64url, and
 * JetStream names are at most 255 bytes (189 bytes make 252 characters). API ids are UUIDs.
 */
const MAX_NATS_SUBSCRIPTION_ID_BYTES = 189;

/** With `store.kind: nats`, refuses the ids JetStream could not name a consumer after. */
function checkNatsSubscriptionIds(
  subscriptions: readonly { readonly id: string }[],
  report: Report,
): void {
  subscriptions.forEach(({ id }, index) => {
    if (new TextEncoder().encode(id).length <= MAX_NATS_SUBSCRIPTION_ID_BYTES) return;
    report(
      ["subscriptions", index, "id"],
      `must be at most ${MAX_NATS_SUBSCRIPTION_ID_BYTES} bytes with store.kind nats (its JetStream consumer is named after it)`,
    );
  });
}
