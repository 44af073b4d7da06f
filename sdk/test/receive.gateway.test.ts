import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProducer, type Producer } from "../src/index.js";
import {
  heraldReceiver,
  type ReceivedEvent,
  type ReceiverVariables,
  receive,
  receiveBatch,
  SignatureInvalid,
  SignatureMissing,
  SignatureStale,
  UnsupportedMode,
} from "../src/receive/index.js";
import { type Herald, startHerald } from "./herald-process.js";
import { type Received, type SinkServer, startSink, toRequest } from "./sink-server.js";

const secret = () =>
  `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
const OLD = secret();
const NEW = secret();
const OTHER = secret();

let herald: Herald;
let sink: SinkServer;
let producer: Producer;
let hono: {
  url: string;
  events: ReceivedEvent[];
  /** Resolves when the handler has seen `count` events. */
  handled(count: number): Promise<void>;
  close(): Promise<void>;
};

/** A Hono app behind @hono/node-server: the middleware guards POST /hook. */
async function startHonoSink(): Promise<typeof hono> {
  const events: ReceivedEvent[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const app = new Hono<{ Variables: ReceiverVariables }>();
  app.post("/hook", heraldReceiver({ signingSecret: NEW }), (c) => {
    events.push(c.get("cloudevent"));
    for (const w of waiters.filter((w) => events.length >= w.count)) w.resolve();
    return c.body(null, 204);
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    events,
    handled: (count) =>
      events.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

beforeAll(async () => {
  sink = await startSink();
  hono = await startHonoSink();
  const signed = { types: ["com.example.signed"] };
  herald = await startHerald({
    subscriptions: [
      // Two secrets while one is rotated: every delivery carries a signature for each.
      {
        id: "binary",
        ...signed,
        sink: `${sink.url}/binary`,
        delivery: { signingSecret: `${OLD} ${NEW}` },
      },
      {
        id: "structured",
        ...signed,
        sink: `${sink.url}/structured`,
        delivery: { mode: "structured", signingSecret: NEW },
      },
      { id: "unsigned", ...signed, sink: `${sink.url}/unsigned` },
      { id: "latin1", types: ["com.example.latin1"], sink: `${sink.url}/latin1` },
      {
        id: "batch",
        types: ["com.example.batched"],
        sink: `${sink.url}/batch`,
        delivery: { mode: "batch", maxBatchSize: 3, maxBatchWait: "5s", signingSecret: NEW },
      },
      {
        id: "hono",
        types: ["com.example.hono"],
        sink: `${hono.url}/hook`,
        delivery: { signingSecret: NEW, retry: 0 },
      },
    ],
  });
  producer = createProducer({ endpoint: herald.events, source: "/receive-test" });
  await producer.notification({
    type: "com.example.signed",
    subject: "Straße 7 😀",
    dataref: "http://127.0.0.1:9/things/7",
    data: { thingId: 7 },
  });
  await producer.send([
    { type: "com.example.batched", data: { n: 1 } },
    { type: "com.example.batched", data: "two", datacontenttype: "text/plain" },
    { type: "com.example.batched", data: new Uint8Array([1, 2, 3]) },
  ]);
  await producer.stateTransfer({
    type: "com.example.latin1",
    data: "café",
    datacontenttype: "text/plain; charset=iso-8859-1",
  });
  await sink.waitFor(5);
});
afterAll(async () => {
  await herald?.stop();
  await sink?.close();
  await hono?.close();
});

const only = (path: string): Received => {
  const [r] = sink.at(path);
  if (r === undefined) throw new Error(`nothing arrived at ${path}`);
  return r;
};

describe("receive: what herald serve delivers", () => {
  it("binary mode, signed: the event with percent-decoded attributes, JSON data and provenance", async () => {
    const event = await receive(toRequest(only("/binary")), { signingSecret: NEW });
    expect(event).toMatchObject({
      specversion: "1.0",
      source: "/receive-test",
      type: "com.example.signed",
      subject: "Straße 7 😀",
      dataref: "http://127.0.0.1:9/things/7",
      data: { thingId: 7 },
      authtype: "unauthenticated",
    });
    expect(typeof event.recordedtime).toBe("string");
  });

  it("accepts either secret while one is rotated, and refuses a secret the gateway does not use", async () => {
    const delivery = only("/binary");
    await expect(receive(toRequest(delivery), { signingSecret: OLD })).resolves.toMatchObject({
      type: "com.example.signed",
    });
    await expect(
      receive(toRequest(delivery), { signingSecret: `${OTHER} ${OLD}` }),
    ).resolves.toMatchObject({
      type: "com.example.signed",
    });
    const err = await receive(toRequest(delivery), { signingSecret: OTHER }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SignatureInvalid);
    expect(err).toMatchObject({ code: "invalid_signature", status: 401 });
  });

  it("binary mode: text in the charset the gateway wrote it in (iso-8859-1 here)", async () => {
    const r = only("/latin1");
    expect([...r.body]).toEqual([0x63, 0x61, 0x66, 0xe9]);
    const event = await receive(toRequest(r));
    expect(event).toMatchObject({
      datacontenttype: "text/plain; charset=iso-8859-1",
      data: "café",
    });
  });

  it("structured mode, signed", async () => {
    const event = await receive(toRequest(only("/structured")), { signingSecret: NEW });
    expect(event).toMatchObject({ subject: "Straße 7 😀", data: { thingId: 7 } });
  });

  it("batch mode: receiveBatch gives the events in order, data by media type; receive refuses it", async () => {
    const delivery = only("/batch");
    const events = await receiveBatch(toRequest(delivery), { signingSecret: NEW });
    expect(events.map((e) => e.data)).toEqual([{ n: 1 }, "two", new Uint8Array([1, 2, 3])]);
    const err = await receive(toRequest(delivery), { signingSecret: NEW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedMode);
    expect(err).toMatchObject({ status: 415 });
    // A single-event request through receiveBatch is a list of one.
    const one = await receiveBatch(toRequest(only("/structured")), { signingSecret: NEW });
    expect(one.map((e) => e.type)).toEqual(["com.example.signed"]);
  });

  it("tampered: a changed body byte or a changed webhook-id is refused", async () => {
    const delivery = only("/binary");
    const body = Buffer.from(delivery.body);
    body[body.length - 2] = body[body.length - 2]! ^ 1;
    const tamperedBody = await receive(toRequest({ ...delivery, body }), {
      signingSecret: NEW,
    }).catch((e: unknown) => e);
    expect(tamperedBody).toBeInstanceOf(SignatureInvalid);
    const headers = { ...delivery.headers, "webhook-id": "another-message" };
    const tamperedId = await receive(toRequest({ ...delivery, headers }), {
      signingSecret: NEW,
    }).catch((e: unknown) => e);
    expect(tamperedId).toBeInstanceOf(SignatureInvalid);
  });

  it("a webhook-timestamp that is no whole number of seconds is invalid, not stale", async () => {
    const delivery = only("/binary");
    for (const timestamp of ["abc", "1795802182.5", "-1", ""]) {
      const headers = { ...delivery.headers, "webhook-timestamp": timestamp };
      const err = await receive(toRequest({ ...delivery, headers }), {
        signingSecret: NEW,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SignatureInvalid);
      expect((err as Error).message).toMatch(/not whole seconds since the epoch/);
    }
  });

  it("stale: a timestamp outside the tolerance is refused, in the past and in the future", async () => {
    const delivery = only("/binary");
    const signedAt = Number(delivery.headers["webhook-timestamp"]) * 1000;
    const late = await receive(toRequest(delivery), {
      signingSecret: NEW,
      now: () => signedAt + 301_000,
    }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(SignatureStale);
    expect(late).toMatchObject({ code: "stale_signature", status: 401 });
    const early = await receive(toRequest(delivery), {
      signingSecret: NEW,
      now: () => signedAt - 61_000,
      toleranceSeconds: 60,
    }).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(SignatureStale);
    // Within a wider tolerance the same delivery is fine.
    await expect(
      receive(toRequest(delivery), {
        signingSecret: NEW,
        now: () => signedAt + 301_000,
        toleranceSeconds: 400,
      }),
    ).resolves.toMatchObject({ type: "com.example.signed" });
  });

  it("unsigned: refused when a secret is expected, read when none is", async () => {
    const delivery = only("/unsigned");
    expect(delivery.headers["webhook-signature"]).toBeUndefined();
    const err = await receive(toRequest(delivery), { signingSecret: NEW }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignatureMissing);
    expect(err).toMatchObject({ code: "missing_signature", status: 401 });
    await expect(receive(toRequest(delivery))).resolves.toMatchObject({ data: { thingId: 7 } });
  });
});

describe("heraldReceiver (Hono middleware)", () => {
  it("passes a signed delivery from herald serve to the handler", async () => {
    const sent = await producer.notification({ type: "com.example.hono", subject: "h-1" });
    await hono.handled(1);
    expect(hono.events[0]).toMatchObject({ id: sent.id, subject: "h-1" });
  });

  it("answers a forged or unsigned request with 401 problem+json, before the handler", async () => {
    const before = hono.events.length;
    const forged = only("/binary");
    const headers = new Headers();
    for (const [name, value] of Object.entries(forged.headers)) {
      if (typeof value === "string" && name !== "host" && name !== "content-length")
        headers.set(name, value);
    }
    const tampered = Buffer.from(forged.body);
    tampered[0] = tampered[0]! ^ 1;
    const refused = await fetch(`${hono.url}/hook`, { method: "POST", headers, body: tampered });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(await refused.json()).toMatchObject({ code: "invalid_signature", status: 401 });
    const unsigned = await fetch(`${hono.url}/hook`, {
      method: "POST",
      headers: { "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/x", "ce-type": "t" },
    });
    expect(unsigned.status).toBe(401);
    expect((await unsigned.json()).code).toBe("missing_signature");
    expect(hono.events).toHaveLength(before);
  });
});
