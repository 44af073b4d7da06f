import type { D1Database, QueueProducer } from "./cloudflare-bindings.js";
import type { DeliveryMessage } from "./delivery-message.js";

/** The bindings the Worker cannot run without, checked. */
export interface WorkerBindings {
  readonly db: D1Database;
  readonly deliveries: QueueProducer<DeliveryMessage>;
}

const hasMethods = (value: unknown, names: readonly string[]): boolean =>
  typeof value === "object" &&
  value !== null &&
  names.every((name) => typeof (value as Record<string, unknown>)[name] === "function");

/** Why `value` is not the binding asked for (one with `methods`), for the message. */
function wrong(name: string, kind: string, value: unknown, methods: readonly string[]) {
  if (hasMethods(value, methods)) return [];
  const found =
    value === undefined
      ? "nothing is bound to that name"
      : typeof value === "string"
        ? "it is a variable (a [vars] entry or a secret of that name)"
        : `it is another kind of binding (no ${methods.join(" and ")})`;
  return [`${name} must be a ${kind} binding, but ${found}`];
}

/**
 * Checks `HERALD_DB` (D1) and `HERALD_DELIVERIES` (a Queue producer) before the gateway is built,
 * so a Worker deployed without them, or with a variable of the same name, says which binding is
 * wrong and why, instead of failing on its first publish with "sendBatch is not a function".
 *
 * @example
 * const { db, deliveries } = checkBindings(env); // throws TypeError naming HERALD_DELIVERIES
 */
export function checkBindings(env: {
  readonly HERALD_DB?: unknown;
  readonly HERALD_DELIVERIES?: unknown;
}): WorkerBindings {
  const problems = [
    ...wrong("HERALD_DB", "D1 database", env.HERALD_DB, ["prepare", "batch"]),
    ...wrong("HERALD_DELIVERIES", "Queue producer", env.HERALD_DELIVERIES, ["send", "sendBatch"]),
  ];
  if (problems.length > 0) {
    throw new TypeError(
      `the Worker's bindings are wrong (see wrangler.toml: [[d1_databases]] and [[queues.producers]]): ${problems.join("; ")}`,
    );
  }
  return {
    db: env.HERALD_DB as D1Database,
    deliveries: env.HERALD_DELIVERIES as QueueProducer<DeliveryMessage>,
  };
}
