import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  createProducer,
  NetworkFailed,
  RateLimited,
  sendEvent,
  TimedOut,
  Unavailable,
} from "../src/index.js";
import { createNodeFetch } from "../src/node/index.js";
import { type Answer, type SinkServer, startSink } from "./sink-server.js";

let server: SinkServer | undefined;
afterEach(async () => {
  // This test's server is taken before the first await: a hook that outlives its timeout must
  // not close the server the next test has started meanwhile.
  const held = server;
  server = undefined;
  await held?.close();
});

/** A gateway stand-in that answers the scripted statuses in turn, then 202. */
async function scripted(...answers: ReturnType<Answer>[]): Promise<SinkServer> {
  server = await startSink((_r, i) => answers[i] ?? { status: 202 });
  return server;
}

function problem(status: number, code: string) {
  return {
    status,
    headers: { "content-type": "application/problem+json" },
    body: JSON.stringify({ status, code, detail: `${code} for the test` }),
  };
}

/** A producer whose waits are recorded instead of slept, with jitter fixed at its maximum. */
function recordingProducer(endpoint: string, retry = {}) {
  const waits: number[] = [];
  const producer = createProducer({
    endpoint,
    source: "/retries",
    retry: { retries: 3, baseDelay: 100, maxDelay: 250, ...retry },
    random: () => 0.999,
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { producer, waits };
}

describe("retries", () => {
  it("429 waits its Retry-After, then succeeds with the same event id", async () => {
    const s = await scripted({ ...problem(429, "rate_limited"), headers: { "retry-after": "2" } });
    const { producer, waits } = recordingProducer(`${s.url}/events`);
    const sent = await producer.notification({ type: "com.example.t", subject: "a" });
    expect(waits).toEqual([2000]);
    expect(s.received.map((r) => r.headers["ce-id"])).toEqual([sent.id, sent.id]);
    expect(s.received[0]!.body.equals(s.received[1]!.body)).toBe(true);
  });

  it("5xx, 408 and network errors back off exponentially, capped, with jitter", async () => {
    const s = await scripted(problem(503, "unavailable"), problem(500, "x"), { status: 408 });
    const { producer, waits } = recordingProducer(`${s.url}/events`);
    const sent = await producer.stateTransfer({ type: "com.example.t", data: { n: 1 } });
    // random() = 0.999 of caps 100, 200, min(400, 250)
    expect(waits).toEqual([99, 199, 249]);
    expect(new Set(s.received.map((r) => r.headers["ce-id"]))).toEqual(new Set([sent.id]));
  });

  it("gives up after the last retry with Unavailable, carrying the problem and Retry-After", async () => {
    const down = { ...problem(503, "unavailable"), headers: { "retry-after": "1" } };
    const s = await scripted(down, down, down, down, down);
    const { producer, waits } = recordingProducer(`${s.url}/events`);
    const err = await producer.send({ type: "com.example.t" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unavailable);
    expect(err).toMatchObject({ code: "unavailable", status: 503, retryAfterMs: 1000 });
    expect((err as Unavailable).problem?.code).toBe("unavailable");
    expect(s.received).toHaveLength(4);
    expect(waits).toEqual([1000, 1000, 1000]);
  });

  it("a Retry-After that is neither delay-seconds nor an HTTP-date means the usual backoff", async () => {
    const s = await scripted(
      { ...problem(503, "unavailable"), headers: { "retry-after": "1.5" } },
      { ...problem(429, "rate_limited"), headers: { "retry-after": "-5" } },
      { ...problem(503, "unavailable"), headers: { "retry-after": "2025-01-01" } },
    );
    const { producer, waits } = recordingProducer(`${s.url}/events`);
    await producer.send({ type: "com.example.t" });
    // random() = 0.999 of caps 100, 200, min(400, 250): not 0, as a date in the past would say.
    expect(waits).toEqual([99, 199, 249]);
    expect(s.received).toHaveLength(4);
  });

  it("a Retry-After longer than maxRetryAfter is not waited for: RateLimited at once", async () => {
    const s = await scripted({
      ...problem(429, "rate_limited"),
      headers: { "retry-after": "120" },
    });
    const { producer, waits } = recordingProducer(`${s.url}/events`, { maxRetryAfter: 30_000 });
    const err = await producer.send({ type: "com.example.t" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimited);
    expect(err).toMatchObject({ status: 429, retryAfterMs: 120_000 });
    expect(waits).toEqual([]);
    expect(s.received).toHaveLength(1);
  });

  it("other 4xx are not retried", async () => {
    const s = await scripted(problem(400, "invalid_event"), problem(403, "forbidden"));
    const { producer, waits } = recordingProducer(`${s.url}/events`);
    await expect(producer.send({ type: "com.example.t" })).rejects.toMatchObject({ status: 400 });
    await expect(producer.send({ type: "com.example.t" })).rejects.toMatchObject({ status: 403 });
    expect(s.received).toHaveLength(2);
    expect(waits).toEqual([]);
  });

  it("the token function is asked again on every attempt", async () => {
    const s = await scripted(problem(502, "x"));
    let n = 0;
    const producer = createProducer({
      endpoint: `${s.url}/events`,
      source: "/retries",
      token: async () => `token-${++n}`,
      sleep: async () => {},
    });
    await producer.send({ type: "com.example.t" });
    expect(s.received.map((r) => r.headers.authorization)).toEqual([
      "Bearer token-1",
      "Bearer token-2",
    ]);
  });

  it("what a token function gives is checked like a string token: a TypeError, not retried", async () => {
    const s = await scripted();
    const given: unknown[] = ["", undefined, 5, null, "abc\r\nx-injected: 1", "a b", "caf\u00e9"];
    for (const value of given) {
      let asked = 0;
      const producer = createProducer({
        endpoint: `${s.url}/events`,
        source: "/retries",
        token: (async () => {
          asked++;
          return value;
        }) as () => Promise<string>,
        sleep: async () => {},
      });
      const err = await producer.send({ type: "com.example.t" }).catch((e: unknown) => e);
      expect(err, String(value)).toBeInstanceOf(TypeError);
      expect((err as Error).message).toMatch(/token function gave .*non-empty string/);
      // The message describes the value without printing it (it may be a secret).
      if (typeof value === "string" && value !== "") {
        expect((err as Error).message).not.toContain(value);
      }
      expect(asked).toBe(1);
    }
    expect(s.received).toHaveLength(0);
  });

  it("a token function that never settles is bounded by timeout: TimedOut, then retried", async () => {
    const s = await scripted();
    let asked = 0;
    const producer = createProducer({
      endpoint: `${s.url}/events`,
      source: "/retries",
      timeout: 50,
      retry: { retries: 1 },
      token: () => (++asked === 1 ? new Promise<string>(() => {}) : "fresh"),
      sleep: async () => {},
    });
    await producer.send({ type: "com.example.t" });
    expect(asked).toBe(2);
    expect(s.received.map((r) => r.headers.authorization)).toEqual(["Bearer fresh"]);

    const stuck = createProducer({
      endpoint: `${s.url}/events`,
      source: "/retries",
      timeout: 50,
      retry: false,
      token: () => new Promise<string>(() => {}),
    });
    const err = await stuck.send({ type: "com.example.t" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimedOut);
    expect(err).toMatchObject({ code: "timeout", status: 0 });
    expect((err as Error).message).toMatch(/token function did not settle within 50 ms/);
    expect(s.received).toHaveLength(1);
  });

  it("a token function that throws rejects with its error, not retried", async () => {
    const s = await scripted();
    let asked = 0;
    const producer = createProducer({
      endpoint: `${s.url}/events`,
      source: "/retries",
      token: () => {
        asked++;
        throw new Error("no key");
      },
      sleep: async () => {},
    });
    await expect(producer.send({ type: "com.example.t" })).rejects.toThrow("no key");
    expect(asked).toBe(1);
    expect(s.received).toHaveLength(0);
  });

  it("NetworkFailed when nothing listens, after the retries", async () => {
    const closed = createServer();
    await new Promise<void>((ok) => closed.listen(0, "127.0.0.1", ok));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((ok) => closed.close(() => ok()));
    const { producer, waits } = recordingProducer(`http://127.0.0.1:${port}/events`, {
      retries: 2,
    });
    const err = await producer.send({ type: "com.example.t" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetworkFailed);
    expect(err).toMatchObject({ code: "network_error", status: 0 });
    expect(waits).toHaveLength(2);
    // The message says what went wrong, not only fetch's "fetch failed".
    expect((err as NetworkFailed).message).toBe(
      `cannot reach http://127.0.0.1:${port}/events: fetch failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    const viaNode = createProducer({
      endpoint: `http://127.0.0.1:${port}/events`,
      source: "/retries",
      retry: false,
      fetch: createNodeFetch(),
    });
    await expect(viaNode.send({ type: "com.example.t" })).rejects.toThrow(
      `fetch failed: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
  });

  it("TimedOut when the gateway does not answer within timeout", async () => {
    const held: import("node:http").ServerResponse[] = [];
    const silent = createServer((_req, res) => {
      held.push(res);
    });
    await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    const { port } = silent.address() as AddressInfo;
    try {
      const producer = createProducer({
        endpoint: `http://127.0.0.1:${port}/events`,
        source: "/retries",
        timeout: 100,
        retry: false,
      });
      const err = await producer.send({ type: "com.example.t" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimedOut);
      expect(err).toMatchObject({ code: "timeout", status: 0 });
      expect(held).toHaveLength(1);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((ok) => silent.close(() => ok()));
    }
  });

  it("sendEvent makes one attempt, no retry", async () => {
    const s = await scripted(problem(503, "unavailable"));
    const err = await sendEvent(`${s.url}/events`, {
      source: "/once",
      type: "com.example.t",
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unavailable);
    expect(s.received).toHaveLength(1);
    expect(s.received[0]!.headers["ce-source"]).toBe("/once");
  });
});
