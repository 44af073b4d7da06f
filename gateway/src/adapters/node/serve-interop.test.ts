import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultTextMapGetter, ROOT_CONTEXT, type SpanContext, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { CloudEvent, HTTP, type Message } from "cloudevents";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Received } from "../../../test/support/recording-sink.js";
import { type ScriptedSink, startScriptedSink } from "../../../test/support/scripted-sink.js";
import { type SpawnedHerald, spawnHerald } from "../../../test/support/spawn-herald.js";
import { verifyStandardWebhook } from "../../../test/support/verify-standard-webhook.js";

// Black-box interoperability of `herald serve` (the built CLI, SQLite store) with the tools its
// users already run, each used as its own documentation says:
// - the official CloudEvents SDK (`cloudevents` 10) builds what is published (HTTP.binary,
//   HTTP.structured, a JSON batch) and reads every delivery back with HTTP.toEvent;
// - the reference Standard Webhooks library (`standardwebhooks`) verifies every signed delivery,
//   whichever `whsec_` secret form signed it, and a retry and a redrive keep their webhook-id;
// - OpenTelemetry's W3CTraceContextPropagator extracts each delivery's trace context.
// The in-process suites (app/cloudevents-sdk-interop, app/trace-propagation) check the wire in
// detail; this one checks that the process as users start it gives the same to these tools.

/** 24 bytes (the Standard Webhooks minimum): base64 without padding. */
const S24 = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/** 32 bytes: base64 ending in `=`. */
const S32 = `whsec_${Buffer.from("0123456789abcdef0123456789abcdef").toString("base64")}`;
/** 64 bytes: base64 full of `+` and `/`, ending in `==`. */
const S64 = `whsec_${Buffer.alloc(64, 0xfb).toString("base64")}`;
/** The secrets each delivery path is signed with (structured: rotating from S32 to S64). */
const SECRETS: Record<string, readonly string[]> = {
  "/hook/binary": [S24],
  "/hook/structured": [S32, S64],
  "/hook/batch": [S64],
  "/hook/retry": [S24],
  "/hook/redrive": [S24],
};
const PATHS = ["/hook/binary", "/hook/structured", "/hook/batch"] as const;
type Path = (typeof PATHS)[number];
/** What the gateway adds to every event (DESIGN.md "Attributes the gateway sets"). */
const ADDED_BY_GATEWAY = ["recordedtime", "authtype", "traceparent", "tracestate"];

let dir: string;
let sink: ScriptedSink;
let herald: SpawnedHerald;
const children: ChildProcess[] = [];
/** Whether the redrive sink takes deliveries yet (it refuses until the test says so). */
let redriveHealthy = false;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-interop-"));
  const firstSeen = new Set<string>();
  sink = await startScriptedSink([
    (request) => {
      if (request.path === "/hook/redrive") return { status: redriveHealthy ? 204 : 500 };
      if (request.path !== "/hook/retry") return { status: 204 };
      // The first attempt of each message fails (retried), the next one is taken.
      const id = String(request.headers["webhook-id"]);
      const first = !firstSeen.has(id);
      firstSeen.add(id);
      return { status: first ? 503 : 204 };
    },
  ]);
  const signed = (path: string) => (SECRETS[path] ?? []).join(" ");
  const interop = { types: ["com.example.interop"] };
  const config = {
    store: { kind: "sqlite", path: ".herald/interop.db" },
    subscriptions: [
      {
        id: "binary",
        ...interop,
        sink: `${sink.url}/binary`,
        delivery: { mode: "binary", signingSecret: signed("/hook/binary") },
      },
      {
        id: "structured",
        ...interop,
        sink: `${sink.url}/structured`,
        delivery: { mode: "structured", signingSecret: signed("/hook/structured") },
      },
      {
        id: "batch",
        ...interop,
        sink: `${sink.url}/batch`,
        delivery: { mode: "batch", maxBatchSize: 1, signingSecret: signed("/hook/batch") },
      },
      {
        id: "retry",
        types: ["com.example.retry"],
        sink: `${sink.url}/retry`,
        delivery: {
          mode: "binary",
          retry: 2,
          backoffDelay: "1ms",
          backoffMax: "5ms",
          signingSecret: signed("/hook/retry"),
        },
      },
      {
        id: "redrive",
        types: ["com.example.redrive"],
        sink: `${sink.url}/redrive`,
        delivery: { mode: "structured", retry: 0, signingSecret: signed("/hook/redrive") },
      },
    ],
  };
  await writeFile(join(dir, "herald.json"), JSON.stringify(config));
  herald = await spawnHerald({ config: "herald.json", cwd: dir, children });
});
afterAll(async () => {
  // A failed assertion must not leave a gateway running.
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await sink?.close();
  await rm(dir, { recursive: true, force: true });
});

/** POSTs a message the SDK built (plus `headers`); expects 202. */
async function post(message: Message, headers: Record<string, string> = {}): Promise<void> {
  const all: Record<string, string> = { ...headers };
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) all[name] = String(value);
  }
  const res = await fetch(`${herald.url}/events`, {
    method: "POST",
    headers: all,
    body: (message.body ?? null) as BodyInit | null,
  });
  expect(res.status, await res.text()).toBe(202);
}

/** Waits until the deliveries of event `id` reached each path in `paths`; returns them. */
async function deliveriesOf(id: string, paths: readonly string[]): Promise<Received[]> {
  const of = () => sink.received.filter((r) => eventIds(r).includes(id));
  while (!paths.every((p) => of().some((r) => r.path === p))) {
    await sink.waitFor(sink.received.length + 1);
  }
  return of();
}

/** The ids of the events a delivery carries, whatever its mode. */
function eventIds(r: Received): string[] {
  const id = r.headers["ce-id"];
  if (typeof id === "string") return [decodeURIComponent(id)];
  const type = String(r.headers["content-type"]);
  if (!type.startsWith("application/cloudevents")) return [];
  const json = JSON.parse(r.body.toString("utf8")) as { id: string } | { id: string }[];
  return (Array.isArray(json) ? json : [json]).map((e) => e.id);
}

/** HTTP.toEvent over a delivery as a Node sink has it (the body a string when it is text). */
function toEvent(r: Received): CloudEvent<unknown> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers)) {
    if (typeof value === "string") headers[name] = value;
  }
  const textual = /^(text\/|application\/([a-z.+-]*\+)?json|application\/cloudevents)/i;
  // An empty body is no data (HTTP binding 3.1.2): hand the SDK none.
  const body =
    r.body.length === 0
      ? undefined
      : textual.test(headers["content-type"] ?? "")
        ? r.body.toString("utf8")
        : r.body;
  const events = HTTP.toEvent({ headers, body });
  const list = Array.isArray(events) ? events : [events];
  expect(list).toHaveLength(1);
  return list[0] as CloudEvent<unknown>;
}

/**
 * An event's attributes and data, comparable across the SDK's representations: what the gateway
 * adds left out, binary data (Buffer, Uint8Array, the Uint32Array HTTP.toEvent makes of
 * `data_base64`) as hex, `data_base64` folded into it.
 */
function comparable(event: CloudEvent<unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(event)) {
    if (value === undefined || name === "data_base64" || ADDED_BY_GATEWAY.includes(name)) continue;
    out[name] = ArrayBuffer.isView(value)
      ? Buffer.from(value as Uint8Array).toString("hex")
      : value;
  }
  return out;
}

/** JSON batch format (4) of SDK events; the SDK has no batch serializer. */
function batchOf(event: CloudEvent<unknown>): Message {
  return {
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify([event]),
  };
}

const ENCODERS = {
  "HTTP.binary": (e: CloudEvent<unknown>) => HTTP.binary(e),
  "HTTP.structured": (e: CloudEvent<unknown>) => HTTP.structured(e),
  batch: batchOf,
};
type Encoder = keyof typeof ENCODERS;

/**
 * What HTTP.toEvent reads from the delivery at `path` of an event the SDK sent with `how`. Only
 * what the specs make of a binary-mode hop differs from the event as built:
 * - HTTP.binary sends `Content-Type: application/json; charset=utf-8` for an event without
 *   `datacontenttype`, which is that event's `datacontenttype` from then on (HTTP binding 3.1.1);
 * - a binary-mode delivery states the `application/json` that JSON data without
 *   `datacontenttype` implies (JSON format 3.1.2: "SHOULD be set explicitly");
 * - a header carries no type: an Integer or Boolean that crossed one is its canonical string.
 */
function expected(event: CloudEvent<unknown>, how: Encoder, path: Path): Record<string, unknown> {
  const out = comparable(event);
  const binaryHop = how === "HTTP.binary" || path === "/hook/binary";
  if (how === "HTTP.binary" && out.datacontenttype === undefined) {
    out.datacontenttype = "application/json; charset=utf-8";
  }
  if (path === "/hook/binary" && out.datacontenttype === undefined && out.data !== undefined) {
    out.datacontenttype = "application/json";
  }
  if (binaryHop) {
    for (const [name, value] of Object.entries(out)) {
      if (name !== "data" && typeof value !== "string") out[name] = String(value);
    }
  }
  return out;
}

let serial = 0;
const interop = (attributes: Record<string, unknown>) =>
  new CloudEvent<unknown>({
    id: `interop-${++serial}`,
    source: "/interop",
    type: "com.example.interop",
    ...attributes,
  });

describe("herald serve with the cloudevents SDK as producer and as sink reader", () => {
  // Shapes whose every encoding the SDK writes as the HTTP binding says. (It writes a `%`,
  // `"`, space or non-ASCII character into a ce-* header unencoded, a JSON scalar body without
  // JSON encoding, and reads back neither: those are sent structured below.)
  const shapes: [string, () => Record<string, unknown>][] = [
    [
      "a JSON object, every kind of extension",
      () => ({
        datacontenttype: "application/json; charset=utf-8",
        subject: "order-42",
        dataschema: "https://schemas.example.com/order.json",
        data: { orderId: 42, note: "café 😀", items: [1, null, true] },
        extstring: "plain",
        exturi: "https://example.com/a?b=c#d",
        extint: -2147483648,
        extbool: true,
        extfalse: false,
        exttime: "2020-02-29T23:59:59.999Z",
      }),
    ],
    ["a JSON array without datacontenttype", () => ({ data: [1, "two", { three: 3 }] })],
    ["text/plain", () => ({ datacontenttype: "text/plain", data: "héllo wörld 😀" })],
    [
      "binary data (application/octet-stream)",
      () => ({
        datacontenttype: "application/octet-stream",
        data: Buffer.from([0, 1, 0x7f, 0x80, 0xfe, 0xff]),
      }),
    ],
    ["no data", () => ({ partitionkey: "p-1" })],
  ];

  for (const [shape, attributes] of shapes) {
    it.each(Object.keys(ENCODERS) as Encoder[])(
      `${shape}, sent with %s, reads back the same from every delivery mode`,
      async (how) => {
        const event = interop(attributes());
        await post(ENCODERS[how](event));
        const got = await deliveriesOf(event.id, PATHS);
        for (const path of PATHS) {
          const delivery = got.find((r) => r.path === path) as Received;
          expect(comparable(toEvent(delivery)), `${how} -> ${path}`).toEqual(
            expected(event, how, path),
          );
          // The gateway's own attributes arrive too, readable by the SDK.
          const read = toEvent(delivery);
          expect(read.authtype, path).toBe("unauthenticated");
          expect(Number.isNaN(Date.parse(String(read.recordedtime))), path).toBe(false);
          expect(String(read.traceparent), path).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[13]$/);
        }
      },
    );
  }

  it("values that need percent-encoding: exact in structured and batch, encoded once in binary", async () => {
    const subject = 'Euro € 😀 "quoted" 100% done';
    const event = interop({ subject, extunicode: "Ünïcødé ✓", extpct: "a%41b%", data: { n: 1 } });
    await post(HTTP.structured(event));
    const got = await deliveriesOf(event.id, PATHS);
    for (const path of ["/hook/structured", "/hook/batch"] as const) {
      const delivery = got.find((r) => r.path === path) as Received;
      expect(comparable(toEvent(delivery)), path).toEqual(comparable(event));
    }
    // HTTP.toEvent does not percent-decode (binding 3.1.3.2 says it must): read the wire.
    const binary = (got.find((r) => r.path === "/hook/binary") as Received).headers;
    expect(binary["ce-subject"]).toBe(
      "Euro%20%E2%82%AC%20%F0%9F%98%80%20%22quoted%22%20100%25%20done",
    );
    expect(decodeURIComponent(String(binary["ce-subject"]))).toBe(subject);
    expect(decodeURIComponent(String(binary["ce-extunicode"]))).toBe("Ünïcødé ✓");
    expect(binary["ce-extpct"]).toBe("a%2541b%25");
  });

  it("an event whose data is an event (application/cloudevents+json) stays one event", async () => {
    const inner = { specversion: "1.0", id: "inner", source: "/inner", type: "com.example.inner" };
    const event = interop({ datacontenttype: "application/cloudevents+json", data: inner });
    await post(HTTP.structured(event));
    const got = await deliveriesOf(event.id, PATHS);
    // In binary mode that Content-Type would make the data the message (binding 3), so the
    // binary subscription gets it structured too.
    for (const path of PATHS) {
      const delivery = got.find((r) => r.path === path) as Received;
      expect(comparable(toEvent(delivery)), path).toEqual(comparable(event));
    }
  });
});

describe("herald serve with the reference Standard Webhooks verifier (npm standardwebhooks)", () => {
  /** Verifies `r` with `secret` as the library's README says: the raw body as a string. */
  const verify = (secret: string, r: Received) =>
    new Webhook(secret).verify(r.body.toString("utf8"), r.headers as Record<string, string>, {
      jsonParse: false,
    });
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const isUtf8 = (bytes: Buffer) => {
    try {
      utf8.decode(bytes);
      return true;
    } catch {
      return false;
    }
  };

  it("verifies every delivery in every mode, with each secret form, either secret while rotating", async () => {
    const events = [
      interop({ datacontenttype: "application/json", data: { signed: "é" } }),
      interop({ datacontenttype: "text/plain; charset=utf-8", data: "plain 😀" }),
      interop({}),
      interop({ datacontenttype: "application/octet-stream", data: Buffer.from([0xff, 0, 0x80]) }),
    ];
    for (const event of events) await post(HTTP.structured(event));
    for (const event of events) await deliveriesOf(event.id, PATHS);
    const deliveries = sink.received.filter((r) => PATHS.includes(r.path as Path));
    expect(deliveries.length).toBeGreaterThanOrEqual(events.length * PATHS.length);
    const now = Math.floor(Date.now() / 1000);
    for (const r of deliveries) {
      expect(r.headers["webhook-id"], r.path).toMatch(/^msg_[A-Za-z0-9_-]+$/);
      for (const secret of SECRETS[r.path] ?? []) {
        if (isUtf8(r.body)) {
          expect(() => verify(secret, r), `${r.path} ${eventIds(r)}`).not.toThrow();
        } else {
          // The library takes the body as a UTF-8 string, so it cannot check bytes that are not
          // UTF-8 (the README says so); Standard Webhooks signs the bytes, as this checks.
          expect(verifyStandardWebhook(r.headers, r.body, secret, now), r.path).toBe(true);
        }
      }
      // Another subscription's secret does not verify it.
      expect(() => verify(r.path === "/hook/binary" ? S64 : S24, r)).toThrow();
    }
  });

  it("a retry and a redrive carry the same webhook-id, each signed afresh", async () => {
    const retried = new CloudEvent<unknown>({
      id: "retried",
      source: "/interop",
      type: "com.example.retry",
      data: { n: 1 },
    });
    await post(HTTP.binary(retried));
    const attempts = await (async () => {
      const of = () => sink.received.filter((r) => r.path === "/hook/retry");
      while (of().length < 2) await sink.waitFor(sink.received.length + 1);
      return of();
    })();
    expect(attempts[0]?.headers["webhook-id"]).toBe(attempts[1]?.headers["webhook-id"]);
    for (const attempt of attempts) expect(() => verify(S24, attempt)).not.toThrow();

    const dead = new CloudEvent<unknown>({
      id: "redriven",
      source: "/interop",
      type: "com.example.redrive",
      data: { n: 2 },
    });
    await post(HTTP.structured(dead));
    const [refused] = await deliveriesOf("redriven", ["/hook/redrive"]);
    // retry: 0 and a 500: the delivery is dead; once the sink is back, a redrive resends it.
    let listed: { items: unknown[] } = { items: [] };
    while (listed.items.length === 0) {
      listed = (await (await fetch(`${herald.url}/subscriptions/redrive/dead`)).json()) as {
        items: unknown[];
      };
    }
    redriveHealthy = true;
    const redrive = await fetch(`${herald.url}/subscriptions/redrive/redrive`, { method: "POST" });
    expect(await redrive.json()).toEqual({ redriven: 1 });
    const again = await (async () => {
      const of = () => sink.received.filter((r) => r.path === "/hook/redrive");
      while (of().length < 2) await sink.waitFor(sink.received.length + 1);
      return of()[1] as Received;
    })();
    expect(again.headers["webhook-id"]).toBe(refused?.headers["webhook-id"]);
    expect(() => verify(S24, again)).not.toThrow();
  });
});

describe("herald serve with OpenTelemetry's W3CTraceContextPropagator at the sink", () => {
  const propagator = new W3CTraceContextPropagator();
  const extract = (carrier: Record<string, unknown>): SpanContext | undefined =>
    trace.getSpanContext(propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
  const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  const PARENT = "00f067aa0ba902b7";

  it.each([
    ["sampled", "01", 1],
    ["not sampled", "00", 0],
  ])(
    "each delivery continues the producer's %s trace; the extension is the producer's context",
    async (_, flags, traceFlags) => {
      const event = interop({ data: { traced: true } });
      await post(HTTP.structured(event), {
        traceparent: `00-${TRACE}-${PARENT}-${flags}`,
        // Optional whitespace and an empty member (W3C 3.3.1.1): passed on in canonical form.
        tracestate: "rojo=00f067aa0ba902b7 ,\tcongo=t61rcWkgMzE,",
      });
      const got = await deliveriesOf(event.id, PATHS);
      const spans = new Set<string>();
      for (const path of PATHS) {
        const delivery = got.find((r) => r.path === path) as Received;
        const own = extract(delivery.headers);
        expect(own, path).toMatchObject({ traceId: TRACE, traceFlags, isRemote: true });
        expect(own?.spanId, path).not.toBe(PARENT);
        expect(own?.traceState?.serialize(), path).toBe("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
        spans.add(String(own?.spanId));
        // The distributed-tracing extension carries the starting trace, the producer's context.
        const read = toEvent(delivery);
        const creation = extract({ traceparent: read.traceparent, tracestate: read.tracestate });
        expect(creation, path).toMatchObject({ traceId: TRACE, spanId: PARENT, traceFlags });
        expect(creation?.traceState?.get("congo"), path).toBe("t61rcWkgMzE");
      }
      // One span per delivery: no two sinks see the same parent.
      expect(spans.size).toBe(PATHS.length);
    },
  );

  it("an event's own traceparent extension wins over the request's headers", async () => {
    const creation = `00-${"a".repeat(32)}-${"b".repeat(16)}-01`;
    const event = interop({ traceparent: creation, tracestate: "x=y", data: { n: 1 } });
    await post(HTTP.structured(event), { traceparent: `00-${TRACE}-${PARENT}-01` });
    for (const delivery of await deliveriesOf(event.id, PATHS)) {
      expect(extract(delivery.headers), delivery.path).toMatchObject({ traceId: "a".repeat(32) });
      expect(toEvent(delivery).traceparent, delivery.path).toBe(creation);
    }
  });

  it("every attempt of a retried delivery is a new span in the same trace", async () => {
    const event = new CloudEvent<unknown>({
      id: "traced-retry",
      source: "/interop",
      type: "com.example.retry",
      data: { n: 3 },
    });
    await post(HTTP.binary(event), { traceparent: `00-${TRACE}-${PARENT}-01` });
    const of = () =>
      sink.received.filter((r) => r.path === "/hook/retry" && r.headers["ce-id"] === event.id);
    while (of().length < 2) await sink.waitFor(sink.received.length + 1);
    const [first, second] = of().map((r) => extract(r.headers));
    expect(first?.traceId).toBe(TRACE);
    expect(second?.traceId).toBe(TRACE);
    expect(first?.spanId).not.toBe(second?.spanId);
  });
});
