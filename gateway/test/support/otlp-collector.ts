import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One span as a collector received it, whatever the encoding. */
export interface CollectedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** "" for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP `SpanKind`: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly resource: Readonly<Record<string, unknown>>;
}

export interface CollectorRequest {
  readonly path: string;
  readonly contentType: string;
  /** The request's headers, names in lower case. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Buffer;
}

/**
 * A real OTLP/HTTP collector on 127.0.0.1: records every `POST /v1/traces` and `/v1/metrics`,
 * decodes spans and metric names from OTLP/JSON or OTLP/protobuf, answers 200. With
 * `hang: true` it reads requests and never answers (a collector that is up but stuck); with
 * `status` it answers that status instead (a collector that refuses the exports).
 */
export interface OtlpCollector {
  readonly url: string;
  readonly requests: CollectorRequest[];
  readonly spans: CollectedSpan[];
  readonly metricNames: Set<string>;
  /** Resolves when `done()` holds, checked at once and after each request; rejects after `ms`. */
  until(done: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startOtlpCollector(
  options: {
    hang?: boolean;
    status?: number;
    /** The body of a refusal (`status`), made from the request (default a fixed text). */
    answer?: (req: IncomingMessage) => string;
  } = {},
): Promise<OtlpCollector> {
  const requests: CollectorRequest[] = [];
  const spans: CollectedSpan[] = [];
  const metricNames = new Set<string>();
  const waiters = new Set<() => void>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const contentType = req.headers["content-type"] ?? "";
      const path = req.url ?? "";
      requests.push({ path, contentType, headers: req.headers, body });
      const json = contentType.startsWith("application/json");
      if (path === "/v1/traces") {
        spans.push(
          ...(json ? spansFromJson(JSON.parse(body.toString())) : spansFromProtobuf(body)),
        );
      } else if (path === "/v1/metrics") {
        const names = json
          ? metricNamesFromJson(JSON.parse(body.toString()))
          : metricNamesFromProtobuf(body);
        for (const name of names) metricNames.add(name);
      }
      for (const wake of waiters) wake();
      if (options.hang) return;
      if (options.status !== undefined) {
        res
          .writeHead(options.status, { "content-type": "text/plain" })
          .end(options.answer?.(req) ?? "refused by the test");
        return;
      }
      res.writeHead(200, { "content-type": contentType || "application/json" }).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    spans,
    metricNames,
    until(done, ms = 5_000) {
      if (done()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`collector: condition not met within ${ms} ms (${requests.length} requests)`),
          );
        }, ms);
        const check = () => {
          if (!done()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

// --- OTLP/JSON (what @opentelemetry/exporter-*-otlp-http sends): ids are hex strings.

interface JsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}

const jsonAttributes = (list: JsonKeyValue[] | undefined): Record<string, unknown> =>
  Object.fromEntries(
    (list ?? []).map(({ key, value }) => {
      const v = value.stringValue ?? value.intValue ?? value.boolValue ?? value.doubleValue;
      return [key, typeof v === "string" && "intValue" in value ? Number(v) : v];
    }),
  );

// biome-ignore lint/suspicious/noExplicitAny: the OTLP/JSON shape, read by hand in a test helper
function spansFromJson(body: any): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = jsonAttributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: s.kind,
          attributes: jsonAttributes(s.attributes),
          resource,
        });
      }
    }
  }
  return out;
}

// biome-ignore lint/suspicious/noExplicitAny: the OTLP/JSON shape, read by hand in a test helper
function metricNamesFromJson(body: any): string[] {
  const out: string[] = [];
  for (const rm of body.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) for (const m of sm.metrics ?? []) out.push(m.name);
  }
  return out;
}

// --- OTLP/protobuf: a minimal wire-format walker (opentelemetry-proto, trace/v1 and metrics/v1).

interface Field {
  readonly no: number;
  /** Length-delimited payload (wire type 2). */
  readonly bytes?: Buffer;
  /** Varint (wire type 0) or fixed64/fixed32 (1, 5) value. */
  readonly int?: bigint;
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buf[at++];
      if (byte === undefined) throw new Error("protobuf: truncated varint");
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    switch (key & 7) {
      case 0:
        out.push({ no, int: varint() });
        break;
      case 1:
        out.push({ no, int: buf.readBigUInt64LE(at) });
        at += 8;
        break;
      case 2: {
        const length = Number(varint());
        out.push({ no, bytes: buf.subarray(at, at + length) });
        at += length;
        break;
      }
      case 5:
        out.push({ no, int: BigInt(buf.readUInt32LE(at)) });
        at += 4;
        break;
      default:
        throw new Error(`protobuf: wire type ${key & 7} not expected in OTLP`);
    }
  }
  return out;
}

const sub = (buf: Buffer, no: number): Buffer[] =>
  fields(buf)
    .filter((f) => f.no === no && f.bytes !== undefined)
    .map((f) => f.bytes!);
const one = (buf: Buffer, no: number): Field | undefined => fields(buf).find((f) => f.no === no);

/** `KeyValue { string key = 1; AnyValue value = 2; }`, `AnyValue` string 1, bool 2, int 3. */
function protobufAttributes(list: Buffer[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list) {
    const key = one(kv, 1)?.bytes?.toString() ?? "";
    const value = one(kv, 2)?.bytes;
    const v = value === undefined ? undefined : fields(value)[0];
    if (v?.no === 1) out[key] = v.bytes?.toString();
    else if (v?.no === 2) out[key] = v.int === 1n;
    else if (v?.no === 3) out[key] = Number(v.int);
  }
  return out;
}

/**
 * `ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }`,
 * `ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }`,
 * `ScopeSpans { repeated Span spans = 2; }`, `Span { bytes trace_id = 1; bytes span_id = 2;
 * bytes parent_span_id = 4; string name = 5; SpanKind kind = 6; repeated KeyValue attributes = 9; }`.
 */
function spansFromProtobuf(body: Buffer): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  for (const rs of sub(body, 1)) {
    const resourceBytes = one(rs, 1)?.bytes;
    const resource = resourceBytes === undefined ? {} : protobufAttributes(sub(resourceBytes, 1));
    for (const ss of sub(rs, 2)) {
      for (const span of sub(ss, 2)) {
        const hex = (no: number) => one(span, no)?.bytes?.toString("hex") ?? "";
        out.push({
          traceId: hex(1),
          spanId: hex(2),
          parentSpanId: hex(4),
          name: one(span, 5)?.bytes?.toString() ?? "",
          kind: Number(one(span, 6)?.int ?? 0n),
          attributes: protobufAttributes(sub(span, 9)),
          resource,
        });
      }
    }
  }
  return out;
}

/** `ResourceMetrics { repeated ScopeMetrics scope_metrics = 2; }`, `ScopeMetrics { repeated
 * Metric metrics = 2; }`, `Metric { string name = 1; }`. */
function metricNamesFromProtobuf(body: Buffer): string[] {
  return sub(body, 1).flatMap((rm) =>
    sub(rm, 2).flatMap((sm) => sub(sm, 2).map((m) => one(m, 1)?.bytes?.toString() ?? "")),
  );
}
