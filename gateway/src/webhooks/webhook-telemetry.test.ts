import { SpanKind } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookGateway, type WebhookGateway } from "../../test/support/webhook-gateway.js";

// Webhooks are traced and counted like POST /events: their events carry the request's trace.

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let kit: WebhookGateway;

beforeAll(async () => {
  kit = await startWebhookGateway(
    {
      adapters: [
        { id: "shop", kind: "mapping", attributes: { source: "/shop", type: "com.example.shop" } },
        {
          id: "items",
          kind: "mapping",
          records: "/items",
          attributes: { source: "/shop", type: "com.example.item" },
        },
      ],
    },
    { tracer: provider.getTracer("test") },
  );
});
afterAll(async () => {
  await kit.stop();
  await provider.shutdown();
});

const sample = (text: string, series: string) =>
  Number(
    text
      .split("\n")
      .find((l) => l.startsWith(`${series} `))
      ?.slice(series.length + 1),
  );

describe("webhook telemetry", () => {
  it("continues the incoming trace in a SERVER span and in each event's traceparent", async () => {
    const res = await kit.post(
      "shop",
      { order: 1 },
      { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
    );
    expect(res.status).toBe(202);
    const [event] = await kit.delivered();
    const span = exporter.getFinishedSpans().find((s) => s.name === "POST /webhooks/{adapterId}");
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
    expect(span?.attributes).toMatchObject({
      "herald.adapter.id": "shop",
      "http.request.method": "POST",
      "http.route": "/webhooks/{adapterId}",
      "url.scheme": "http",
      "url.path": "/webhooks/shop",
      "http.response.status_code": 202,
    });
    // The events carry the trace they started in: the incoming one (not the gateway's hop).
    expect(event?.traceparent).toBe(`00-${TRACE}-00f067aa0ba902b7-01`);
  });

  it("gives events the webhook's SERVER span context when the request carries no trace", async () => {
    exporter.reset();
    expect((await kit.post("shop", { order: 3 })).status).toBe(202);
    const event = (await kit.delivered()).find(
      (e) => (e.data as { order?: number } | undefined)?.order === 3,
    );
    const span = exporter.getFinishedSpans().find((s) => s.name === "POST /webhooks/{adapterId}");
    expect(event?.traceparent).toBe(
      `00-${span?.spanContext().traceId}-${span?.spanContext().spanId}-01`,
    );
  });

  it("gives the SERVER span one event's CloudEvents attributes, or a batch's message count", async () => {
    exporter.reset();
    expect((await kit.post("shop", { order: 7 })).status).toBe(202);
    // The same body again is the same event: a duplicate, and still one message.
    expect((await kit.post("shop", { order: 7 })).status).toBe(202);
    expect((await kit.post("items", { items: [{ n: 1 }, { n: 2 }, { n: 3 }] })).status).toBe(202);
    const spans = exporter
      .getFinishedSpans()
      .filter((s) => s.name === "POST /webhooks/{adapterId}")
      .map((s) => s.attributes);
    expect(spans).toHaveLength(3);
    for (const single of spans.slice(0, 2)) {
      expect(single).toMatchObject({
        "cloudevents.event_source": "/shop",
        "cloudevents.event_type": "com.example.shop",
        "cloudevents.event_spec_version": "1.0",
      });
      expect(single["cloudevents.event_id"]).toMatch(/^[0-9a-f]{64}$/);
      expect(single).not.toHaveProperty("messaging.batch.message_count");
    }
    expect(spans[2]).toMatchObject({ "messaging.batch.message_count": 3 });
    expect(spans[2]).not.toHaveProperty("cloudevents.event_id");
  });

  it("logs the accepted webhook with the trace ids, as POST /events does", async () => {
    const lines: { msg: string; fields?: Record<string, unknown> }[] = [];
    const note = (msg: string, fields?: Record<string, unknown>) =>
      lines.push({ msg, ...(fields === undefined ? {} : { fields }) });
    const logged = await startWebhookGateway(
      {
        adapters: [
          {
            id: "shop",
            kind: "mapping",
            attributes: { source: "/shop", type: "com.example.shop" },
          },
        ],
      },
      {
        tracer: provider.getTracer("test"),
        logger: { debug: note, info: note, warn: note, error: note },
      },
    );
    try {
      const res = await logged.post(
        "shop",
        { order: 2 },
        { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` },
      );
      expect(res.status).toBe(202);
      const [event] = await logged.delivered();
      const accepted = lines.find((l) => l.msg === "webhook accepted");
      // The log line names the webhook's SERVER span; the event keeps the incoming trace.
      const span = exporter
        .getFinishedSpans()
        .filter((s) => s.name === "POST /webhooks/{adapterId}")
        .at(-1);
      expect(event?.traceparent).toBe(`00-${TRACE}-00f067aa0ba902b7-01`);
      expect(accepted?.fields).toMatchObject({
        adapter: "shop",
        trace_id: TRACE,
        span_id: span?.spanContext().spanId,
      });
    } finally {
      await logged.stop();
    }
  });

  it("counts accepted and refused webhook events in /metrics", async () => {
    const before = await (await kit.gateway.fetch(new Request("http://gw/metrics"))).text();
    expect((await kit.post("shop", { order: 2 })).status).toBe(202);
    expect((await kit.post("shop", "{", { "content-type": "application/json" })).status).toBe(400);
    expect((await kit.post("nope", { order: 3 })).status).toBe(404);
    const after = await (await kit.gateway.fetch(new Request("http://gw/metrics"))).text();
    expect(sample(after, "herald_events_accepted_total")).toBe(
      sample(before, "herald_events_accepted_total") + 1,
    );
    expect(after).toMatch(/herald_events_rejected_total\{reason="not_found"\} 1/);
    expect(after).toMatch(/herald_events_rejected_total\{reason="[a-z_]+"\} 1/);
  });
});
