// OTLP/protobuf span serialization, in process: the upstream ProtobufTraceSerializer (what
// @opentelemetry/exporter-trace-otlp-proto sends) against Herald's serializeTraceRequest, on
// the spans a traced gateway makes for one event (the POST /events server span, the store
// hand-off, the delivery attempt; 29 attributes and a link), in batches of 512 (the batch
// processor's default). It first checks that both write the same bytes (exit 1 if not), then
// times them interleaved, each for at least 300 ms a round, and prints the time per span.
// Run after building the gateway: `npm run build -w gateway && node bench/otlp-serializer.js`.
import { ROOT_CONTEXT, SpanKind, trace } from "@opentelemetry/api";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { serializeTraceRequest } from "../gateway/dist/adapters/node/otlp-trace-serializer.js";
import { median } from "./lib/report.js";

const rounds = Number(process.argv[2] ?? 5);
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  resource: defaultResource().merge(resourceFromAttributes({ "service.name": "herald-bench" })),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
const tracer = provider.getTracer("@herald/gateway");
for (let i = 0; i < 512 / 3; i++) {
  const id = `${process.pid}-1-${i}`;
  const event = {
    "cloudevents.event_id": id,
    "cloudevents.event_source": "/bench/wrk",
    "cloudevents.event_spec_version": "1.0",
    "cloudevents.event_type": "com.example.bench.42",
  };
  const server = tracer.startSpan("POST /events", { kind: SpanKind.SERVER });
  server.setAttributes({
    "http.request.method": "POST",
    "http.route": "/events",
    "url.scheme": "http",
    "url.path": "/events",
    ...event,
  });
  const context = trace.setSpan(ROOT_CONTEXT, server);
  const store = tracer.startSpan("store events", {}, context);
  store.setAttributes({
    "messaging.batch.message_count": 1,
    "herald.events.stored": 1,
    "herald.events.duplicate": 0,
    "herald.deliveries": 1,
  });
  store.end();
  server.setAttribute("http.response.status_code", 202);
  server.end();
  const delivery = tracer.startSpan(
    "deliver bench-42",
    { kind: SpanKind.CLIENT, links: [{ context: server.spanContext() }] },
    context,
  );
  delivery.setAttributes({
    "http.request.method": "POST",
    "url.full": "http://127.0.0.1:40000/bench",
    "server.address": "127.0.0.1",
    "server.port": 40_000,
    ...event,
    "messaging.message.id": id,
    "messaging.system": "herald",
    "messaging.operation.name": "deliver",
    "messaging.operation.type": "send",
    "messaging.destination.name": "bench-42",
    "herald.subscription.id": "bench-42",
    "herald.delivery.attempt": 1,
    "http.response.status_code": 204,
  });
  delivery.end();
}
const spans = exporter.getFinishedSpans();

const cases = {
  upstream: () => ProtobufTraceSerializer.serializeRequest(spans),
  herald: () => serializeTraceRequest(spans),
};
const expected = Buffer.from(cases.upstream());
if (!Buffer.from(cases.herald()).equals(expected)) {
  console.error("otlp-serializer: Herald's serializer wrote other bytes than upstream's");
  process.exit(1);
}
console.log(`${spans.length} spans, ${expected.length} bytes per request, the same from both`);

const perSpan = { upstream: [], herald: [] };
const names = Object.keys(cases);
for (let round = 0; round < rounds + 1; round++) {
  const order = names.map((_, i) => names[(i + round) % names.length]);
  for (const name of order) {
    let n = 0;
    const start = process.hrtime.bigint();
    let elapsed = 0n;
    while (elapsed < 300_000_000n) {
      cases[name]();
      n++;
      elapsed = process.hrtime.bigint() - start;
    }
    // The first round warms both up and is not counted.
    if (round > 0) perSpan[name].push(Number(elapsed) / n / spans.length);
  }
}
for (const [name, values] of Object.entries(perSpan)) {
  const text = values.map((v) => v.toFixed(0)).join(", ");
  console.log(`${name.padEnd(8)} median ${median(values).toFixed(0)} ns/span (rounds: ${text})`);
}
const ratios = perSpan.upstream.map((u, i) => u / perSpan.herald[i]);
console.log(`upstream/herald: median ${median(ratios).toFixed(2)}x`);
