import { AsyncLocalStorage } from "node:async_hooks";
import {
  type Context,
  context,
  createTraceState,
  ROOT_CONTEXT,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProducer } from "./producer.js";
import { loadTraceApi, traceAttributes } from "./trace-context.js";

// The API alone keeps no context; applications register one with their OpenTelemetry SDK. This is
// the smallest one that follows async calls.
const storage = new AsyncLocalStorage<Context>();
const manager = {
  active: () => storage.getStore() ?? ROOT_CONTEXT,
  with: <A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ) => storage.run(ctx, () => fn.call(thisArg, ...args)),
  bind: <T>(_ctx: Context, target: T) => target,
  enable() {
    return this;
  },
  disable() {
    return this;
  },
};
beforeAll(() => {
  context.setGlobalContextManager(manager);
});
afterAll(() => {
  context.disable();
});

const span = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.SAMPLED,
};
const inSpan = <T>(fn: () => Promise<T>) =>
  context.with(trace.setSpanContext(ROOT_CONTEXT, span), fn);

describe("trace context", () => {
  it("loads @opentelemetry/api when it is installed", async () => {
    expect(await loadTraceApi()).toBeDefined();
  });

  it("formats the active span as traceparent version 00", async () => {
    const api = (await loadTraceApi())!;
    const attrs = await inSpan(async () => traceAttributes(api));
    expect(attrs).toEqual({ traceparent: `00-${span.traceId}-${span.spanId}-01` });
    expect(traceAttributes(api)).toBeUndefined();
  });

  it("the producer sets the extension and the traceparent header from the active span", async () => {
    const seen: Request[] = [];
    const producer = createProducer({
      endpoint: "http://gateway.test/events",
      source: "/traced",
      fetch: async (input, init) => {
        seen.push(new Request(input, init));
        return new Response(null, { status: 202 });
      },
    });
    await inSpan(() => producer.notification({ type: "t", subject: "s" }));
    await producer.notification({ type: "t", subject: "outside" });
    await inSpan(() =>
      producer.send({
        type: "t",
        traceparent: "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-00",
      }),
    );
    const traceparent = `00-${span.traceId}-${span.spanId}-01`;
    expect(seen[0]!.headers.get("ce-traceparent")).toBe(traceparent);
    expect(seen[0]!.headers.get("traceparent")).toBe(traceparent);
    expect(seen[1]!.headers.get("ce-traceparent")).toBeNull();
    // An event that carries its own trace context keeps it.
    expect(seen[2]!.headers.get("ce-traceparent")).toBe(
      "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-00",
    );
  });

  it("the request's tracestate header is the event's, as its traceparent header is", async () => {
    const seen: Request[] = [];
    const producer = createProducer({
      endpoint: "http://gateway.test/events",
      source: "/traced",
      fetch: async (input, init) => {
        seen.push(new Request(input, init));
        return new Response(null, { status: 202 });
      },
    });
    const traceState = createTraceState("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    await context.with(trace.setSpanContext(ROOT_CONTEXT, { ...span, traceState }), () =>
      producer.notification({ type: "t", subject: "s" }),
    );
    const own = "00-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-bbbbbbbbbbbbbbbb-01";
    await producer.send([{ type: "t", traceparent: own, tracestate: "vendor=x" }, { type: "u" }]);
    expect(seen[0]!.headers.get("ce-tracestate")).toBe("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    expect(seen[0]!.headers.get("tracestate")).toBe("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    expect(seen[1]!.headers.get("traceparent")).toBe(own);
    expect(seen[1]!.headers.get("tracestate")).toBe("vendor=x");
  });

  it("tracing: false leaves trace context out", async () => {
    const seen: Request[] = [];
    const producer = createProducer({
      endpoint: "http://gateway.test/events",
      source: "/untraced",
      tracing: false,
      fetch: async (input, init) => {
        seen.push(new Request(input, init));
        return new Response(null, { status: 202 });
      },
    });
    await inSpan(() => producer.notification({ type: "t", subject: "s" }));
    expect(seen[0]!.headers.get("ce-traceparent")).toBeNull();
    expect(seen[0]!.headers.get("traceparent")).toBeNull();
  });

  it("without the package, loading gives undefined instead of failing", async () => {
    expect(await loadTraceApi("@opentelemetry/not-installed-here")).toBeUndefined();
  });
});
