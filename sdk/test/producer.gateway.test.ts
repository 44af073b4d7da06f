import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createProducer,
  defineEvent,
  InvalidEvent,
  NotificationTooLarge,
  PayloadTooLarge,
  RequestRejected,
  StateTooLarge,
} from "../src/index.js";
import { startProxy } from "./forward-proxy.js";
import { type Herald, startHerald } from "./herald-process.js";
import { type Received, type SinkServer, startSink } from "./sink-server.js";

let herald: Herald;
let sink: SinkServer;

beforeAll(async () => {
  sink = await startSink();
  herald = await startHerald({
    limits: { maxEventBytes: 4096, maxBatchEvents: 5 },
    subscriptions: [
      { id: "all", sink: `${sink.url}/all`, delivery: { mode: "structured", timeout: "2s" } },
    ],
  });
});
afterAll(async () => {
  await herald?.stop();
  await sink?.close();
});

/** The structured deliveries of the sink, by event id. */
function delivered(): Map<string, Record<string, unknown>> {
  const byId = new Map<string, Record<string, unknown>>();
  for (const r of sink.at("/all")) {
    const event = JSON.parse(r.body.toString()) as Record<string, unknown>;
    byId.set(event.id as string, event);
  }
  return byId;
}

/** The ids of the sink's structured deliveries, in arrival order, repeats included. */
function deliveredIds(received: readonly Received[]): string[] {
  return received.filter((r) => r.path === "/all").map((r) => JSON.parse(r.body.toString()).id);
}

/**
 * Waits until every event of `sent` has been delivered. (Counting deliveries would not do: those
 * of an earlier test may still be arriving.)
 */
async function deliveries(...sent: { id: string }[]): Promise<void> {
  await sink.until((received) => {
    const ids = new Set(deliveredIds(received));
    return sent.every((s) => ids.has(s.id));
  });
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("producer against herald serve", () => {
  it("notification: subject, dataref and identifiers arrive; the id is a UUIDv7 and time is set", async () => {
    const producer = createProducer({ endpoint: herald.events, source: "/images" });
    const sent = await producer.notification({
      type: "com.example.image.uploaded",
      subject: "images/cat 😀.png",
      dataref: "http://127.0.0.1:9/images/cat.png",
      data: { imageId: "cat" },
    });
    await deliveries(sent);
    expect(sent.source).toBe("/images");
    expect(sent.id).toMatch(UUID_V7);
    const event = delivered().get(sent.id)!;
    expect(event).toMatchObject({
      specversion: "1.0",
      source: "/images",
      type: "com.example.image.uploaded",
      subject: "images/cat 😀.png",
      dataref: "http://127.0.0.1:9/images/cat.png",
      datacontenttype: "application/json",
      data: { imageId: "cat" },
      authtype: "unauthenticated",
    });
    expect(Math.abs(Date.parse(event.time as string) - Date.now())).toBeLessThan(60_000);
  });

  it("stateTransfer in structured mode: the state and dataschema arrive as sent", async () => {
    const producer = createProducer({
      endpoint: herald.events,
      source: "/tractors/7",
      mode: "structured",
    });
    const order = { sku: "HX-42", quantity: 2, note: "Ölfilter" };
    const sent = await producer.stateTransfer({
      type: "com.example.tractor.part.ordered",
      subject: "tractor-7",
      data: order,
      dataschema: "https://schemas.example.com/part-order.json",
    });
    await deliveries(sent);
    expect(delivered().get(sent.id)).toMatchObject({
      subject: "tractor-7",
      dataschema: "https://schemas.example.com/part-order.json",
      data: order,
    });
  });

  it("send: a plain event gets an id, time and the producer's source; text and bytes keep their types", async () => {
    const producer = createProducer({ endpoint: herald.events, source: "/plain" });
    const text = await producer.send({
      type: "com.example.text",
      data: "a,b\n1,2",
      datacontenttype: "text/csv",
    });
    const bytes = await producer.send({
      type: "com.example.bytes",
      data: new Uint8Array([0, 1, 254, 255]),
    });
    await deliveries(text, bytes);
    const events = delivered();
    expect(text.id).toMatch(UUID_V7);
    expect(events.get(text.id)).toMatchObject({
      source: "/plain",
      datacontenttype: "text/csv",
      data: "a,b\n1,2",
    });
    expect(events.get(bytes.id)).toMatchObject({ data_base64: "AAH+/w==" });
    expect(typeof events.get(bytes.id)!.time).toBe("string");
  });

  it("a string under an iso-8859-1 datacontenttype arrives as that string from binary and structured mode", async () => {
    const datacontenttype = "text/plain; charset=iso-8859-1";
    const sent = [];
    for (const mode of ["binary", "structured"] as const) {
      const producer = createProducer({ endpoint: herald.events, source: "/latin1", mode });
      sent.push(
        await producer.stateTransfer({ type: "com.example.t", data: "café", datacontenttype }),
      );
    }
    await deliveries(...sent);
    for (const { id } of sent) {
      expect(delivered().get(id)).toMatchObject({ datacontenttype, data: "café" });
    }
  });

  it("send(array) is one batch-mode request; every event is delivered", async () => {
    const proxy = await startProxy(herald.events);
    try {
      const producer = createProducer({ endpoint: proxy.url, source: "/batch" });
      const sent = await producer.send([
        { type: "com.example.one", data: { n: 1 } },
        { type: "com.example.two", id: "batch-fixed-id", data: { n: 2 } },
        { type: "com.example.three" },
      ]);
      expect(proxy.requests).toHaveLength(1);
      expect(proxy.requests[0]!.headers["content-type"]).toBe(
        "application/cloudevents-batch+json; charset=utf-8",
      );
      expect(sent.map((s) => s.id)[1]).toBe("batch-fixed-id");
      await deliveries(...sent);
      const events = delivered();
      expect(sent.map((s) => events.get(s.id)?.type)).toEqual([
        "com.example.one",
        "com.example.two",
        "com.example.three",
      ]);
      expect(await producer.send([])).toEqual([]);
      expect(proxy.requests).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("emit: a catalog definition's type, kind and dataschema shape the event", async () => {
    const partOrdered = defineEvent<{ sku: string; quantity: number }>({
      type: "com.example.tractor.part.ordered",
      kind: "state",
      dataschema: "https://schemas.example.com/part-order.json",
    });
    const imageUploaded = defineEvent<{ imageId: string }>({
      type: "com.example.image.uploaded",
      kind: "notification",
    });
    const producer = createProducer({ endpoint: herald.events, source: "/catalog" });
    const state = await producer.emit(partOrdered, { data: { sku: "HX-1", quantity: 1 } });
    const note = await producer.emit(imageUploaded, {
      subject: "images/dog.png",
      data: { imageId: "dog" },
    });
    await deliveries(state, note);
    const events = delivered();
    expect(events.get(state.id)).toMatchObject({
      type: "com.example.tractor.part.ordered",
      dataschema: "https://schemas.example.com/part-order.json",
      data: { sku: "HX-1", quantity: 1 },
    });
    expect(events.get(note.id)).toMatchObject({
      subject: "images/dog.png",
      data: { imageId: "dog" },
    });
  });

  it("reuses keep-alive connections: ten events, at most two connections", async () => {
    const proxy = await startProxy(herald.events);
    try {
      const producer = createProducer({ endpoint: proxy.url, source: "/keepalive" });
      for (let i = 0; i < 10; i++) await producer.send({ type: "com.example.ka", data: { i } });
      expect(proxy.requests).toHaveLength(10);
      // Node's fetch (undici) opens a second connection while the first is being released, then
      // alternates between the two; without keep-alive there would be ten.
      expect(proxy.connections()).toBeLessThanOrEqual(2);
    } finally {
      await proxy.close();
    }
  });

  it("a retry after a lost 202 keeps the id: the gateway dedupes, the sink gets the event once", async () => {
    // The first request reaches the gateway (stored), but the producer is told 503.
    const proxy = await startProxy(herald.events, (i) =>
      i === 0 ? { kind: "forward-then", status: 503 } : { kind: "forward" },
    );
    try {
      const producer = createProducer({
        endpoint: proxy.url,
        source: "/retry",
        retry: { baseDelay: 1 },
      });
      const sent = await producer.notification({ type: "com.example.retry", subject: "x" });
      expect(proxy.requests.map((r) => r.headers["ce-id"])).toEqual([sent.id, sent.id]);
      expect(proxy.upstreamStatuses).toEqual([202, 202]);
      // A later event is delivered after the first one (one subscription, in order); the
      // duplicate never is.
      const after = await producer.notification({ type: "com.example.retry", subject: "y" });
      await deliveries(sent, after);
      expect(deliveredIds(sink.received).filter((id) => id === sent.id)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
  it("a connection reset after the gateway stored the event: retried with the same id, delivered once", async () => {
    const proxy = await startProxy(herald.events, (i) =>
      i === 0 ? { kind: "forward-then-reset" } : { kind: "forward" },
    );
    try {
      const producer = createProducer({
        endpoint: proxy.url,
        source: "/reset",
        retry: { baseDelay: 1 },
      });
      const sent = await producer.notification({ type: "com.example.reset", subject: "x" });
      expect(proxy.requests.map((r) => r.headers["ce-id"])).toEqual([sent.id, sent.id]);
      expect(proxy.upstreamStatuses).toEqual([202, 202]);
      const after = await producer.notification({ type: "com.example.reset", subject: "y" });
      await deliveries(sent, after);
      expect(deliveredIds(sink.received).filter((id) => id === sent.id)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });
});

describe("producer errors from herald serve", () => {
  const producer = () =>
    createProducer({ endpoint: herald.events, source: "/errors", retry: false });

  it("InvalidEvent names the offending attribute", async () => {
    // The sampled-rate extension is at least 1 (extensions/sampledrate.md): the gateway checks
    // that, the SDK does not. (A `time` that is no timestamp no longer gets this far.)
    const err = await producer()
      .send({ type: "com.example.bad", sampledrate: 0 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidEvent);
    expect(err).toMatchObject({ code: "invalid_event", status: 400 });
    expect((err as InvalidEvent).attributes).toEqual(["sampledrate"]);
    expect((err as InvalidEvent).problem?.code).toBe("invalid_event");
  });

  it("time and the Timestamp extensions: the producer sends exactly what the gateway takes", async () => {
    // Each value posted as is to the gateway, and given to the producer, which sends it or
    // refuses it with a TypeError: the two must agree, so no value the SDK lets through comes
    // back as a 400, and none the gateway takes is refused.
    const values = [
      "2018-04-05T17:31:00Z",
      "2018-04-05t17:31:00.123456z",
      "2018-04-05T19:31:00+02:00",
      "2018-04-05T17:31:00-00:00",
      "0000-02-29T00:00:00Z",
      "2024-02-29T23:59:59Z",
      "1990-12-31T23:59:60Z",
      "1990-12-31T15:59:60-08:00",
      "yesterday",
      "2018-04-05 17:31:00Z",
      "2018-04-05T17:31:00",
      "2018-04-05T17:31:00+0200",
      "2023-02-29T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "2018-04-31T00:00:00Z",
      "2018-04-05T24:00:00Z",
      "2018-04-05T12:00:60Z",
      "1990-12-31T23:59:60+01:00",
      "2018-04-05T17:31:00+24:00",
      "+02018-04-05T17:31:00Z",
    ];
    const sdk = producer();
    for (const name of ["time", "expirytime", "deprecationsunset"]) {
      for (const value of values) {
        const answer = await fetch(herald.events, {
          method: "POST",
          headers: { "content-type": "application/cloudevents+json" },
          body: JSON.stringify({
            specversion: "1.0",
            id: crypto.randomUUID(),
            source: "/errors",
            type: "com.example.time",
            [name]: value,
          }),
        });
        const gateway = answer.status === 202 ? "sent" : `refused ${answer.status}`;
        const outcome = await sdk.send({ type: "com.example.time", [name]: value }).then(
          () => "sent",
          (e: unknown) => (e instanceof TypeError ? "refused 400" : String(e)),
        );
        expect(`${name} ${value}: ${outcome}`).toBe(`${name} ${value}: ${gateway}`);
      }
    }
  });

  it("PayloadTooLarge for an event over limits.maxEventBytes and a batch over maxBatchEvents", async () => {
    const big = await producer()
      .send({ type: "com.example.big", data: "x".repeat(5000) })
      .catch((e: unknown) => e);
    expect(big).toBeInstanceOf(PayloadTooLarge);
    expect(big).toMatchObject({ code: "payload_too_large", status: 413 });
    expect((big as PayloadTooLarge).problem).toMatchObject({
      code: "payload_too_large",
      limit: 4096,
    });

    const many = Array.from({ length: 6 }, () => ({ type: "com.example.many" }));
    const batch = await producer()
      .send(many)
      .catch((e: unknown) => e);
    expect(batch).toBeInstanceOf(PayloadTooLarge);
    expect((batch as PayloadTooLarge).problem).toMatchObject({ code: "batch_too_large", count: 6 });
  });

  it("RequestRejected for other 4xx (404), without a retry", async () => {
    const proxy = await startProxy(herald.events);
    try {
      const p = createProducer({ endpoint: proxy.url.replace(/\/events$/, "/nope"), source: "/e" });
      const err = await p.send({ type: "com.example.nowhere" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RequestRejected);
      expect(err).toMatchObject({ code: "request_rejected", status: 404 });
      expect((err as RequestRejected).problem?.code).toBe("not_found");
      expect(proxy.requests).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it("NotificationTooLarge before anything is sent, suggesting stateTransfer", async () => {
    const proxy = await startProxy(herald.events);
    try {
      const p = createProducer({ endpoint: proxy.url, source: "/e" });
      const err = await p
        .notification({ type: "com.example.fat", subject: "s", data: { blob: "x".repeat(2000) } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotificationTooLarge);
      expect(err).toMatchObject({ code: "notification_too_large", status: 0, limit: 1024 });
      expect((err as Error).message).toMatch(/stateTransfer/);
      expect(proxy.requests).toHaveLength(0);
    } finally {
      await proxy.close();
    }
  });

  it("measures notification data as it goes on the wire: bytes, buffers, strings and JSON", async () => {
    const proxy = await startProxy(herald.events);
    try {
      const p = createProducer({ endpoint: proxy.url, source: "/e" });
      const tooLarge = async (data: unknown) => {
        const err = await p
          .notification({ type: "com.example.fat", subject: "s", data })
          .catch((e: unknown) => e);
        return err instanceof NotificationTooLarge ? err.size : undefined;
      };
      // Over the limit, whatever the form: an ArrayBuffer no longer slips through.
      expect(await tooLarge(new ArrayBuffer(5000))).toBe(5000);
      expect(await tooLarge(new Uint8Array(1025))).toBe(1025);
      expect(await tooLarge("é".repeat(600))).toBe(1200);
      expect(proxy.requests).toHaveLength(0);
      // At or under it: 200 bytes are 200 bytes (not the JSON text of an object of indices), and
      // a 1,024-character string is 1,024 bytes of text, not 1,026 with quotes.
      expect(await tooLarge(new Uint8Array(200))).toBeUndefined();
      expect(await tooLarge("x".repeat(1024))).toBeUndefined();
      expect(await tooLarge({ id: "x".repeat(1000) })).toBeUndefined();
      expect(proxy.requests).toHaveLength(3);
    } finally {
      await proxy.close();
    }
  });

  it("StateTooLarge before anything is sent, suggesting a notification with dataref", async () => {
    const proxy = await startProxy(herald.events);
    try {
      const p = createProducer({ endpoint: proxy.url, source: "/e", maxEventBytes: 4096 });
      const err = await p
        .stateTransfer({ type: "com.example.huge", data: { blob: "x".repeat(4096) } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StateTooLarge);
      expect(err).toMatchObject({ code: "state_too_large", limit: 4096 });
      expect((err as StateTooLarge).size).toBeGreaterThan(4096);
      expect((err as Error).message).toMatch(/dataref/);
      expect(proxy.requests).toHaveLength(0);
      // Just under the limit goes through: the producer measures what the gateway measures.
      const fits = await p.stateTransfer({
        type: "com.example.fits",
        data: { blob: "x".repeat(3000) },
      });
      expect(fits.source).toBe("/e");
    } finally {
      await proxy.close();
    }
  });
});
