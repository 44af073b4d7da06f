import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { SpanKind } from "@opentelemetry/api";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { protobufTraceExporter } from "./otel-node-sdk.js";

/** A real OTLP/HTTP collector on 127.0.0.1 that keeps each request's body and headers. */
async function collector(status: () => number) {
  const requests: {
    path: string;
    type: string | undefined;
    encoding: string | undefined;
    apiKey: string | undefined;
    body: Buffer;
  }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const encoding = req.headers["content-encoding"];
      requests.push({
        path: req.url ?? "",
        type: req.headers["content-type"],
        encoding,
        apiKey: req.headers["api-key"] as string | undefined,
        body: encoding === "gzip" ? gunzipSync(raw) : raw,
      });
      res.writeHead(status(), { "content-type": "application/x-protobuf" }).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, requests, server };
}

function spansOf(count: number, tag: string): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": "herald-test" }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer("@herald/gateway");
  for (let i = 0; i < count; i++) {
    const span = tracer.startSpan(`deliver ${tag}`, { kind: SpanKind.CLIENT });
    span.setAttributes({ "herald.subscription.id": tag, "cloudevents.event_id": `${tag}-${i}` });
    span.end();
  }
  return memory.getFinishedSpans().slice();
}

function exportOnce(exporter: SpanExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

describe("protobufTraceExporter", () => {
  const saved = { ...process.env };
  let stub: Awaited<ReturnType<typeof collector>>;
  let status = 200;

  beforeEach(async () => {
    status = 200;
    stub = await collector(() => status);
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${stub.url}/v1/traces`;
  });
  afterEach(async () => {
    process.env = { ...saved };
    stub.server.closeAllConnections();
    stub.server.close();
  });

  it("posts upstream's bytes for every batch, also when it reuses the buffer of a sent one", async () => {
    const exporter = protobufTraceExporter();
    const batches = [spansOf(300, "a"), spansOf(5, "b"), spansOf(700, "c"), spansOf(1, "d")];
    for (const spans of batches) {
      expect((await exportOnce(exporter, spans)).code).toBe(ExportResultCode.SUCCESS);
    }
    expect(stub.requests).toHaveLength(batches.length);
    stub.requests.forEach((request, i) => {
      expect(request.path).toBe("/v1/traces");
      expect(request.type).toBe("application/x-protobuf");
      const expected = ProtobufTraceSerializer.serializeRequest(batches[i] as ReadableSpan[]);
      expect(request.body.equals(Buffer.from(expected as Uint8Array))).toBe(true);
    });
    await exporter.shutdown();
  });

  it("never writes a batch into the buffer of one still being sent", async () => {
    const exporter = protobufTraceExporter();
    expect((await exportOnce(exporter, spansOf(10, "warm"))).code).toBe(ExportResultCode.SUCCESS);
    const batches = [spansOf(400, "x"), spansOf(400, "y"), spansOf(400, "z")];
    const results = await Promise.all(batches.map((spans) => exportOnce(exporter, spans)));
    expect(results.map((r) => r.code)).toEqual(batches.map(() => ExportResultCode.SUCCESS));
    const bodies = stub.requests.slice(1).map((r) => r.body.toString("hex"));
    const expected = batches.map((spans) =>
      Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array).toString("hex"),
    );
    expect(bodies.sort()).toEqual(expected.sort());
    await exporter.shutdown();
  });

  it("reads the endpoint, headers and compression from the environment, as upstream's does", async () => {
    Reflect.deleteProperty(process.env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = stub.url;
    process.env.OTEL_EXPORTER_OTLP_HEADERS = "api-key=k3y";
    process.env.OTEL_EXPORTER_OTLP_COMPRESSION = "gzip";
    const exporter = protobufTraceExporter();
    const spans = spansOf(200, "gzip");
    expect((await exportOnce(exporter, spans)).code).toBe(ExportResultCode.SUCCESS);
    const [request] = stub.requests;
    expect(request?.path).toBe("/v1/traces");
    expect(request?.encoding).toBe("gzip");
    expect(request?.apiKey).toBe("k3y");
    const expected = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) as Uint8Array);
    expect(request?.body.equals(expected)).toBe(true);
    await exporter.shutdown();
  });

  it("reports a refused export as failed and sends the next one whole", async () => {
    const exporter = protobufTraceExporter();
    status = 400;
    expect((await exportOnce(exporter, spansOf(50, "refused"))).code).toBe(ExportResultCode.FAILED);
    status = 200;
    const next = spansOf(20, "next");
    expect((await exportOnce(exporter, next)).code).toBe(ExportResultCode.SUCCESS);
    const last = stub.requests.at(-1);
    const expected = Buffer.from(ProtobufTraceSerializer.serializeRequest(next) as Uint8Array);
    expect(last?.body.equals(expected)).toBe(true);
    await exporter.shutdown();
  });
});
