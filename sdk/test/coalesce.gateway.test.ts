import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProducer, InvalidEvent, Unavailable } from "../src/index.js";
import { startProxy } from "./forward-proxy.js";
import { type Herald, startHerald } from "./herald-process.js";
import { type SinkServer, startSink } from "./sink-server.js";

let herald: Herald;
let sink: SinkServer;

beforeAll(async () => {
  sink = await startSink();
  herald = await startHerald({
    subscriptions: [{ id: "all", sink: `${sink.url}/all`, delivery: { mode: "structured" } }],
  });
});
afterAll(async () => {
  await herald?.stop();
  await sink?.close();
});

const BATCH = "application/cloudevents-batch+json; charset=utf-8";
const deliveredIds = () => new Set(sink.received.map((r) => JSON.parse(r.body.toString()).id));

describe("coalesce: single events share requests under load", () => {
  it("events sent while the request is out go together as one batch; each resolves with its id", async () => {
    const proxy = await startProxy(herald.events);
    try {
      const producer = createProducer({
        endpoint: proxy.url,
        source: "/coalesce",
        coalesce: { maxInFlight: 1 },
      });
      const sent = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          producer.notification({ type: "com.example.c", subject: `s-${i}` }),
        ),
      );
      // The first went alone, in binary mode; the nine that waited for it went as one batch.
      expect(proxy.requests.map((r) => r.headers["content-type"] ?? "none")).toEqual([
        "none",
        BATCH,
      ]);
      expect(proxy.requests[0]!.headers["ce-id"]).toBe(sent[0]!.id);
      const batch = JSON.parse(proxy.requests[1]!.body.toString()) as {
        id: string;
        subject: string;
      }[];
      expect(batch.map((e) => e.id)).toEqual(sent.slice(1).map((s) => s.id));
      expect(batch.map((e) => e.subject)).toEqual(sent.slice(1).map((_, i) => `s-${i + 1}`));
      await sink.until(() => sent.every((s) => deliveredIds().has(s.id)));
    } finally {
      await proxy.close();
    }
  });

  it("at a low rate nothing waits: each event goes alone in binary mode", async () => {
    const proxy = await startProxy(herald.events);
    try {
      const producer = createProducer({ endpoint: proxy.url, source: "/coalesce", coalesce: true });
      for (let i = 0; i < 3; i++) await producer.send({ type: "com.example.c", data: { i } });
      expect(proxy.requests.map((r) => r.headers["content-type"])).toEqual([
        "application/json",
        "application/json",
        "application/json",
      ]);
    } finally {
      await proxy.close();
    }
  });

  it("maxEvents and maxBatchBytes bound each batch; an event over maxBatchBytes goes alone", async () => {
    /** The events of each request (0 for one alone, in binary mode) and the batches' bytes. */
    const run = async (coalesce: { maxEvents?: number; maxBatchBytes?: number }) => {
      const proxy = await startProxy(herald.events);
      try {
        const producer = createProducer({
          endpoint: proxy.url,
          source: "/coalesce-bounds",
          coalesce: { maxInFlight: 1, ...coalesce },
        });
        // Subjects of one length: every event's JSON is as long as the others'.
        const sent = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            producer.notification({ type: "com.example.c", subject: `s-${i}` }),
          ),
        );
        await sink.until(() => sent.every((s) => deliveredIds().has(s.id)));
        return proxy.requests.map((r) =>
          r.headers["content-type"] === BATCH
            ? { events: (JSON.parse(r.body.toString()) as unknown[]).length, bytes: r.body.length }
            : { events: 0, bytes: 0 },
        );
      } finally {
        await proxy.close();
      }
    };
    const byThree = await run({ maxEvents: 3 });
    expect(byThree.map((r) => r.events)).toEqual([0, 3, 3, 3]);
    // "[" + 3 events + 2 commas + "]": one event's JSON is a third of the rest.
    const eventBytes = (byThree[1]!.bytes - 4) / 3;
    // Exactly two fit: "[", an event, ",", an event, "]".
    const byTwo = await run({ maxBatchBytes: 2 * eventBytes + 3 });
    // The last one left goes alone.
    expect(byTwo.map((r) => r.events)).toEqual([0, 2, 2, 2, 2, 0]);
    expect(byTwo[1]!.bytes).toBe(2 * eventBytes + 3);
    // One byte less: each batch would hold one event, which goes alone instead.
    const alone = await run({ maxBatchBytes: eventBytes + 2 });
    expect(alone.map((r) => r.events)).toEqual(Array(10).fill(0));
  });

  it("a batch refused for one invalid event is resent one by one: only that event fails", async () => {
    const proxy = await startProxy(herald.events);
    try {
      const producer = createProducer({
        endpoint: proxy.url,
        source: "/coalesce-invalid",
        coalesce: { maxInFlight: 1 },
      });
      const results = await Promise.allSettled([
        producer.send({ type: "com.example.first" }),
        producer.send({ type: "com.example.ok" }),
        // At least 1 (extensions/sampledrate.md): the gateway checks it, the SDK does not.
        producer.send({ type: "com.example.bad", sampledrate: 0 }),
        producer.send({ type: "com.example.ok" }),
      ]);
      expect(results.map((r) => r.status)).toEqual([
        "fulfilled",
        "fulfilled",
        "rejected",
        "fulfilled",
      ]);
      expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(InvalidEvent);
      // first alone, the batch of three (400), then those three alone, in parallel.
      expect(proxy.upstreamStatuses.slice(0, 2)).toEqual([202, 400]);
      expect(proxy.upstreamStatuses.slice(2).sort()).toEqual([202, 202, 400]);
      const ok = results.flatMap((r) => (r.status === "fulfilled" ? [r.value.id] : []));
      await sink.until(() => ok.every((id) => deliveredIds().has(id)));
    } finally {
      await proxy.close();
    }
  });

  it("a failure that is no one event's (503 after the retries) rejects every event of the batch", async () => {
    const proxy = await startProxy(herald.events, (i) =>
      i === 0 ? { kind: "forward" } : { kind: "answer", status: 503 },
    );
    try {
      const producer = createProducer({
        endpoint: proxy.url,
        source: "/coalesce-down",
        coalesce: { maxInFlight: 1 },
        retry: { retries: 1, baseDelay: 1 },
      });
      const results = await Promise.allSettled(
        Array.from({ length: 4 }, () => producer.send({ type: "com.example.c" })),
      );
      expect(results.map((r) => r.status)).toEqual([
        "fulfilled",
        "rejected",
        "rejected",
        "rejected",
      ]);
      for (const r of results.slice(1)) {
        expect((r as PromiseRejectedResult).reason).toBeInstanceOf(Unavailable);
      }
      // first alone, then the batch of three and its one retry.
      expect(proxy.requests).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });
});
