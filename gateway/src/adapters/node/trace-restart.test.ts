import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, describe, expect, it } from "vitest";
import { startScriptedSink } from "../../../test/support/scripted-sink.js";
import { createGateway } from "../../app/create-gateway.js";
import { parseConfig } from "../../config/load-config.js";
import { openSqliteStore } from "./sqlite-store.js";

// The distributed-tracing extension is part of the stored event: a delivery after a restart,
// by another process's tracer, still joins the trace the event was published in.

const dir = mkdtempSync(join(tmpdir(), "herald-trace-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

describe("trace context across a restart (SQLite store)", () => {
  it("delivers into the original trace after the gateway was stopped and started again", async () => {
    const path = join(dir, "herald.db");
    // The first sink answers 503: every attempt before the restart fails.
    const down = await startScriptedSink([{ status: 503 }]);
    const config = (sink: string) =>
      parseConfig(
        JSON.stringify({
          store: { kind: "sqlite", path },
          subscriptions: [
            { id: "orders", sink, delivery: { retry: 5, backoffDelay: "1ms", backoffMax: "1ms" } },
          ],
        }),
        "t.json",
      );

    const first = new InMemorySpanExporter();
    const firstProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(first)],
    });
    let store = openSqliteStore({ path });
    let gateway = createGateway({
      config: config(down.url),
      queue: store.queue,
      tracer: firstProvider.getTracer("before"),
    });
    gateway.start();
    const res = await gateway.fetch(
      new Request("http://gw/events", {
        method: "POST",
        headers: {
          "ce-specversion": "1.0",
          "ce-id": "r-1",
          "ce-source": "/shop",
          "ce-type": "com.example.order",
          traceparent: `00-${TRACE}-00f067aa0ba902b7-01`,
        },
      }),
    );
    expect(res.status).toBe(202);
    await down.waitFor(1);
    await gateway.stop();
    await store.close();
    await down.close();
    const ingest = first.getFinishedSpans().find((s) => s.name === "POST /events");
    expect(ingest?.spanContext().traceId).toBe(TRACE);

    // A new process: new store connection, new tracer, a sink that works.
    const up = await startScriptedSink([{ status: 204 }]);
    const second = new InMemorySpanExporter();
    const secondProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(second)],
    });
    store = openSqliteStore({ path });
    gateway = createGateway({
      config: config(up.url),
      queue: store.queue,
      tracer: secondProvider.getTracer("after"),
    });
    gateway.start();
    const [got] = await up.waitFor(1);
    await gateway.stop();
    await store.close();
    await up.close();

    // The event kept the trace it started in (the producer's), and the retry joins it.
    expect(got?.headers["ce-traceparent"]).toBe(`00-${TRACE}-00f067aa0ba902b7-01`);
    const deliver = second.getFinishedSpans().find((s) => s.name === "deliver orders");
    expect(deliver?.spanContext().traceId).toBe(TRACE);
    expect(deliver?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(Number(deliver?.attributes["herald.delivery.attempt"])).toBeGreaterThan(1);
    expect(got?.headers.traceparent).toBe(`00-${TRACE}-${deliver?.spanContext().spanId}-01`);
    await firstProvider.shutdown();
    await secondProvider.shutdown();
  });
});
