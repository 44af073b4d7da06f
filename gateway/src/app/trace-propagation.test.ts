import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterEach, describe, expect, it } from "vitest";
import { type ScriptedSink, startScriptedSink } from "../../test/support/scripted-sink.js";
import { parseConfig } from "../config/load-config.js";
import { createGateway, type Gateway } from "./create-gateway.js";

// W3C trace context through the whole gateway, in one process: spans go to an in-memory
// exporter, deliveries to real sinks on 127.0.0.1.

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";
const INCOMING = `00-${TRACE}-${PARENT}-01`;
const W3C = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

const sinks: ScriptedSink[] = [];
let gateway: Gateway | undefined;
let provider: BasicTracerProvider | undefined;
afterEach(async () => {
  // This test's resources are taken before the first await: a hook that outlives its timeout
  // must not stop or close what the next test has started meanwhile.
  const [held, heldProvider, heldSinks] = [gateway, provider, sinks.splice(0)];
  gateway = undefined;
  provider = undefined;
  await held?.stop();
  await heldProvider?.shutdown();
  for (const sink of heldSinks) await sink.close();
});

async function sinkOf(...script: Parameters<typeof startScriptedSink>[0]) {
  const sink = await startScriptedSink(script);
  sinks.push(sink);
  return sink;
}

function start(
  sink: string,
  options: { delivery?: Record<string, unknown>; traced?: boolean } = {},
): { gw: Gateway; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  const config = {
    store: { kind: "memory" },
    subscriptions: [
      {
        id: "orders",
        types: ["com.example.order"],
        sink,
        delivery: { backoffDelay: "1ms", backoffMax: "2ms", ...options.delivery },
      },
    ],
  };
  let tracer: ReturnType<BasicTracerProvider["getTracer"]> | undefined;
  if (options.traced !== false) {
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    tracer = provider.getTracer("test");
  }
  gateway = createGateway({
    config: parseConfig(JSON.stringify(config), "t.json"),
    random: () => 0.5,
    ...(tracer === undefined ? {} : { tracer }),
  });
  gateway.start();
  return { gw: gateway, exporter };
}

function binary(id: string, headers: Record<string, string> = {}): Request {
  return new Request("http://gw/events", {
    method: "POST",
    headers: {
      "ce-specversion": "1.0",
      "ce-id": id,
      "ce-source": "/shop",
      "ce-type": "com.example.order",
      "ce-subject": "order-7",
      "content-type": "application/json",
      ...headers,
    },
    body: '{"order":7}',
  });
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const only = (spans: ReadableSpan[], name: string): ReadableSpan => {
  const found = named(spans, name);
  expect(found, `exactly one span named ${name}`).toHaveLength(1);
  return found[0] as ReadableSpan;
};

describe("trace propagation", () => {
  it("continues the incoming trace: ingest span, store span, delivery span, headers at the sink", async () => {
    const sink = await sinkOf({ status: 204 });
    const { gw, exporter } = start(sink.url);
    const res = await gw.fetch(binary("t-1", { traceparent: INCOMING, tracestate: "rojo=1" }));
    expect(res.status).toBe(202);
    const [got] = await sink.waitFor(1);
    await gw.idle();
    const spans = exporter.getFinishedSpans();

    const ingest = only(spans, "POST /events");
    expect(ingest.kind).toBe(SpanKind.SERVER);
    expect(ingest.spanContext().traceId).toBe(TRACE);
    expect(ingest.parentSpanContext?.spanId).toBe(PARENT);
    expect(ingest.attributes).toMatchObject({
      "http.request.method": "POST",
      // HTTP server span conventions: method, scheme and path are required.
      "url.scheme": "http",
      "url.path": "/events",
      "http.route": "/events",
      "http.response.status_code": 202,
      "cloudevents.event_id": "t-1",
      "cloudevents.event_source": "/shop",
      "cloudevents.event_type": "com.example.order",
      "cloudevents.event_subject": "order-7",
      "cloudevents.event_spec_version": "1.0",
    });

    const store = only(spans, "store events");
    expect(store.parentSpanContext?.spanId).toBe(ingest.spanContext().spanId);
    expect(store.attributes["herald.deliveries"]).toBe(1);

    // The event carries the trace it started in: the producer's, as its traceparent header said
    // (distributed-tracing extension: the starting trace, never a hop's such as the ingest span).
    const extension = got?.headers["ce-traceparent"];
    expect(extension).toBe(INCOMING);
    expect(got?.headers["ce-tracestate"]).toBe("rojo=1");

    const deliver = only(spans, "deliver orders");
    expect(deliver.kind).toBe(SpanKind.CLIENT);
    expect(deliver.spanContext().traceId).toBe(TRACE);
    expect(deliver.parentSpanContext?.spanId).toBe(PARENT);
    expect(deliver.links.map((l) => l.context.spanId)).toStrictEqual([PARENT]);
    expect(deliver.attributes).toMatchObject({
      "herald.subscription.id": "orders",
      "herald.delivery.attempt": 1,
      "http.response.status_code": 204,
      "cloudevents.event_id": "t-1",
      // Messaging span conventions (which the CloudEvents ones defer to): the span name is
      // `{messaging.operation.name} {destination}`; system and operation name are required.
      "messaging.system": "herald",
      "messaging.operation.name": "deliver",
      "messaging.operation.type": "send",
      "messaging.destination.name": "orders",
      "messaging.message.id": "t-1",
    });
    expect(deliver.attributes["messaging.batch.message_count"]).toBeUndefined();
    // The delivery request's own W3C header is the delivery span, not the event's creation span.
    expect(got?.headers.traceparent).toBe(`00-${TRACE}-${deliver.spanContext().spanId}-01`);
    expect(got?.headers.tracestate).toBe("rojo=1");
  });

  it("names the ingest span by its route however the path was spelt (low-cardinality)", async () => {
    const sink = await sinkOf({ status: 204 }, { status: 204 }, { status: 204 });
    const { gw, exporter } = start(sink.url);
    for (const [id, path] of [
      ["r-1", "/%65vents"],
      ["r-2", "/%65%76ents?x=1"],
      ["r-3", "/?x=1"],
    ] as const) {
      const request = binary(id);
      const res = await gw.fetch(new Request(`http://gw${path}`, request));
      expect(res.status).toBe(202);
    }
    await sink.waitFor(3);
    await gw.idle();
    const ingest = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(
      ingest.map((s) => [s.name, s.attributes["http.route"], s.attributes["url.path"]]),
    ).toEqual([
      ["POST /events", "/events", "/%65vents"],
      ["POST /events", "/events", "/%65%76ents"],
      ["POST /", "/", "/"],
    ]);
  });

  it("keeps a producer's traceparent extension unchanged and delivers into that trace", async () => {
    const sink = await sinkOf({ status: 204 });
    const { gw, exporter } = start(sink.url);
    const own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const res = await gw.fetch(
      binary("t-2", { "ce-traceparent": own, "ce-tracestate": "congo=t61", traceparent: INCOMING }),
    );
    expect(res.status).toBe(202);
    const [got] = await sink.waitFor(1);
    await gw.idle();
    expect(got?.headers["ce-traceparent"]).toBe(own);
    expect(got?.headers["ce-tracestate"]).toBe("congo=t61");
    const deliver = only(exporter.getFinishedSpans(), "deliver orders");
    expect(deliver.spanContext().traceId).toBe("0af7651916cd43dd8448eb211c80319c");
    expect(deliver.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
    expect(got?.headers.traceparent).toBe(
      `00-0af7651916cd43dd8448eb211c80319c-${deliver.spanContext().spanId}-01`,
    );
    expect(got?.headers.tracestate).toBe("congo=t61");
  });

  it("keeps a producer's random trace-id flag on every recorded attempt (Trace Context Level 2 3.2.2.5)", async () => {
    // "If the flag is set in the incoming traceparent header, it MUST also be set in all
    // outgoing traceparent headers which use the same trace-id". The SDK's span carries only
    // the sampled bit, so the random one is the producer's to pass on.
    const sink = await sinkOf({ status: 503 }, { status: 204 });
    const { gw, exporter } = start(sink.url, { delivery: { retry: 1 } });
    const random = `00-${TRACE}-${PARENT}-03`;
    expect((await gw.fetch(binary("t-rnd", { traceparent: random }))).status).toBe(202);
    const received = await sink.waitFor(2);
    await gw.idle();
    const attempts = named(exporter.getFinishedSpans(), "deliver orders");
    expect(attempts).toHaveLength(2);
    expect(received.map((r) => r.headers["ce-traceparent"])).toStrictEqual([random, random]);
    expect(received.map((r) => r.headers.traceparent).sort()).toStrictEqual(
      attempts.map((s) => `00-${TRACE}-${s.spanContext().spanId}-03`).sort(),
    );
  });

  it("follows a producer's 'not sampled' decision: no delivery span, the flag passed on", async () => {
    const sink = await sinkOf({ status: 204 });
    const { gw, exporter } = start(sink.url);
    const own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00";
    expect((await gw.fetch(binary("t-2b", { "ce-traceparent": own }))).status).toBe(202);
    const [got] = await sink.waitFor(1);
    await gw.idle();
    expect(got?.headers["ce-traceparent"]).toBe(own);
    expect(named(exporter.getFinishedSpans(), "deliver orders")).toHaveLength(0);
    expect(got?.headers.traceparent).toMatch(
      /^00-0af7651916cd43dd8448eb211c80319c-(?!b7ad6b7169203331)[0-9a-f]{16}-00$/,
    );
  });

  it("makes one span per attempt, all in the event's trace, failures recorded", async () => {
    const sink = await sinkOf({ status: 503, body: "busy" }, { status: 503 }, { status: 200 });
    const { gw, exporter } = start(sink.url, { delivery: { retry: 3 } });
    expect((await gw.fetch(binary("t-3", { traceparent: INCOMING }))).status).toBe(202);
    const received = await sink.waitFor(3);
    await gw.idle();
    const attempts = named(exporter.getFinishedSpans(), "deliver orders").sort(
      (a, b) =>
        Number(a.attributes["herald.delivery.attempt"]) -
        Number(b.attributes["herald.delivery.attempt"]),
    );
    expect(attempts.map((s) => s.attributes["herald.delivery.attempt"])).toStrictEqual([1, 2, 3]);
    expect(new Set(attempts.map((s) => s.spanContext().traceId))).toStrictEqual(new Set([TRACE]));
    expect(attempts.map((s) => s.status.code)).toStrictEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    expect(attempts[0]?.status.message).toBe("busy");
    expect(attempts.map((s) => s.attributes["http.response.status_code"])).toStrictEqual([
      503, 503, 200,
    ]);
    // Each attempt sends its own span id; the event's extension stays the same on every retry.
    const headers = received.map((r) => r.headers.traceparent);
    expect(headers).toStrictEqual(attempts.map((s) => `00-${TRACE}-${s.spanContext().spanId}-01`));
    expect(new Set(received.map((r) => r.headers["ce-traceparent"])).size).toBe(1);
  });

  it("names what kept an answer from coming in error.type: timeout, or network", async () => {
    const hanging = await sinkOf({ status: 200, hang: true });
    const closed = await startScriptedSink([{ status: 204 }]);
    await closed.close();
    for (const [sink, errorType, delivery] of [
      [hanging.url, "timeout", { timeout: "250ms" }],
      [closed.url, "network", {}],
    ] as const) {
      const { gw, exporter } = start(sink, { delivery: { retry: 0, ...delivery } });
      expect((await gw.fetch(binary(`t-${errorType}`, { traceparent: INCOMING }))).status).toBe(
        202,
      );
      await gw.idle();
      const deliver = only(exporter.getFinishedSpans(), "deliver orders");
      expect(deliver.status.code).toBe(SpanStatusCode.ERROR);
      expect(deliver.attributes["error.type"]).toBe(errorType);
      expect(deliver.attributes).not.toHaveProperty("http.response.status_code");
      await gw.stop();
      await provider?.shutdown();
    }
  });

  it("traces dead-lettering as a span of its own, with the failed attempt's status", async () => {
    const sink = await sinkOf({ status: 400, body: "no" });
    const dls = await sinkOf({ status: 204 });
    const { gw, exporter } = start(sink.url, { delivery: { retry: 0, deadLetterSink: dls.url } });
    expect((await gw.fetch(binary("t-4", { traceparent: INCOMING }))).status).toBe(202);
    const [dead] = await dls.waitFor(1);
    await gw.idle();
    const spans = exporter.getFinishedSpans();
    const deliver = only(spans, "deliver orders");
    expect(deliver.attributes["error.type"]).toBe("400");
    const deadLetter = only(spans, "dead-letter orders");
    expect(deadLetter.kind).toBe(SpanKind.CLIENT);
    expect(deadLetter.attributes).toMatchObject({
      "messaging.system": "herald",
      "messaging.operation.name": "dead-letter",
      "messaging.operation.type": "send",
      "messaging.destination.name": "orders",
      "messaging.message.id": "t-4",
    });
    expect(deadLetter.spanContext().traceId).toBe(TRACE);
    expect(dead?.headers.traceparent).toBe(`00-${TRACE}-${deadLetter.spanContext().spanId}-01`);
    expect(dead?.headers["ce-heralderrorcode"]).toBe("400");
  });

  it("traces a batch delivery as one span linking every event's creation context", async () => {
    const sink = await sinkOf({ status: 204 });
    const { gw, exporter } = start(sink.url, {
      delivery: { mode: "batch", maxBatchSize: 2, maxBatchWait: "1s" },
    });
    const other = "11111111111111111111111111111111";
    expect((await gw.fetch(binary("b-1", { traceparent: INCOMING }))).status).toBe(202);
    expect(
      (await gw.fetch(binary("b-2", { traceparent: `00-${other}-${PARENT}-01` }))).status,
    ).toBe(202);
    await sink.waitFor(1);
    await gw.idle();
    const spans = exporter.getFinishedSpans();
    const deliver = only(spans, "deliver orders");
    expect(deliver.kind).toBe(SpanKind.CLIENT);
    expect(deliver.links.map((l) => l.context.traceId).sort()).toStrictEqual([other, TRACE]);
    expect(deliver.attributes).toMatchObject({
      "messaging.system": "herald",
      "messaging.operation.name": "deliver",
      "messaging.operation.type": "send",
      "messaging.destination.name": "orders",
      "messaging.batch.message_count": 2,
    });
    // Per-message attributes belong on the links of a batch, not on its span.
    expect(deliver.attributes["messaging.message.id"]).toBeUndefined();
    expect(deliver.attributes["cloudevents.event_id"]).toBeUndefined();
  });

  it.each([
    ["garbage", "garbage"],
    ["upper-case hex", `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ["all-zero trace id", `00-${"0".repeat(32)}-${PARENT}-01`],
    ["all-zero span id", `00-${TRACE}-${"0".repeat(16)}-01`],
    ["version ff", `ff-${TRACE}-${PARENT}-01`],
    ["version 00 with more after it", `${INCOMING}-extra`],
    ["two headers joined", `${INCOMING}, ${INCOMING}`],
    ["very long", `00-${TRACE}-${PARENT}-01${"-x".repeat(4000)}`],
  ])("ignores a malformed traceparent header (%s): 202, a new trace", async (_, value) => {
    const sink = await sinkOf({ status: 204 });
    const { gw, exporter } = start(sink.url);
    const res = await gw.fetch(binary("bad-tp", { traceparent: value, tracestate: "a=1" }));
    expect(res.status).toBe(202);
    const [got] = await sink.waitFor(1);
    await gw.idle();
    const ingest = only(exporter.getFinishedSpans(), "POST /events");
    expect(ingest.parentSpanContext).toBeUndefined();
    expect(ingest.spanContext().traceId).not.toBe(TRACE);
    expect(got?.headers["ce-traceparent"]).toBe(
      `00-${ingest.spanContext().traceId}-${ingest.spanContext().spanId}-01`,
    );
    // A tracestate without a valid traceparent means nothing (W3C 3.3).
    expect(got?.headers["ce-tracestate"]).toBeUndefined();
  });

  it("drops an invalid tracestate but keeps the traceparent", async () => {
    const sink = await sinkOf({ status: 204 });
    const { gw } = start(sink.url);
    const res = await gw.fetch(
      binary("bad-ts", { traceparent: INCOMING, tracestate: "Bad Key=1" }),
    );
    expect(res.status).toBe(202);
    const [got] = await sink.waitFor(1);
    expect(got?.headers["ce-traceparent"]).toMatch(new RegExp(`^00-${TRACE}-`));
    expect(got?.headers["ce-tracestate"]).toBeUndefined();
    expect(got?.headers.tracestate).toBeUndefined();
  });

  it("gives every event of a batch the request's trace and counts them on the span", async () => {
    const sink = await sinkOf({ status: 204 });
    const { gw, exporter } = start(sink.url);
    const batch = JSON.stringify([
      { specversion: "1.0", id: "b-1", source: "/shop", type: "com.example.order" },
      {
        specversion: "1.0",
        id: "b-2",
        source: "/shop",
        type: "com.example.order",
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
    ]);
    const res = await gw.fetch(
      new Request("http://gw/events", {
        method: "POST",
        headers: { "content-type": "application/cloudevents-batch+json", traceparent: INCOMING },
        body: batch,
      }),
    );
    expect(res.status).toBe(202);
    const received = await sink.waitFor(2);
    await gw.idle();
    const ingest = only(exporter.getFinishedSpans(), "POST /events");
    expect(ingest.attributes["messaging.batch.message_count"]).toBe(2);
    const byId = new Map(received.map((r) => [r.headers["ce-id"], r.headers["ce-traceparent"]]));
    expect(byId.get("b-1")).toBe(INCOMING);
    expect(byId.get("b-2")).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  });

  it("records a refused request on the ingest span without marking a 4xx as a server error", async () => {
    const sink = await sinkOf({ status: 204 });
    const { gw, exporter } = start(sink.url);
    const res = await gw.fetch(
      new Request("http://gw/events", {
        method: "POST",
        headers: { "ce-specversion": "1.0", "ce-id": "x", traceparent: INCOMING },
      }),
    );
    expect(res.status).toBe(400);
    const ingest = only(exporter.getFinishedSpans(), "POST /events");
    expect(ingest.attributes["http.response.status_code"]).toBe(400);
    expect(ingest.attributes["error.type"]).toBe("invalid_event");
    expect(ingest.status.code).toBe(SpanStatusCode.UNSET);
    expect(ingest.parentSpanContext?.spanId).toBe(PARENT);
  });
});

describe("trace propagation without a tracing SDK", () => {
  it("passes the incoming context on as the extension, and sends a fresh span id per attempt", async () => {
    const sink = await sinkOf({ status: 503 }, { status: 204 });
    const { gw } = start(sink.url, { traced: false, delivery: { retry: 1 } });
    const res = await gw.fetch(binary("n-1", { traceparent: INCOMING, tracestate: "rojo=1" }));
    expect(res.status).toBe(202);
    const received = await sink.waitFor(2);
    await gw.idle();
    for (const got of received) {
      expect(got.headers["ce-traceparent"]).toBe(INCOMING);
      expect(got.headers["ce-tracestate"]).toBe("rojo=1");
    }
    const [first, second] = received.map((r) => W3C.exec(String(r.headers.traceparent)));
    expect(first?.[1]).toBe(TRACE);
    expect(second?.[1]).toBe(TRACE);
    expect(first?.[2]).not.toBe(PARENT);
    expect(first?.[2]).not.toBe(second?.[2]);
  });

  it.each([["garbage"], ["00-00000000000000000000000000000000-0000000000000000-01"]])(
    "replaces an extension that is not W3C Trace Context (%s): every attempt in one trace",
    async (bad) => {
      const sink = await sinkOf({ status: 503 }, { status: 204 });
      const { gw } = start(sink.url, { traced: false, delivery: { retry: 1 } });
      const res = await gw.fetch(
        binary("n-bad", { "ce-traceparent": bad, "ce-tracestate": "x=1", traceparent: INCOMING }),
      );
      expect(res.status).toBe(202);
      const received = await sink.waitFor(2);
      await gw.idle();
      for (const got of received) {
        // The request's valid context stands in for the broken one; its tracestate went with it.
        expect(got.headers["ce-traceparent"]).toBe(INCOMING);
        expect(got.headers["ce-tracestate"]).toBeUndefined();
        expect(W3C.exec(String(got.headers.traceparent))?.[1]).toBe(TRACE);
      }
    },
  );

  it("passes a long tracestate on cut to 512 characters and zeroes reserved flags (W3C 3.3.1.5, 3.2.2.5)", async () => {
    const sink = await sinkOf({ status: 204 });
    const { gw } = start(sink.url, { traced: false });
    // 25 valid members of 24 characters (624 in all) and one of 204, first in the list.
    const members = Array.from(
      { length: 25 },
      (_, i) => `k${String(i).padStart(2, "0")}=${"v".repeat(20)}`,
    );
    const tracestate = [`big=${"x".repeat(200)}`, ...members].join(",");
    const res = await gw.fetch(
      binary("n-long", { traceparent: `00-${TRACE}-${PARENT}-ff`, tracestate }),
    );
    expect(res.status).toBe(202);
    const [got] = await sink.waitFor(1);
    // The member over 128 characters goes first, then members from the end until it fits.
    const kept = members.slice(0, 20).join(",");
    expect(got?.headers["ce-traceparent"]).toBe(`00-${TRACE}-${PARENT}-03`);
    expect(got?.headers["ce-tracestate"]).toBe(kept);
    expect(got?.headers.tracestate).toBe(kept);
    expect(W3C.exec(String(got?.headers.traceparent))?.[3]).toBe("03");
  });

  it("starts a trace for an event that comes without one", async () => {
    const sink = await sinkOf({ status: 204 });
    const { gw } = start(sink.url, { traced: false });
    expect((await gw.fetch(binary("n-2"))).status).toBe(202);
    const [got] = await sink.waitFor(1);
    const extension = W3C.exec(String(got?.headers["ce-traceparent"]));
    const header = W3C.exec(String(got?.headers.traceparent));
    expect(extension).not.toBeNull();
    expect(header?.[1]).toBe(extension?.[1]);
    expect(header?.[2]).not.toBe(extension?.[2]);
  });
});
