import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import type {
  D1Database,
  D1Statement,
  QueueMessage,
  QueueProducer,
  QueueSendRequest,
} from "../src/adapters/workers/cloudflare-bindings.js";
import type { HeraldWorkerEnv } from "../src/adapters/workers/create-herald-worker.js";
import type { DeliveryMessage } from "../src/adapters/workers/delivery-message.js";
import { bindings, resetDatabase, scriptedSink, testWorker } from "./harness.js";

beforeEach(resetDatabase);

/*
 * What one invocation of the Worker asks of the platform, counted through its bindings, against
 * Cloudflare's documented limits (developers.cloudflare.com/d1/platform/limits,
 * /queues/platform/limits, /workers/platform/limits), which workerd and Miniflare do not enforce.
 */
const D1 = { boundParameters: 100, statementBytes: 100_000, valueBytes: 2_000_000 };
const QUEUES = {
  messageBytes: 128_000,
  batchMessages: 100,
  batchBytes: 256_000,
  metadataBytes: 100,
};

/** What D1 answers past its queries per invocation (50 on Workers Free, 1,000 on Paid). */
const TOO_MANY = "D1_ERROR: Too many API requests by single worker invocation.";

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).byteLength;

/** One invocation's calls through the bindings. */
interface Meter {
  /** D1 calls after which D1 refuses as it does past its queries per invocation (none: no cap). */
  d1Cap?: number;
  /** D1 round trips (`run`/`all`/`first`, or one `batch`): each is a query of the invocation. */
  d1Calls: number;
  /** Statements, a batch's counted one by one. */
  d1Statements: number;
  queueCalls: number;
  fetches: number;
  reset(): void;
}

function meter(): Meter {
  return {
    d1Calls: 0,
    d1Statements: 0,
    queueCalls: 0,
    fetches: 0,
    reset() {
      this.d1Calls = 0;
      this.d1Statements = 0;
      this.queueCalls = 0;
      this.fetches = 0;
    },
  };
}

/** Throws as D1 would for a statement past its limits. */
function checkStatement(sql: string, values: readonly unknown[]): void {
  if (bytes(sql) > D1.statementBytes) throw new Error(`SQL statement of ${bytes(sql)} bytes`);
  if (values.length > D1.boundParameters) throw new Error(`${values.length} bound parameters`);
  for (const value of values) {
    if (typeof value === "string" && bytes(value) > D1.valueBytes) {
      throw new Error(`a bound string of ${bytes(value)} bytes`);
    }
  }
}

/** The real D1 binding, counted and held to D1's statement limits. */
function meteredDatabase(m: Meter): D1Database {
  const real = bindings.HERALD_DB;
  const inner = new WeakMap<object, D1Statement>();
  const wrap = (sql: string, statement: D1Statement, values: unknown[]): D1Statement => {
    const call = <T>(run: () => Promise<T>) => {
      checkStatement(sql, values);
      if (m.d1Cap !== undefined && m.d1Calls >= m.d1Cap) return Promise.reject(new Error(TOO_MANY));
      m.d1Calls += 1;
      m.d1Statements += 1;
      return run();
    };
    const wrapped = {
      bind: (...more: unknown[]) => wrap(sql, statement.bind(...more), more),
      all: () => call(() => statement.all()),
      run: () => call(() => statement.run()),
      first: () => call(() => statement.first()),
    } as D1Statement;
    inner.set(wrapped, statement);
    checkStatement(sql, values);
    return wrapped;
  };
  return {
    prepare: (sql) => wrap(sql, real.prepare(sql), []),
    batch(statements) {
      if (m.d1Cap !== undefined && m.d1Calls >= m.d1Cap) return Promise.reject(new Error(TOO_MANY));
      m.d1Calls += 1;
      m.d1Statements += statements.length;
      return real.batch(statements.map((s) => inner.get(s) ?? s));
    },
  };
}

/** The real queue producer, counted and held to Queues' limits (with their ~100 bytes of metadata). */
function meteredQueue(m: Meter): QueueProducer<DeliveryMessage> & { sent: DeliveryMessage[] } {
  const real = bindings.HERALD_DELIVERIES;
  const sent: DeliveryMessage[] = [];
  const size = (body: DeliveryMessage) => bytes(JSON.stringify(body)) + QUEUES.metadataBytes;
  return {
    sent,
    async send(body, options) {
      m.queueCalls += 1;
      if (size(body) > QUEUES.messageBytes) throw new Error(`a message of ${size(body)} bytes`);
      await real.send(body, options);
      sent.push(body);
    },
    async sendBatch(messages: Iterable<QueueSendRequest<DeliveryMessage>>) {
      m.queueCalls += 1;
      const list = [...messages];
      const total = list.reduce((sum, { body }) => sum + size(body), 0);
      if (list.length > QUEUES.batchMessages) throw new Error(`a batch of ${list.length} messages`);
      if (total > QUEUES.batchBytes) throw new Error(`a batch of ${total} bytes`);
      await real.sendBatch(list);
      sent.push(...list.map(({ body }) => body));
    },
  };
}

/** A worker whose bindings and outbound fetch are metered. */
function metered(config: unknown, answer?: (request: Request) => Response) {
  const m = meter();
  const sink = scriptedSink(answer);
  const gw = testWorker(config, {
    fetch: (request) => {
      m.fetches += 1;
      return sink.fetch(request);
    },
  });
  const queue = meteredQueue(m);
  const env: HeraldWorkerEnv = {
    ...gw.env,
    HERALD_DB: meteredDatabase(m),
    HERALD_DELIVERIES: queue,
  };
  return {
    m,
    env,
    sink,
    queue,
    request: (path: string, init?: RequestInit) =>
      gw.worker.fetch(new Request(`http://herald.test${path}`, init), env),
    async consume(bodies: readonly DeliveryMessage[], queueName = "herald-test-deliveries") {
      const batch = createMessageBatch<DeliveryMessage>(
        queueName,
        bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
      );
      const ctx = createExecutionContext();
      await gw.worker.queue(
        batch as unknown as { queue: string; messages: QueueMessage[] },
        env,
        ctx,
      );
      return getQueueResult(batch, ctx);
    },
  };
}

const SINK = "http://sink.test/events";
const DLS = "http://dead.test/letters";

const eventsOf = (n: number, prefix: string, extra: Record<string, unknown> = {}) =>
  Array.from({ length: n }, (_, i) => ({
    specversion: "1.0",
    id: `${prefix}-${String(i).padStart(3, "0")}`,
    source: "/orders",
    type: "com.example.order.created",
    data: { i },
    ...extra,
  }));
const publishBatch = (events: unknown[]): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/cloudevents-batch+json" },
  body: JSON.stringify(events),
});
/** A sink that answers every delivery 200 with a reply event (`delivery.reply`). */
const replying = () =>
  new Response(null, {
    headers: {
      "ce-specversion": "1.0",
      "ce-id": crypto.randomUUID(),
      "ce-source": "/billing",
      "ce-type": "com.example.billed",
    },
  });

/** The worst cases of one message: delivered with a reply and a receipt, or failed to a DLS that fails. */
const WORST = [
  {
    name: "delivered, with a reply event and a receipt",
    delivery: { reply: true, receipts: true },
    answer: replying,
  },
  {
    name: "failed, to a deadLetterSink that fails too, kept as dead, with a receipt",
    delivery: { retry: 0, receipts: true, deadLetterSink: DLS },
    answer: () => new Response(null, { status: 500 }),
  },
];

/** A metered worker with subscription `s`, and the queue messages of `n` published events. */
async function queued(
  n: number,
  delivery: Record<string, unknown>,
  answer: (r: Request) => Response,
) {
  const w = metered(
    { limits: { maxBatchEvents: 1000 }, subscriptions: [{ id: "s", sink: SINK, delivery }] },
    answer,
  );
  expect((await w.request("/events", publishBatch(eventsOf(n, "e")))).status).toBe(202);
  const bodies = w.queue.sent.slice();
  expect(bodies).toHaveLength(n);
  w.m.reset();
  return { w, bodies };
}

describe("one queue() invocation within the platform's per-invocation limits", () => {
  for (const { name, delivery, answer } of WORST) {
    it(`a batch of wrangler.toml's max_batch_size (10), each ${name}: within Workers Free (50 D1 queries, 50 fetches)`, async () => {
      const { w, bodies } = await queued(10, delivery, answer);
      const result = await w.consume(bodies);
      expect(result.explicitAcks).toHaveLength(10);
      // At most 4 D1 queries, 2 queue sends and 2 fetches a message, and 2 for the batch.
      expect(w.m.d1Calls).toBeLessThanOrEqual(4 * 10 + 2);
      expect(w.m.d1Calls).toBeLessThanOrEqual(50);
      expect(w.m.fetches).toBeLessThanOrEqual(50);
      expect(w.m.d1Calls + w.m.queueCalls + w.m.fetches).toBeLessThanOrEqual(1000);
    });

    it(`a batch of Queues' largest (100), each ${name}: within Workers Paid (1,000 D1 queries and subrequests)`, async () => {
      const { w, bodies } = await queued(100, delivery, answer);
      const result = await w.consume(bodies);
      expect(result.explicitAcks).toHaveLength(100);
      expect(w.m.d1Calls).toBeLessThanOrEqual(4 * 100 + 2);
      expect(w.m.d1Calls + w.m.queueCalls + w.m.fetches).toBeLessThanOrEqual(1000);
    });
  }

  it("past D1's queries per invocation, the messages not settled are retried, none acknowledged unsettled", async () => {
    const { w, bodies } = await queued(10, { receipts: true, reply: true }, replying);
    w.m.d1Cap = 20;
    const result = await w.consume(bodies);
    const retried = (result.retryMessages as { msgId: string }[]).map(({ msgId }) => msgId);
    expect(retried.length).toBeGreaterThan(0);
    // Every message is settled one way or the other: acked (delivered and its events accepted)
    // or retried; the queue's max_retries and dead-letter queue take it from there.
    expect([...result.explicitAcks, ...retried].sort()).toStrictEqual(
      bodies.map((_, i) => `m${i}`).sort(),
    );
    expect(result.explicitAcks.filter((id: string) => retried.includes(id))).toStrictEqual([]);
  });
});

describe("the intake within Queues' and D1's limits", () => {
  it("a sendBatch of 100 messages of 2.5 KB is split: 256 KB counting Queues' metadata per message", async () => {
    const w = metered({
      limits: { maxBatchEvents: 1000 },
      subscriptions: [{ id: "s", sink: SINK }],
    });
    // A message of about 2,480 bytes: 100 of them are 248,000 bytes of bodies, 258,000 counted.
    expect((await w.request("/events", publishBatch(eventsOf(1, "probe")))).status).toBe(202);
    const probe = bytes(JSON.stringify(w.queue.sent[0]));
    const pad = "x".repeat(2_480 - probe);
    w.m.reset();
    const answer = await w.request(
      "/events",
      publishBatch(eventsOf(100, "full", { data: { i: 0, pad } })),
    );
    expect(answer.status).toBe(202);
    expect(w.queue.sent).toHaveLength(101);
    expect(w.m.queueCalls).toBe(2);
  });

  it("a batch whose dedupe keys pass D1's 2 MB per bound string is accepted, and deduplicated", async () => {
    const w = metered({
      limits: { maxBatchEvents: 1000, maxBatchBytes: 4_194_304 },
      subscriptions: [{ id: "s", sink: SINK }],
    });
    // 100 ids of 25,000 characters: each event fits a queue message, their keys are 2.5 MB.
    const events = eventsOf(100, "k").map((e) => ({ ...e, id: `${e.id}-${"k".repeat(25_000)}` }));
    const first = await w.request("/events", publishBatch(events));
    expect(first.status).toBe(202);
    expect(w.queue.sent).toHaveLength(100);
    // The consumer finds every acceptance.
    const result = await w.consume(w.queue.sent.slice(0, 100));
    expect(result.explicitAcks).toHaveLength(100);
    // Sent again: all of it is taken for duplicates, nothing more is queued.
    const again = await w.request("/events", publishBatch(events));
    expect(again.status).toBe(202);
    expect(w.queue.sent).toHaveLength(100);
  });
});

describe("the dead set within D1's queries per invocation", () => {
  /** `n` dead jobs of subscription `s`, made by copying one buried job in SQL. */
  async function deadJobs(n: number, data: unknown = { i: 0 }) {
    const w = metered(
      { subscriptions: [{ id: "s", sink: SINK, delivery: { retry: 0 } }] },
      () => new Response(null, { status: 400 }),
    );
    const published = publishBatch(eventsOf(1, "dead", { data }));
    expect((await w.request("/events", published)).status).toBe(202);
    await w.consume(w.queue.sent.slice());
    await bindings.HERALD_DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
       INSERT INTO dead (job_id, subscription_id, body, attempts, failure)
       SELECT job_id || '-' || i, subscription_id, body, attempts, failure FROM dead, n`,
    )
      .bind(n - 1)
      .run();
    w.queue.sent.length = 0;
    w.m.reset();
    return w;
  }

  it("a dead page of 1,000 reads D1 a bounded number of times", async () => {
    const w = await deadJobs(1_000);
    const page = await w.request("/subscriptions/s/dead?limit=1000");
    expect(page.status).toBe(200);
    expect(((await page.json()) as { items: unknown[] }).items).toHaveLength(1_000);
    expect(w.m.d1Calls).toBeLessThanOrEqual(5);
  });

  it("a dead page of large events stops at about 4 MiB of JSON (128 MB of memory), and paging on lists them all", async () => {
    const w = await deadJobs(60, "x".repeat(100_000));
    const seen: string[] = [];
    let after = "";
    let pages = 0;
    for (;;) {
      const page = await w.request(`/subscriptions/s/dead?limit=1000${after}`);
      expect(page.status).toBe(200);
      const text = await page.text();
      expect(text.length).toBeLessThanOrEqual(4 * 1024 * 1024 + 200_000);
      const { items, next } = JSON.parse(text) as { items: { jobId: string }[]; next?: string };
      seen.push(...items.map((item) => item.jobId));
      pages += 1;
      if (next === undefined) break;
      after = `&after=${encodeURIComponent(next)}`;
    }
    expect(pages).toBe(2);
    expect(new Set(seen).size).toBe(60);
  });

  it("a redrive past Workers Free's 50 D1 queries answers 503 problem+json, and the next call goes on; no job lost", async () => {
    const total = 3_000;
    const w = await deadJobs(total);
    w.m.d1Cap = 50;
    const first = await w.request("/subscriptions/s/redrive", { method: "POST" });
    expect(first.status).toBe(503);
    expect(first.headers.get("content-type")).toBe("application/problem+json");
    expect(await first.json()).toMatchObject({ code: "unavailable" });
    const sentFirst = w.queue.sent.length;
    expect(sentFirst).toBeGreaterThan(0);
    const left = await bindings.HERALD_DB.prepare("SELECT COUNT(*) AS n FROM dead").first<{
      n: number;
    }>();
    expect(left!.n + sentFirst).toBeGreaterThanOrEqual(total);
    // Each call is its own invocation, with its own count.
    for (let calls = 0; calls < 10; calls++) {
      w.m.reset();
      const next = await w.request("/subscriptions/s/redrive", { method: "POST" });
      if (next.status === 200) break;
      expect(next.status).toBe(503);
    }
    // Each job sent (one cut off between its send and its removal would be sent twice, by design).
    const jobs = new Set(w.queue.sent.map((m) => m.job));
    expect(jobs.size).toBe(total);
    expect(await (await w.request("/subscriptions/s/dead")).json()).toStrictEqual({ items: [] });
  });
});

describe("outbound requests within Workers' six connections waiting for headers", () => {
  /**
   * A sink that holds each request until six are waiting (or all that are left of `total`),
   * then answers them a moment later; `most` is the most that waited at once. With six or fewer
   * in flight a seventh never comes, whatever the moment; with more, it arrives in that moment
   * (the moment is only a window to see a seventh in, never what a passing run waits for).
   */
  function holdingSink(total: number, answer: () => Response) {
    let waiting = 0;
    let finished = 0;
    let held: (() => void)[] = [];
    const state = { most: 0 };
    const check = () => {
      if (held.length > 0 && held.length >= Math.min(6, total - finished)) {
        const releasing = held;
        held = [];
        setTimeout(() => {
          for (const release of releasing) release();
        }, 50);
      }
    };
    return {
      state,
      async fetch(request: Request): Promise<Response> {
        waiting += 1;
        state.most = Math.max(state.most, waiting);
        await request.arrayBuffer();
        await new Promise<void>((resolve) => {
          held.push(resolve);
          check();
        });
        waiting -= 1;
        finished += 1;
        check();
        return answer();
      },
    };
  }

  async function run(queueName: string, answer: () => Response, delivery: Record<string, unknown>) {
    const total = 10;
    const sink = holdingSink(total, answer);
    const gw = testWorker(
      { subscriptions: [{ id: "s", sink: SINK, delivery: { concurrency: 16, ...delivery } }] },
      { fetch: sink.fetch },
    );
    expect((await gw.request("/events", publishBatch(eventsOf(total, "c")))).status).toBe(202);
    const result = await gw.consume(gw.queue.sent.slice(), { queueName });
    expect(result.explicitAcks).toHaveLength(total);
    return sink.state.most;
  }

  it("a batch of 10 to one sink (its concurrency 16, maxDeliveriesInFlight 32): at most 6 requests at once", async () => {
    // A seventh would wait for a connection with its timeout already running.
    expect(await run("herald-test-deliveries", () => new Response(null, { status: 204 }), {})).toBe(
      6,
    );
  });

  it("a batch from the dead-letter queue to a deadLetterSink: at most 6 requests at once", async () => {
    const most = await run("herald-deliveries-dlq", () => new Response(null, { status: 204 }), {
      deadLetterSink: DLS,
    });
    expect(most).toBe(6);
  });
});

describe("retries within the delivery queue's retention", () => {
  it("a retry due less than Queues' 60 s batch wait before its message expires ends the job now, never lost", async () => {
    const sink = scriptedSink((request) =>
      request.url === DLS
        ? new Response(null, { status: 202 })
        : new Response("busy", { status: 503, headers: { "retry-after": "80" } }),
    );
    const gw = testWorker(
      {
        subscriptions: [
          { id: "s", sink: SINK, delivery: { retry: 3, backoffDelay: "1s", deadLetterSink: DLS } },
        ],
      },
      // A queue that keeps messages two minutes: due at 80 s, a consumer whose
      // max_batch_timeout is 60 s may take it up at 140 s, after the message is gone.
      { fetch: sink.fetch, vars: { HERALD_QUEUE_RETENTION_SECONDS: "120" } },
    );
    expect((await gw.request("/events", publishBatch(eventsOf(1, "late")))).status).toBe(202);
    const result = await gw.consume(gw.queue.sent);
    expect(result.retryMessages).toStrictEqual([]);
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests.filter((r) => r.url === DLS)).toHaveLength(1);
  });
});

describe("the stored subscriptions within what an isolate loads", () => {
  it("a subscription that would take them past 8,000,000 characters is 409 problem+json; deleting one makes room", async () => {
    const gw = testWorker({ subscriptions: [] });
    const post = (body: unknown) =>
      gw.request("/subscriptions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const created = await post({ sink: SINK });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    // Five large ones written as another Herald would have (each past the API's 64 KiB body).
    const row = await bindings.HERALD_DB.prepare("SELECT body FROM subscriptions WHERE id = ?")
      .bind(id)
      .first<{ body: string }>();
    const db = bindings.HERALD_DB;
    await db.batch([
      ...Array.from({ length: 5 }, (_, i) => {
        const big = {
          ...JSON.parse(row!.body),
          id: `big-${i}`,
          filters: [{ exact: { type: "x".repeat(1_600_000) } }],
        };
        return db
          .prepare("INSERT INTO subscriptions (id, body) VALUES (?, ?)")
          .bind(big.id, JSON.stringify(big));
      }),
      db.prepare("UPDATE generation SET value = value + 1 WHERE id = 1"),
    ]);
    const refused = await post({ sink: SINK });
    expect(refused.status).toBe(409);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(await refused.json()).toMatchObject({ code: "conflict" });
    expect((await gw.request("/subscriptions/big-0", { method: "DELETE" })).status).toBe(200);
    expect((await post({ sink: SINK })).status).toBe(201);
  });
});

describe("an event larger than a queue message, whatever limits.maxEventBytes says", () => {
  it("an event whose source and id alone pass a queue message is 413, not a D1 failure", async () => {
    const w = metered({
      limits: { maxEventBytes: 4_194_304, maxBatchBytes: 4_194_304 },
      subscriptions: [{ id: "s", sink: SINK, filters: [{ exact: { type: "matches.nothing" } }] }],
    });
    // Matched by no subscription, so no queue message is made; its dedupe key (2.1 MB) is
    // still past D1's 2 MB per bound string.
    const answer = await w.request("/events", {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify({ ...eventsOf(1, "huge")[0], id: "i".repeat(2_100_000) }),
    });
    expect(answer.status).toBe(413);
    expect(answer.headers.get("content-type")).toBe("application/problem+json");
    expect(await answer.json()).toMatchObject({ code: "payload_too_large" });
  });
});
