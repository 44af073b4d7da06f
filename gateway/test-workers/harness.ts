// `env` of cloudflare:test: the same object as cloudflare:workers' (which has no types without
// @cloudflare/workers-types, whose globals clash with the DOM types the gateway compiles with).
import {
  createExecutionContext,
  createMessageBatch,
  getQueueResult,
  env as workerEnv,
} from "cloudflare:test";
import type {
  D1Database,
  D1Statement,
  QueueMessage,
  QueueProducer,
  QueueSendRequest,
} from "../src/adapters/workers/cloudflare-bindings.js";
import {
  createHeraldWorker,
  type HeraldWorker,
  type HeraldWorkerEnv,
  type HeraldWorkerOptions,
} from "../src/adapters/workers/create-herald-worker.js";
import type { DeliveryMessage } from "../src/adapters/workers/delivery-message.js";

/** The bindings of vitest.workers.config.ts. */
export const bindings = workerEnv as unknown as {
  HERALD_DB: D1Database;
  HERALD_DELIVERIES: QueueProducer<DeliveryMessage>;
};

/** Empties Herald's tables (they are created by the first worker or store of a test file). */
export async function resetDatabase(): Promise<void> {
  const db = bindings.HERALD_DB;
  const tables = await db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('subscriptions', 'disabled', 'disabled_config', 'accepted', 'dead')",
    )
    .all<{ name: string }>();
  if (tables.results.length > 0) {
    await db.batch(tables.results.map((t) => db.prepare(`DELETE FROM ${t.name}`)));
  }
}

/** The real Queue binding, recording every message sent through it. */
export function recordingQueue(): QueueProducer<DeliveryMessage> & { sent: DeliveryMessage[] } {
  const sent: DeliveryMessage[] = [];
  const real = bindings.HERALD_DELIVERIES;
  return {
    sent,
    async send(body, options) {
      await real.send(body, options);
      sent.push(body);
    },
    async sendBatch(messages: Iterable<QueueSendRequest<DeliveryMessage>>) {
      const list = [...messages];
      await real.sendBatch(list);
      sent.push(...list.map((m) => m.body));
    },
  };
}

/** A sink behind an injected `fetch`: records each request, answers with `answer` (default 204). */
export function scriptedSink(
  answer: (request: Request) => Response = () => new Response(null, { status: 204 }),
) {
  const requests: { url: string; headers: Headers; body: string }[] = [];
  return {
    requests,
    async fetch(request: Request): Promise<Response> {
      requests.push({ url: request.url, headers: request.headers, body: await request.text() });
      return answer(request);
    },
  };
}

const hasAuth = (config: unknown) =>
  typeof config === "object" && config !== null && "auth" in config;

/** A Herald Worker over this file's D1 database and a recording queue, with `config`. */
export function testWorker(
  config: unknown,
  options: HeraldWorkerOptions & { vars?: Record<string, string> } = {},
) {
  const queue = recordingQueue();
  const env: HeraldWorkerEnv = {
    HERALD_DB: bindings.HERALD_DB,
    HERALD_DELIVERIES: queue,
    HERALD_CONFIG: JSON.stringify(config),
    HERALD_LOG_LEVEL: "silent",
    // A config without `auth` needs the dev switch, as `herald serve` needs --no-auth.
    ...(hasAuth(config) ? {} : { HERALD_NO_AUTH: "true" }),
    ...options.vars,
  };
  const worker: HeraldWorker = createHeraldWorker({ random: () => 0.5, ...options });
  return {
    worker,
    env,
    queue,
    request: (path: string, init?: RequestInit) =>
      worker.fetch(new Request(`http://herald.test${path}`, init), env),
    /** Hands `bodies` to `queue()` as one batch; resolves with what it did to each message. */
    async consume(
      bodies: readonly DeliveryMessage[],
      { attempts = 1, queueName = "herald-test-deliveries" } = {},
    ) {
      const batch = createMessageBatch<DeliveryMessage>(
        queueName,
        bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts, body })),
      );
      // getQueueResult does not report retry delays: record them on the way through.
      const delays = new Map<string, number | undefined>();
      const seen = {
        queue: batch.queue,
        messages: (batch.messages as QueueMessage<DeliveryMessage>[]).map((m) => ({
          id: m.id,
          timestamp: m.timestamp,
          attempts: m.attempts,
          body: m.body,
          ack: () => m.ack(),
          retry(options?: { delaySeconds?: number }) {
            delays.set(m.id, options?.delaySeconds);
            m.retry(options);
          },
        })),
      };
      const ctx = createExecutionContext();
      await worker.queue(seen, env, ctx);
      const result = await getQueueResult(batch, ctx);
      return {
        explicitAcks: result.explicitAcks,
        retryMessages: (result.retryMessages as { msgId: string }[]).map(({ msgId }) => {
          const delaySeconds = delays.get(msgId);
          return delaySeconds === undefined ? { msgId } : { msgId, delaySeconds };
        }),
      };
    },
  };
}

/** A binary-mode event request. */
export function binaryEvent(id: string, extra: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: {
      "ce-specversion": "1.0",
      "ce-id": id,
      "ce-source": "/orders",
      "ce-type": "com.example.order.created",
      "content-type": "application/json",
      ...extra,
    },
    body: JSON.stringify({ orderId: id }),
  };
}

/**
 * The real D1 binding, except that while `failing(sql)` holds for a statement's SQL, running it
 * (alone or in a `batch`) rejects as D1 does when it is unreachable or overloaded.
 */
export function flakyDatabase(failing: (sql: string) => boolean): D1Database {
  const real = bindings.HERALD_DB;
  const outage = () => Promise.reject(new Error("D1_ERROR: simulated outage"));
  const sqlOf = new WeakMap<object, { sql: string; statement: D1Statement }>();
  const wrap = (sql: string, statement: D1Statement): D1Statement => {
    const wrapped: D1Statement = {
      bind: (...values) => wrap(sql, statement.bind(...values)),
      all: () => (failing(sql) ? outage() : statement.all()),
      run: () => (failing(sql) ? outage() : statement.run()),
      first: () => (failing(sql) ? outage() : statement.first()),
    } as D1Statement;
    sqlOf.set(wrapped, { sql, statement });
    return wrapped;
  };
  return {
    prepare: (sql) => wrap(sql, real.prepare(sql)),
    batch(statements) {
      const inner = statements.map((s) => sqlOf.get(s) ?? { sql: "", statement: s });
      if (inner.some(({ sql }) => failing(sql))) return outage();
      return real.batch(inner.map(({ statement }) => statement));
    },
  };
}

/**
 * The real D1 binding, adding up the rows each statement read (`meta.rows_read`, what D1 bills
 * and what a statement without a usable index grows with) in `rowsRead`, and keeping the most
 * rows one statement wrote (`meta.rows_written`, indexes included) in `mostRowsWritten`, since
 * `reset()`.
 */
export function countingDatabase(): D1Database & {
  rowsRead: number;
  mostRowsWritten: number;
  reset(): void;
} {
  const real = bindings.HERALD_DB;
  const inner = new WeakMap<object, D1Statement>();
  const read = (result: { meta: object }) => {
    const meta = result.meta as { rows_read?: number; rows_written?: number };
    counting.rowsRead += meta.rows_read ?? 0;
    counting.mostRowsWritten = Math.max(counting.mostRowsWritten, meta.rows_written ?? 0);
  };
  const wrap = (statement: D1Statement): D1Statement => {
    const wrapped: D1Statement = {
      bind: (...values) => wrap(statement.bind(...values)),
      async all<Row>() {
        const result = await statement.all<Row>();
        read(result);
        return result;
      },
      async run() {
        const result = await statement.run();
        read(result);
        return result;
      },
      // `first` answers no meta: read through `all`.
      async first<Row>() {
        const result = await statement.all<Row>();
        read(result);
        return result.results[0] ?? null;
      },
    };
    inner.set(wrapped, statement);
    return wrapped;
  };
  const counting = {
    rowsRead: 0,
    mostRowsWritten: 0,
    reset() {
      counting.rowsRead = 0;
      counting.mostRowsWritten = 0;
    },
    prepare: (sql: string) => wrap(real.prepare(sql)),
    async batch<Row>(statements: D1Statement[]) {
      const results = await real.batch<Row>(statements.map((s) => inner.get(s) ?? s));
      for (const result of results) read(result);
      return results;
    },
  };
  return counting;
}
