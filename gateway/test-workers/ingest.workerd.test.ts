import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { loadWorkerConfig, queueRetentionSeconds } from "../src/adapters/workers/worker-config.js";
import { ConfigInvalid, describeConfigIssue } from "../src/config/config-invalid.js";
import { dedupeKey } from "../src/store/dedupe-window.js";
import { decodeEvent } from "../src/store/event-codec.js";
import {
  binaryEvent,
  bindings,
  flakyDatabase,
  resetDatabase,
  scriptedSink,
  testWorker,
} from "./harness.js";

const sink = (path: string) => `http://127.0.0.1:9/${path}`;

const config = {
  subscriptions: [
    { id: "all", sink: sink("all") },
    { id: "eu", sink: sink("eu"), filters: [{ prefix: { subject: "eu/" } }] },
    {
      id: "sql",
      sink: sink("sql"),
      filters: [{ sql: "subject LIKE '%/vip' AND EXISTS priority" }],
    },
  ],
};

beforeEach(async () => {
  await resetDatabase();
  // Why a refused config answers 503 is logged at any HERALD_LOG_LEVEL; the tests that refuse
  // one look at their own lines.
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe("ingest inside workerd", () => {
  it("runs in the Workers runtime", () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
  });

  it("answers 202 only after one message per matched subscription is on the queue", async () => {
    const gw = testWorker(config);
    const res = await gw.request(
      "/events",
      binaryEvent("o-1", { "ce-subject": "eu/vip", "ce-priority": "1" }),
    );
    expect(res.status).toBe(202);
    expect(gw.queue.sent.map((m) => m.subscription).sort()).toStrictEqual(["all", "eu", "sql"]);
    const [first] = gw.queue.sent;
    const event = decodeEvent(first!.event);
    expect(event.attributes).toMatchObject({
      id: "o-1",
      source: "/orders",
      authtype: "unauthenticated",
    });
    expect(typeof event.attributes.recordedtime).toBe("string");
    expect(new Set(gw.queue.sent.map((m) => m.job)).size).toBe(3);
    expect(new Set(gw.queue.sent.map((m) => m.acceptance)).size).toBe(1);
  });

  it("hands the isolate's shared start-up and subscription refresh to ctx.waitUntil", async () => {
    // Other requests wait on them: cancelled with the request that started them (its client
    // went away), they would never settle and hold every later request of the isolate.
    const gw = testWorker(config);
    const kept: Promise<unknown>[] = [];
    const ctx = { waitUntil: (promise: Promise<unknown>) => void kept.push(promise) };
    const res = await gw.worker.fetch(
      new Request("http://herald.test/events", binaryEvent("o-keep")),
      gw.env,
      ctx,
    );
    expect(res.status).toBe(202);
    expect(kept).toHaveLength(2);
    await Promise.all(kept);
  });

  it("matches with the same filters as on Node (prefix, CESQL)", async () => {
    const gw = testWorker(config);
    await gw.request("/events", binaryEvent("o-2", { "ce-subject": "us/vip" }));
    expect(gw.queue.sent.map((m) => m.subscription)).toStrictEqual(["all"]);
  });

  it("dedupes source + id across requests and inside a batch", async () => {
    const gw = testWorker(config);
    expect((await gw.request("/events", binaryEvent("dup"))).status).toBe(202);
    expect((await gw.request("/events", binaryEvent("dup"))).status).toBe(202);
    const batch = [1, 2, 2].map((n) => ({
      specversion: "1.0",
      id: `b-${n}`,
      source: "/orders",
      type: "com.example.order.created",
    }));
    const res = await gw.request("/events", {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(batch),
    });
    expect(res.status).toBe(202);
    const ids = gw.queue.sent.map((m) => decodeEvent(m.event).attributes.id);
    expect(ids).toStrictEqual(["dup", "b-1", "b-2"]);
  });

  it("a second isolate sees the first one's dedupe (D1, not memory)", async () => {
    const one = testWorker(config);
    const two = testWorker(config);
    await one.request("/events", binaryEvent("shared"));
    await two.request("/events", binaryEvent("shared"));
    expect(one.queue.sent).toHaveLength(1);
    expect(two.queue.sent).toHaveLength(0);
  });

  it("a deploy that changes store.dedupeWindow applies it to the keys already stored", async () => {
    const hour = 3_600_000;
    let now = Date.UTC(2026, 0, 1);
    const clock = { now: () => now };
    const deploy = (dedupeWindow: string) =>
      testWorker({ ...config, store: { kind: "memory", dedupeWindow } }, { clock });
    await deploy("24h").request("/events", binaryEvent("w1"));
    now += 2 * hour;
    await deploy("24h").request("/events", binaryEvent("w2"));
    // Shortened to 1h: w1 was accepted 2h ago, no longer a duplicate; w2 (just now) still is.
    const shorter = deploy("1h");
    await shorter.request("/events", binaryEvent("w1"));
    await shorter.request("/events", binaryEvent("w2"));
    expect(shorter.queue.sent.map((m) => decodeEvent(m.event).attributes.id)).toStrictEqual(["w1"]);
    // Turned off: nothing is a duplicate.
    const off = deploy("0s");
    await off.request("/events", binaryEvent("w2"));
    expect(off.queue.sent).toHaveLength(1);
  });

  it("adds accepted_at to an accepted table from before it; its rows keep their dedupe_until", async () => {
    const db = bindings.HERALD_DB;
    await db.batch([
      db.prepare("DROP TABLE IF EXISTS accepted"),
      db.prepare(
        "CREATE TABLE accepted (id TEXT PRIMARY KEY, key TEXT NOT NULL, dedupe_until INTEGER NOT NULL, keep_until INTEGER NOT NULL) WITHOUT ROWID",
      ),
      db
        .prepare("INSERT INTO accepted VALUES ('old', ?1, ?2, ?2)")
        .bind(dedupeKey("/orders", "old"), Date.now() + 3_600_000),
    ]);
    const gw = testWorker({ ...config, store: { kind: "memory", dedupeWindow: "0s" } });
    await gw.request("/events", binaryEvent("old"));
    await gw.request("/events", binaryEvent("new"));
    expect(gw.queue.sent.map((m) => decodeEvent(m.event).attributes.id)).toStrictEqual(["new"]);
    // A second isolate finds the column there.
    expect((await testWorker(config).request("/events", binaryEvent("next"))).status).toBe(202);
  });

  it("a batch with an invalid event sends nothing", async () => {
    const gw = testWorker(config);
    const res = await gw.request("/events", {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify([
        { specversion: "1.0", id: "ok", source: "/o", type: "t" },
        { specversion: "1.0", id: "bad", source: "/o", type: "t", time: "never" },
      ]),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "invalid_event", index: 1 });
    expect(gw.queue.sent).toHaveLength(0);
  });

  it("refuses with 413 an event too large for a queue message, sending nothing", async () => {
    const gw = testWorker(config);
    const res = await gw.request("/events", {
      ...binaryEvent("big"),
      body: JSON.stringify({ blob: "x".repeat(200_000) }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: "payload_too_large" });
    expect(gw.queue.sent).toHaveLength(0);
  });

  it("answers 503 when the queue refuses, and the retry is not taken for a duplicate", async () => {
    const gw = testWorker(config);
    const failing = {
      ...gw.env,
      HERALD_DELIVERIES: {
        send: async () => {},
        sendBatch: async () => {
          throw new Error("queue down");
        },
      },
    };
    const down = await gw.worker.fetch(
      new Request("http://herald.test/events", binaryEvent("retry-me")),
      failing,
    );
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("1");
    expect((await gw.request("/events", binaryEvent("retry-me"))).status).toBe(202);
    expect(gw.queue.sent.map((m) => decodeEvent(m.event).attributes.id)).toContain("retry-me");
  });

  it("answers 503 problem+json, not 500, when D1 fails after start, and nothing is half-stored", async () => {
    const gw = testWorker(config);
    let down = false;
    const env = {
      ...gw.env,
      // The change counter still answers, so the request gets past the subscription refresh.
      HERALD_DB: flakyDatabase((sql) => down && !sql.includes("FROM generation")),
    };
    const request = (path: string, init?: RequestInit) =>
      gw.worker.fetch(new Request(`http://herald.test${path}`, init), env);
    expect((await request("/events", binaryEvent("warm-up"))).status).toBe(202);
    down = true;
    const answers = [
      await request("/events", binaryEvent("d1-down")),
      await request("/subscriptions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sink: sink("api") }),
      }),
      await request("/subscriptions/all/dead"),
    ];
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("content-type")).toBe("application/problem+json");
      expect(answer.headers.get("retry-after")).toBe("1");
      expect(await answer.json()).toMatchObject({ code: "unavailable" });
    }
    down = false;
    expect((await request("/events", binaryEvent("d1-down"))).status).toBe(202);
    const sent = gw.queue.sent.map((m) => decodeEvent(m.event).attributes.id);
    expect(sent.filter((id) => id === "d1-down")).toHaveLength(config.subscriptions.length - 2);
    expect(await (await request("/subscriptions")).json()).toHaveLength(
      config.subscriptions.length,
    );
  });

  it("a failed check for subscription changes is 503 and logged as such, not as a failed start", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => {
      lines.push(line);
    });
    const gw = testWorker(config);
    let down = false;
    const env = {
      ...gw.env,
      HERALD_DB: flakyDatabase((sql) => down && sql.includes("FROM generation")),
    };
    const request = (path: string, init?: RequestInit) =>
      gw.worker.fetch(new Request(`http://herald.test${path}`, init), env);
    expect((await request("/events", binaryEvent("before"))).status).toBe(202);
    down = true;
    const answer = await request("/events", binaryEvent("during"));
    expect(answer.status).toBe(503);
    expect(await answer.json()).toMatchObject({ code: "unavailable" });
    expect(lines.map((line) => JSON.parse(line) as unknown)).toMatchObject([
      {
        level: "error",
        msg: "could not read subscription changes from D1",
        error: expect.stringContaining("simulated outage"),
      },
    ]);
  });

  it("a batch over one sendBatch's 256 KB whose later sendBatch fails is 503 and delivers nothing; sent again it is 202, each event once", async () => {
    const sinkServer = scriptedSink();
    const gw = testWorker(config, { fetch: sinkServer.fetch });
    // 40 events of 10 KB, one message each: more than one sendBatch (256 KB at most).
    const batch = Array.from({ length: 40 }, (_, i) => ({
      specversion: "1.0",
      id: `chunked-${i}`,
      source: "/chunks",
      type: "com.example.chunk",
      data: { pad: "x".repeat(10_000) },
    }));
    const post = (env = gw.env) =>
      gw.worker.fetch(
        new Request("http://herald.test/events", {
          method: "POST",
          headers: { "content-type": "application/cloudevents-batch+json" },
          body: JSON.stringify(batch),
        }),
        env,
      );
    let calls = 0;
    const firstOnly = {
      ...gw.env,
      HERALD_DELIVERIES: {
        send: gw.queue.send,
        async sendBatch(messages: Parameters<typeof gw.queue.sendBatch>[0]) {
          calls += 1;
          if (calls > 1) throw new Error("queue down");
          await gw.queue.sendBatch(messages);
        },
      },
    };
    const down = await post(firstOnly);
    expect(down.status).toBe(503);
    expect(calls).toBe(2);
    const partial = [...gw.queue.sent];
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(40);
    // What the first call sent belongs to a request never accepted: consumed once stale, it
    // is dropped, never delivered.
    const result = await gw.consume(partial.map((m) => ({ ...m, sentAt: 0 })));
    expect(result.explicitAcks).toHaveLength(partial.length);
    expect(sinkServer.requests).toHaveLength(0);

    // Sent again, the batch is no duplicate of the failed request: all of it is delivered.
    expect((await post()).status).toBe(202);
    const resent = gw.queue.sent.slice(partial.length);
    expect(resent).toHaveLength(40);
    await gw.consume(resent);
    expect(sinkServer.requests.map((r) => r.headers.get("ce-id")).sort()).toStrictEqual(
      batch.map((e) => e.id).sort(),
    );
  });
});

/** `binaryEvent` with header lines as given, repeats included, after the four required ones. */
function withLines(id: string, lines: [string, string][]): RequestInit {
  const base = binaryEvent(id);
  return {
    ...base,
    headers: [...Object.entries(base.headers as Record<string, string>), ...lines],
  };
}

// Node refuses a repeated ce- header by its raw header lines (node-listener.test.ts). workerd
// hands a Worker only Fetch `Headers`, which join repeats with ", " (on the wire as here), and
// `getAll` serves only Set-Cookie: the runtime offers no way to tell a repeat from one line.
describe("a repeated ce- header inside workerd", () => {
  it("reaches the Worker as one line, the values joined: nothing tells the two apart", () => {
    const twice = new Headers([
      ["ce-id", "x1"],
      ["CE-ID", "x2"],
    ]);
    expect([...twice]).toStrictEqual([...new Headers({ "ce-id": "x1, x2" })]);
    expect(() => (twice as Headers & { getAll(name: string): string[] }).getAll("ce-id")).toThrow(
      TypeError,
    );
  });

  it.each([
    ["specversion", "1.0"],
    ["source", "/orders"],
    ["time", "2030-01-01T00:00:00Z"],
    ["dataschema", "https://schemas.test/order"],
  ])(
    "ce-%s twice is 400 invalid_event naming it, as on Node (the joined value breaks its syntax)",
    async (name, value) => {
      const gw = testWorker(config);
      const lines: [string, string][] = [
        [`ce-${name}`, value],
        [`CE-${name.toUpperCase()}`, value],
      ];
      const res = await gw.request("/events", withLines(`twice-${name}`, lines));
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await res.json()).toMatchObject({ code: "invalid_event", attributes: [name] });
      expect(gw.queue.sent).toHaveLength(0);
    },
  );

  it("ce-id or ce-type twice is taken as the joined value (Node: 400), as README says", async () => {
    const gw = testWorker(config);
    const res = await gw.request(
      "/events",
      withLines("x1", [
        ["ce-id", "x2"],
        ["ce-type", "t2"],
      ]),
    );
    expect(res.status).toBe(202);
    expect(decodeEvent(gw.queue.sent[0]!.event).attributes).toMatchObject({
      id: "x1, x2",
      type: "com.example.order.created, t2",
    });
  });

  it("Content-Type twice is 400, as on Node (joined, it is no media type), saying so", async () => {
    const gw = testWorker(config);
    const base = binaryEvent("ct-twice");
    const headers = Object.entries(base.headers as Record<string, string>).filter(
      ([name]) => name !== "content-type",
    );
    const res = await gw.request("/events", {
      ...base,
      headers: [...headers, ["content-type", "text/plain"], ["content-type", "application/json"]],
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { attributes: string[]; detail: string };
    expect(problem.attributes).toEqual(["datacontenttype"]);
    expect(problem.detail).toMatch(/^datacontenttype: Content-Type is repeated or lists/);
    expect(gw.queue.sent).toHaveLength(0);
  });
});

describe("config on Workers", () => {
  it("refuses what a Worker cannot honour, by name, and answers 503 until fixed", async () => {
    const gw = testWorker({
      subscriptions: [{ id: "r", sink: sink("r"), delivery: { rate: "5/s", handshake: true } }],
    });
    const res = await gw.request("/healthz");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "unavailable" });
  });

  it("logs the config's warnings once, with their lines, as herald serve does at start", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => {
      lines.push(line);
    });
    const gw = testWorker(
      {
        limits: { maxEventBytes: 1024 },
        subscriptions: [
          { id: "s", sink: sink("s"), delivery: { signingSecret: `whsec_${btoa("short key")}` } },
        ],
      },
      { vars: { HERALD_LOG_LEVEL: "warn" } },
    );
    for (let i = 0; i < 2; i++) expect((await gw.request("/healthz")).status).toBe(200);
    const said = lines
      .map((line) => JSON.parse(line) as { level: string; msg: string })
      .filter((record) => record.msg.startsWith("HERALD_CONFIG:"));
    expect(said).toMatchObject([
      {
        level: "warn",
        msg: expect.stringMatching(
          /^HERALD_CONFIG:1:\d+ limits\.maxEventBytes: 1024 is below 65536 bytes/,
        ),
      },
      {
        level: "warn",
        msg: expect.stringMatching(
          /^HERALD_CONFIG:1:\d+ subscriptions\[0\]\.delivery\.signingSecret: a key of 9 bytes/,
        ),
      },
    ]);
  });

  it("says why it answers 503 even at HERALD_LOG_LEVEL=silent, as herald serve prints a refused config", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => {
      lines.push(line);
    });
    const gw = testWorker(
      { subscriptions: [{ id: "r", sink: sink("r"), bogus: 1 }] },
      { vars: { HERALD_LOG_LEVEL: "silent" } },
    );
    expect((await gw.request("/healthz")).status).toBe(503);
    expect(lines.map((line) => JSON.parse(line) as unknown)).toMatchObject([
      {
        level: "error",
        msg: "the config is invalid",
        issues: [
          expect.stringMatching(/^HERALD_CONFIG:1:\d+ subscriptions\[0\]\.bogus: unknown key/),
        ],
      },
    ]);
  });

  it("refuses the nats store, which needs connections a Worker cannot open", async () => {
    const config = {
      store: { kind: "nats", url: "nats://127.0.0.1:4222", stream: "herald" },
      subscriptions: [],
    };
    let refused: unknown;
    try {
      loadWorkerConfig(JSON.stringify(config), "HERALD_CONFIG", {}, { noAuth: true });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ConfigInvalid);
    expect((refused as ConfigInvalid).issues).toMatchObject([
      { field: "store.kind", message: expect.stringMatching(/^nats needs TCP connections/) },
    ]);
    expect((await testWorker(config).request("/healthz")).status).toBe(503);
  });

  it("reports what a Worker refuses among the core's issues, top-down, with lines, as herald validate does", () => {
    const text = [
      "store: { kind: nats, url: nats://127.0.0.1:4222 }",
      "listen: { port: -1 }",
      "subscriptions:",
      "  - id: fast",
      "    sink: http://127.0.0.1:9/fast",
      "    delivery: { rate: 5/s }",
      "  - id: broken",
      "    sink: ftp://x",
      "    delivery: { handshake: true }",
      "  - id: slow",
      "    sink: http://127.0.0.1:9/slow",
      "    delivery: { retry: 100, backoffDelay: 1h, backoffMax: 24h }",
      "",
    ].join("\n");
    let refused: unknown;
    try {
      loadWorkerConfig(text, "herald.yaml", {});
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ConfigInvalid);
    const issues = (refused as ConfigInvalid).issues;
    expect(issues.map((i) => [i.line, i.column, i.field, i.subscription])).toStrictEqual([
      [1, 1, "auth", undefined],
      [1, 16, "store.kind", undefined],
      [2, 17, "listen.port", undefined],
      [6, 23, "subscriptions[0].delivery.rate", "fast"],
      [8, 11, "subscriptions[1].sink", "broken"],
      [9, 28, "subscriptions[1].delivery.handshake", "broken"],
      [12, 24, "subscriptions[2].delivery.retry", "slow"],
    ]);
    // One line each, as herald validate prints them; the Workers-only ones say so.
    expect(issues.map(describeConfigIssue)[3]).toBe(
      'herald.yaml:6:23 subscriptions[0].delivery.rate: is not available on Cloudflare Workers (isolates share no per-sink state) (subscription "fast")',
    );
  });

  it("refuses a config without auth unless HERALD_NO_AUTH=true, as herald serve needs --no-auth", async () => {
    const open = testWorker(config, { vars: { HERALD_NO_AUTH: "false" } });
    const refused = await open.request("/events", binaryEvent("no-auth-1"));
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: "unavailable" });
    expect(open.queue.sent).toHaveLength(0);
    const dev = testWorker(config, { vars: { HERALD_NO_AUTH: "true" } });
    expect((await dev.request("/events", binaryEvent("no-auth-2"))).status).toBe(202);
  });

  it("names a binding that is missing or is a variable, instead of failing at the first publish", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => {
      errors.push(line);
    });
    const gw = testWorker(config, {
      vars: { HERALD_DELIVERIES: "herald-deliveries", HERALD_LOG_LEVEL: "error" },
    });
    const res = await gw.request("/events", binaryEvent("bindings-1"));
    expect(res.status).toBe(503);
    const { HERALD_DB: _db, ...withoutDb } = gw.env;
    expect(
      (await gw.worker.fetch(new Request("http://herald.test/healthz"), withoutDb as typeof gw.env))
        .status,
    ).toBe(503);
    const messages = errors.map((line) => (JSON.parse(line) as { error: string }).error);
    expect(messages).toStrictEqual([
      expect.stringMatching(
        /HERALD_DELIVERIES must be a Queue producer binding, but it is a variable \(a \[vars\] entry/,
      ),
      expect.stringMatching(
        /HERALD_DB must be a D1 database binding, but nothing is bound to that name; HERALD_DELIVERIES/,
      ),
    ]);
  });

  it("interpolates config variables from the Worker's variables and secrets", async () => {
    const gw = testWorker(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's own ${VAR} syntax
      { subscriptions: [{ id: "s", sink: "${SINK_URL}" }] },
      { vars: { SINK_URL: "http://127.0.0.1:9/from-secret" } },
    );
    const res = await gw.request("/subscriptions/s");
    expect(await res.json()).toMatchObject({ sink: "http://127.0.0.1:9/from-secret" });
  });

  it("the Subscriptions API refuses rate and handshake with 400", async () => {
    const gw = testWorker(config);
    const res = await gw.request("/subscriptions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sink: sink("x"), delivery: { rate: "1/s" } }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: "invalid_subscription",
      errors: [{ field: "delivery.rate" }],
    });
  });
});

describe("retry schedules and the delivery queue's retention", () => {
  const long = { retry: 100, backoffDelay: "1h", backoffMax: "24h" };
  const post = (gw: ReturnType<typeof testWorker>, delivery: Record<string, unknown>) =>
    gw.request("/subscriptions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sink: sink("x"), delivery }),
    });

  it("the API refuses a schedule longer than the retention, naming the fields and the retention", async () => {
    const gw = testWorker(config);
    const res = await post(gw, { ...long, rate: "1/s" });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { field: string; message: string }[] };
    expect(body.errors.map((e) => e.field)).toStrictEqual(["delivery.rate", "delivery.retry"]);
    const message = body.errors[1]!.message;
    expect(message).toMatch(/^100 retries with backoffDelay 1h and backoffMax 24h/);
    expect(message).toContain("(4d, HERALD_QUEUE_RETENTION_SECONDS)");
    // Within 4 days: 20 retries of up to 1h each.
    expect((await post(gw, { retry: 20, backoffDelay: "1h", backoffMax: "1h" })).status).toBe(201);
  });

  it("the retention is HERALD_QUEUE_RETENTION_SECONDS", async () => {
    const gw = testWorker(config, { vars: { HERALD_QUEUE_RETENTION_SECONDS: "3600" } });
    const res = await post(gw, { retry: 20, backoffDelay: "1h", backoffMax: "1h" });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      errors: [{ field: "delivery.retry", message: expect.stringContaining("(1h, HERALD_QUEUE") }],
    });
  });

  it("refuses a HERALD_QUEUE_RETENTION_SECONDS no queue can have, by name, instead of taking 4 days", async () => {
    for (const value of ["14d", "1209600s", "59", "1209601", "-1", "3600.5"]) {
      let refused: unknown;
      try {
        queueRetentionSeconds(value);
      } catch (err) {
        refused = err;
      }
      expect(refused, value).toBeInstanceOf(ConfigInvalid);
      expect(describeConfigIssue((refused as ConfigInvalid).issues[0]!)).toMatch(
        /^HERALD_QUEUE_RETENTION_SECONDS ".*" is not a retention a queue can have: .* from 60 to 1209600/,
      );
    }
    expect(queueRetentionSeconds(undefined)).toBe(345_600);
    expect(queueRetentionSeconds("")).toBe(345_600);
    expect(queueRetentionSeconds(" 1209600 ")).toBe(1_209_600);
    const gw = testWorker(config, { vars: { HERALD_QUEUE_RETENTION_SECONDS: "14d" } });
    const res = await gw.request("/events", binaryEvent("retention-1"));
    expect(res.status).toBe(503);
    expect(gw.queue.sent).toHaveLength(0);
  });

  it("the config refuses it too, by subscription", () => {
    let refused: unknown;
    try {
      loadWorkerConfig(
        JSON.stringify({ subscriptions: [{ id: "slow", sink: sink("slow"), delivery: long }] }),
        "HERALD_CONFIG",
        {},
        { retentionSeconds: 345_600, noAuth: true },
      );
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ConfigInvalid);
    expect((refused as ConfigInvalid).issues).toMatchObject([
      {
        field: "subscriptions[0].delivery.retry",
        subscription: "slow",
        message: expect.stringContaining("longer than the delivery queue keeps a message"),
      },
    ]);
  });
});

describe("API subscriptions in D1, shared by isolates", () => {
  it("one created through one isolate matches in another at its next request", async () => {
    const one = testWorker(config);
    const two = testWorker(config);
    await two.request("/healthz"); // two loads the set before the change
    const created = await one.request("/subscriptions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sink: sink("api"), source: "/api-only" }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await two.request("/events", { ...binaryEvent("api-1", { "ce-source": "/api-only" }) });
    expect(two.queue.sent.map((m) => m.subscription)).toContain(id);
    expect((await (await two.request("/subscriptions")).json()) as unknown[]).toHaveLength(4);
    await one.request(`/subscriptions/${id}`, { method: "DELETE" });
    await two.request("/events", { ...binaryEvent("api-2", { "ce-source": "/api-only" }) });
    expect(two.queue.sent.filter((m) => m.subscription === id)).toHaveLength(1);
  });
});

describe("publisher auth inside workerd", () => {
  async function authWorker() {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
    const gw = testWorker({
      auth: {
        issuers: [{ issuer: "https://id.test", audience: "herald", jwks: { keys: [jwk] } }],
        publishers: [{ claims: { sub: "orders" }, sources: ["/orders"] }],
        admins: [{ claims: { sub: "admin" } }],
      },
      subscriptions: [{ id: "all", sink: sink("all") }],
    });
    const token = (sub: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setIssuer("https://id.test")
        .setAudience("herald")
        .setSubject(sub)
        .setExpirationTime("5m")
        .sign(privateKey);
    return { gw, token };
  }

  it("401 without a token, 403 outside the rule, 202 with authid set from the token", async () => {
    const { gw, token } = await authWorker();
    const none = await gw.request("/events", binaryEvent("a-1"));
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const outside = await gw.request(
      "/events",
      binaryEvent("a-2", {
        authorization: `Bearer ${await token("orders")}`,
        "ce-source": "/billing",
      }),
    );
    expect(outside.status).toBe(403);
    const ok = await gw.request(
      "/events",
      binaryEvent("a-3", {
        authorization: `Bearer ${await token("orders")}`,
        "ce-authid": "forged",
      }),
    );
    expect(ok.status).toBe(202);
    expect(decodeEvent(gw.queue.sent[0]!.event).attributes).toMatchObject({ authid: "orders" });
    expect(gw.queue.sent).toHaveLength(1);
  });

  it("a repeated Authorization header is 400 invalid_request (RFC 6750 3.1), as on Node, whichever line is good", async () => {
    const { gw, token } = await authWorker();
    const good = `Bearer ${await token("orders")}`;
    for (const [n, pair] of [
      [good, "Bearer garbage"],
      ["Bearer garbage", good],
      [good, good],
    ].entries()) {
      const res = await gw.request(
        "/events",
        withLines(
          `auth-twice-${n}`,
          pair.map((value): [string, string] => ["authorization", value]),
        ),
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "invalid_request" });
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_request"/);
    }
    expect(gw.queue.sent).toHaveLength(0);
  });

  it("the Subscriptions API needs an admin token", async () => {
    const { gw, token } = await authWorker();
    const publisher = await gw.request("/subscriptions", {
      headers: { authorization: `Bearer ${await token("orders")}` },
    });
    expect(publisher.status).toBe(403);
    const admin = await gw.request("/subscriptions", {
      headers: { authorization: `Bearer ${await token("admin")}` },
    });
    expect(admin.status).toBe(200);
  });
});
