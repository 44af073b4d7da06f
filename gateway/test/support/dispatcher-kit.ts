import type { Deliverer, DeliveryAttempt } from "../../src/deliver/deliverer.js";
import type { DeliveryOutcome } from "../../src/deliver/delivery-outcome.js";
import type { DeliveryJob, DeliveryQueue } from "../../src/deliver/delivery-queue.js";
import type { Settle } from "../../src/deliver/settle.js";
import type { CloudEvent } from "../../src/event/cloud-event.js";
import type { Logger } from "../../src/ports/logger.js";
import type { DeliverySettings, Subscription } from "../../src/subscriptions/subscription.js";

/** A subscription for dispatcher tests; `delivery` overrides the defaults. */
export const subscription = (
  id: string,
  delivery: Partial<DeliverySettings> = {},
  sink = "http://127.0.0.1:9/hook",
): Subscription => ({
  id,
  filters: [],
  sink,
  protocol: "HTTP",
  protocolsettings: { headers: {} },
  delivery: { mode: "binary", timeoutMs: 5_000, ...delivery },
});

export const event = (id: string): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/orders", type: "com.example.order.created" },
});

export const events = (prefix: string, n: number): CloudEvent[] =>
  Array.from({ length: n }, (_, i) => event(`${prefix}${i}`));

export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Lets every pending callback run: a turn of the event loop, not a timed wait. */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Several turns of the event loop (promise chains through a queue and a settle). */
export async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, fields });
  };
  return { lines, debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

/** A deliverer that answers from `answer` and records each attempt (id, event ids, subscription). */
export function fakeDeliverer(
  answer: (
    attempt: DeliveryAttempt,
    subscription: Subscription,
  ) => Promise<DeliveryOutcome> | DeliveryOutcome,
) {
  const attempts: { id: string; events: string[]; subscriptionId: string }[] = [];
  const deliverer: Deliverer = {
    async deliver(attempt, sub) {
      attempts.push({
        id: attempt.id,
        events: attempt.events.map((e) => String(e.attributes.id)),
        subscriptionId: sub.id,
      });
      return answer(attempt, sub);
    },
  };
  /** Event ids delivered, in order. */
  const seen = () => attempts.flatMap((a) => a.events);
  return { deliverer, attempts, seen };
}

export const delivered: DeliveryOutcome = { kind: "delivered", status: 202 };

/** A settle that completes every job and records what it was given. */
export function recordingSettle(queue: Pick<DeliveryQueue, "complete">) {
  const settled: { jobs: DeliveryJob[]; outcome: DeliveryOutcome; subscriptionId: string }[] = [];
  const settle: Settle = async (jobs, outcome, sub) => {
    settled.push({ jobs: [...jobs], outcome, subscriptionId: sub.id });
    for (const job of jobs) await queue.complete(job.id);
  };
  return { settle, settled };
}

/**
 * A minimal HTTP deliverer over a real `SinkClient` (the gateway's own is tested on its own): one
 * POST per attempt with the event ids in `ce-id` (comma-separated for a batch); 2xx delivered,
 * anything else or no answer a retry.
 */
export function plainHttpDeliverer(
  client: import("../../src/deliver/sink-client.js").SinkClient,
): Deliverer {
  return {
    async deliver(attempt, sub) {
      try {
        const answer = await client.send(
          {
            url: sub.sink,
            method: "POST",
            headers: { "ce-id": attempt.events.map((e) => String(e.attributes.id)).join(",") },
            body: "{}",
          },
          sub.delivery.timeoutMs,
        );
        return answer.status < 300
          ? { kind: "delivered", status: answer.status }
          : { kind: "retry", status: answer.status, error: "not 2xx" };
      } catch (err) {
        return { kind: "retry", status: 0, error: String(err) };
      }
    },
  };
}

/** A real sink on 127.0.0.1 that holds every request until `release()`, counting those open. */
export async function startHoldingSink() {
  const { createServer } = await import("node:http");
  const held: import("node:http").ServerResponse[] = [];
  let open = 0;
  let maxOpen = 0;
  let received = 0;
  let releasing = false;
  let waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      open++;
      maxOpen = Math.max(maxOpen, open);
      res.on("finish", () => {
        open--;
      });
      if (releasing) res.writeHead(204).end();
      else held.push(res);
      waiters = waiters.filter((w) => {
        if (received < w.count) return true;
        w.resolve();
        return false;
      });
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as import("node:net").AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received: () => received,
    open: () => open,
    maxOpen: () => maxOpen,
    /** Resolves once `count` requests have arrived in total. */
    waitFor(count: number): Promise<void> {
      if (received >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    /** Answers every held request, and from now on answers at once. */
    release() {
      releasing = true;
      for (const res of held.splice(0)) res.writeHead(204).end();
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
