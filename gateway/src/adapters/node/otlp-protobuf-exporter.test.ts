import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
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
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
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

/**
 * A collector that answers 200 as soon as a request's headers are in, then reads the body late
 * (HTTP/1.1 lets a server answer before the request is complete): the exporter hears "accepted"
 * while most of a large body still waits in its socket's buffer. Resolves with each body as it
 * arrived (chunked, as the exporter sends it).
 */
async function earlyAnsweringCollector() {
  const bodies: Buffer[] = [];
  const server = createTcpServer((socket) => {
    let chunks: Buffer[] = [];
    let answered = false;
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (!answered && Buffer.concat(chunks).includes("\r\n\r\n")) {
        answered = true;
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        socket.pause();
        setTimeout(() => socket.resume(), 100);
      }
      const tail = Buffer.concat(chunks.slice(-2)).subarray(-5);
      if (!tail.equals(Buffer.from("0\r\n\r\n"))) return;
      const data = Buffer.concat(chunks);
      let rest = data.subarray(data.indexOf("\r\n\r\n") + 4);
      const parts: Buffer[] = [];
      for (;;) {
        const eol = rest.indexOf("\r\n");
        const size = Number.parseInt(rest.subarray(0, eol).toString(), 16);
        if (size === 0) break;
        parts.push(rest.subarray(eol + 2, eol + 2 + size));
        rest = rest.subarray(eol + 2 + size + 2);
      }
      bodies.push(Buffer.concat(parts));
      chunks = [];
      answered = false;
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, bodies, server };
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

  it("posts upstream's bytes for every batch", async () => {
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

  it("sends a request whole when the collector answers before it has read it", async () => {
    const early = await earlyAnsweringCollector();
    process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${early.url}/v1/traces`;
    try {
      const exporter = protobufTraceExporter();
      // Megabytes each (long event ids): more than the loopback socket buffers take at once.
      const first = spansOf(200, "a".repeat(40_000));
      const second = spansOf(200, "b".repeat(40_000));
      expect((await exportOnce(exporter, first)).code).toBe(ExportResultCode.SUCCESS);
      // Accepted, and most of it still to be sent: the next export is written meanwhile.
      const sending = exportOnce(exporter, second);
      await vi.waitFor(() => expect(early.bodies.length).toBeGreaterThan(0), { timeout: 10_000 });
      const expected = Buffer.from(ProtobufTraceSerializer.serializeRequest(first) as Uint8Array);
      expect(early.bodies[0]?.equals(expected)).toBe(true);
      expect((await sending).code).toBe(ExportResultCode.SUCCESS);
      await exporter.shutdown();
    } finally {
      early.server.close();
    }
  }, 20_000);
});
