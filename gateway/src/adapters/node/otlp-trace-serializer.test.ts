import {
  type Attributes,
  type HrTime,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { TraceState } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it, vi } from "vitest";
import { serializeTraceRequest } from "./otlp-trace-serializer.js";

/** The reference: what `@opentelemetry/exporter-trace-otlp-proto` sends. */
function upstream(spans: ReadableSpan[]): Buffer {
  return Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array());
}

function expectSameBytes(spans: ReadableSpan[]): void {
  const ours = Buffer.from(serializeTraceRequest(spans));
  expect(ours.length).toBe(upstream(spans).length);
  expect(ours.equals(upstream(spans))).toBe(true);
}

const resource = resourceFromAttributes({ "service.name": "herald", "host.name": "vm" });
const scope = { name: "@herald/gateway" };

/** A finished span as the SDK hands it to exporters, with every field settable. */
function span(overrides: Partial<ReadableSpan> & { traceState?: string } = {}): ReadableSpan {
  const { traceState, ...rest } = overrides;
  const context = {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: "b7ad6b7169203331",
    traceFlags: 1,
    ...(traceState === undefined ? {} : { traceState: new TraceState(traceState) }),
  };
  const start: HrTime = [1_795_876_551, 860_000_123];
  const end: HrTime = [1_795_876_551, 999_999_999];
  return {
    name: "POST /events",
    kind: SpanKind.SERVER,
    spanContext: () => context,
    startTime: start,
    endTime: end,
    status: { code: SpanStatusCode.UNSET },
    attributes: {},
    links: [],
    events: [],
    duration: [0, 139_999_876],
    ended: true,
    resource,
    instrumentationScope: scope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...rest,
  };
}

describe("serializeTraceRequest", () => {
  it("writes what the upstream serializer writes for the spans a traced gateway makes", () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource,
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = provider.getTracer("@herald/gateway", "1.2.3");
    for (let i = 0; i < 50; i++) {
      const server = tracer.startSpan("POST /events", { kind: SpanKind.SERVER });
      server.setAttributes({
        "http.request.method": "POST",
        "url.path": "/events",
        "cloudevents.event_id": `id-${i}-${"x".repeat(i * 3)}`,
        "cloudevents.event_type": "com.example.bench.42",
      });
      const context = trace.setSpan(ROOT_CONTEXT, server);
      const store = tracer.startSpan("store events", {}, context);
      store.setAttributes({ "messaging.batch.message_count": i, "herald.events.duplicate": 0 });
      store.end();
      server.setAttribute("http.response.status_code", 202);
      server.end();
      const delivery = tracer.startSpan(
        "deliver s",
        { kind: SpanKind.CLIENT, links: [{ context: server.spanContext() }] },
        context,
      );
      delivery.setAttributes({ "server.port": 18_200, "herald.delivery.attempt": i + 1 });
      if (i % 7 === 0) {
        delivery.recordException(new Error(`refused ${i}`));
        delivery.setStatus({ code: SpanStatusCode.ERROR, message: "sink answered 503" });
      }
      delivery.end();
    }
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(150);
    expectSameBytes(spans);
  });

  it("writes every kind of attribute value as the upstream serializer does", () => {
    const attributes: Attributes = {
      empty: "",
      ascii: "plain",
      twoBytes: "café",
      threeBytes: "€ and 漢字",
      fourBytes: "emoji 😀",
      loneHigh: "a\ud800b",
      loneLow: "\udc00",
      control: "\u0000\u001f\u007f",
      at42: "x".repeat(42),
      at43: "x".repeat(43),
      nonAscii42: "é".repeat(42),
      nonAscii43: "é".repeat(43),
      euro42: "€".repeat(42),
      euro43: "€".repeat(43),
      long: "y".repeat(300),
      huge: "z".repeat(20_000),
      hugeUnicode: "ü".repeat(9_000),
      longLoneHigh: `${"x".repeat(60)}\ud800y`,
      longLoneAtEnd: `${"x".repeat(60)}\udbff`,
      longPair: `${"x".repeat(60)}😀`,
      yes: true,
      no: false,
      zero: 0,
      small: 127,
      bigger: 128,
      u32: 0xffffffff,
      over32: 2 ** 32 + 5,
      over53: 2 ** 60,
      over62: 2 ** 62 + 2 ** 56,
      negative: -1,
      negativeBig: -(2 ** 40) - 3,
      minInt64: -(2 ** 63),
      maxInt64: 2 ** 63,
      float: 3.25,
      negativeFloat: -0.5,
      negativeZero: -0,
      nan: Number.NaN,
      infinity: Number.POSITIVE_INFINITY,
      strings: ["a", "b", "ü"],
      numbers: [1, 2.5, -3],
      booleans: [true, false],
      withHoles: ["a", null, undefined, "b"] as unknown as string[],
      emptyArray: [],
    };
    expectSameBytes([span({ attributes })]);
  });

  it("writes bytes, nested lists and key-value lists, which no SDK span holds but OTLP allows", () => {
    const attributes = {
      bytes: new Uint8Array([0, 1, 2, 255]),
      nested: [
        [1, 2],
        ["x", ["y"]],
      ],
      map: { a: 1, b: "two", c: { d: [true] } },
      nothing: null,
      undefinedValue: undefined,
      fn: () => 1,
    } as unknown as Attributes;
    expectSameBytes([span({ attributes })]);
  });

  it("writes parents, trace state, events, links, statuses and dropped counts as upstream does", () => {
    const remoteParent = {
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "00f067aa0ba902b7",
      traceFlags: 0,
      isRemote: true,
    };
    const spans = [
      span({
        traceState: "vendor=a,other=b",
        parentSpanContext: remoteParent,
        kind: SpanKind.CONSUMER,
        status: { code: SpanStatusCode.ERROR, message: "sink answered 503 — ü" },
        events: [
          { name: "exception", time: [1, 2], attributes: { "exception.message": "boom" } },
          { name: "bare", time: [4_294_967_296, 999_999_999], droppedAttributesCount: 3 },
        ],
        links: [
          { context: { ...remoteParent, traceState: new TraceState("k=v") } },
          {
            context: { ...remoteParent, isRemote: false, traceFlags: 1 },
            attributes: { "link.kind": "creation" },
            droppedAttributesCount: 2,
          },
        ],
        droppedAttributesCount: 4,
        droppedEventsCount: 5,
        droppedLinksCount: 6,
      }),
      span({ parentSpanContext: { ...remoteParent, isRemote: false }, kind: SpanKind.INTERNAL }),
      span({ kind: undefined as unknown as SpanKind, startTime: [0, 0], endTime: [0, 1] }),
      span({ status: { code: SpanStatusCode.OK } }),
    ];
    expectSameBytes(spans);
  });

  it("groups by resource and scope as upstream does, with versions, schema URLs and attributes", () => {
    const other = resourceFromAttributes({ "service.name": "other" }, { schemaUrl: "https://x/1" });
    const versioned = { name: "a", version: "1.0.0", schemaUrl: "https://opentelemetry.io/s" };
    const spans = [
      span({ name: "one" }),
      span({ name: "two", resource: other }),
      span({ name: "three", instrumentationScope: versioned }),
      span({ name: "four", resource: other, instrumentationScope: versioned }),
      span({ name: "five" }),
      span({ name: "six", resource: resourceFromAttributes({}) }),
    ];
    expectSameBytes(spans);
  });

  it("writes a request of a thousand spans, whose messages need multi-byte lengths", () => {
    const spans = Array.from({ length: 1_000 }, (_, i) =>
      span({
        name: `span ${i}`,
        attributes: { i, text: "t".repeat(i % 200), "cloudevents.event_id": `e-${i}` },
      }),
    );
    expectSameBytes(spans);
  });

  it("writes the same bytes again and again, also past the number of keys it keeps encoded", () => {
    const many = Array.from({ length: 1_500 }, (_, i) =>
      span({ attributes: { [`key.${i}`]: i, [`ключ.${i}`]: `v${i}` } }),
    );
    expectSameBytes(many);
    expectSameBytes(many);
    expectSameBytes([span({ attributes: { "key.1": 1, "key.1499": "late" } })]);
  });

  it("writes each value under a key as it is, however the values under that key repeat or change", async () => {
    // The writer keeps the last value of each key with its bytes: a repeat is copied, so every
    // way a value can look like the kept one (or stop repeating) must still come out as written.
    // A fresh module: the shared writer keeps no new key once it holds 1,024 (earlier tests).
    vi.resetModules();
    const { serializeTraceRequest: fresh } = await import("./otlp-trace-serializer.js");
    const same = (spans: ReadableSpan[]) =>
      expect(Buffer.from(fresh(spans)).equals(upstream(spans))).toBe(true);
    const values: unknown[] = [
      "POST",
      "POST",
      "GET",
      "POST",
      "1",
      1,
      1,
      true,
      "true",
      1.5,
      "x".repeat(300),
      "x".repeat(300),
      ["a"],
      ["a"],
      { k: "v" },
      new Uint8Array([1, 2]),
      "",
      "",
      "é",
    ];
    // Then a value that never repeats, past the point where the writer stops keeping them, and
    // back to a repeating one.
    for (let i = 0; i < 40; i++) values.push(`id-${i}`);
    values.push("again", "again", "again");
    const spans = values.map((value, i) =>
      span({
        attributes: { "repeat.me": value, other: i % 3, "repeat.me.too": value } as Attributes,
      }),
    );
    same(spans);
    for (const one of spans) same([one]);
    same([...spans].reverse());
  });

  it("returns its own copy: a later request does not change an earlier one", () => {
    const first = serializeTraceRequest([span({ name: "first" })]);
    const copy = Buffer.from(first);
    serializeTraceRequest([span({ name: "second, a longer name" })]);
    expect(Buffer.from(first).equals(copy)).toBe(true);
  });

  it("writes an empty request for no spans", () => {
    expect(serializeTraceRequest([])).toHaveLength(0);
    expectSameBytes([]);
  });

  it("decodes ids that are not lowercase hex of whole bytes as the upstream decoder does", () => {
    const base = span();
    const withIds = (traceId: string, spanId: string): ReadableSpan => ({
      ...base,
      spanContext: () => ({ ...base.spanContext(), traceId, spanId }),
    });
    expectSameBytes([
      withIds("0AF7651916CD43DD8448EB211C80319C", "B7AD6B7169203331"),
      withIds("0af7651916cd43dd8448eb211c80319", "abc"),
      withIds("zz", "g-"),
      withIds("", ""),
    ]);
  });
});
