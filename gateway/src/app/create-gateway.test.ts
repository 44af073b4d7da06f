import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordingSink, startRecordingSink } from "../../test/support/recording-sink.js";
import { parseConfig } from "../config/load-config.js";
import { createGateway, type Gateway } from "./create-gateway.js";

let sink: RecordingSink;
let gateway: Gateway;

beforeAll(async () => {
  sink = await startRecordingSink();
  const config = {
    limits: { maxEventBytes: 4096, maxBatchEvents: 5 },
    subscriptions: [
      { id: "bin", types: ["com.example.bin"], sink: `${sink.url}/bin` },
      {
        id: "structured",
        types: ["com.example.structured"],
        sink: `${sink.url}/structured`,
        delivery: { mode: "structured" },
      },
      {
        id: "headers",
        types: ["com.example.headers"],
        sink: `${sink.url}/headers`,
        protocolsettings: { headers: { "x-team": "media" } },
      },
    ],
  };
  const parsed = parseConfig(JSON.stringify(config), "test.json");
  // Headers a delivery writes itself are refused when a subscription is configured; one stored
  // before that rule still has them, and they must not reach the sink.
  const subscriptions = parsed.subscriptions.map((sub) =>
    sub.id === "headers"
      ? {
          ...sub,
          protocolsettings: {
            headers: { ...sub.protocolsettings.headers, "ce-id": "forged", host: "evil.example" },
          },
        }
      : sub,
  );
  gateway = createGateway({ config: { ...parsed, subscriptions } });
  gateway.start();
});
afterAll(async () => {
  await gateway.stop();
  await sink.close();
});

const ce = (type: string, id: string, extra: Record<string, string> = {}) => ({
  "ce-specversion": "1.0",
  "ce-id": id,
  "ce-source": "/test",
  "ce-type": type,
  ...extra,
});

function post(headers: Record<string, string>, body?: BodyInit, path = "/events") {
  return gateway.fetch(
    new Request(`http://gw${path}`, { method: "POST", headers, body: body ?? null }),
  );
}

/** Sends a sentinel through the binary subscription and waits for it: everything sent before was handled. */
async function flush(): Promise<void> {
  const before = sink.received.length;
  const id = `sentinel-${Math.random()}`;
  expect((await post(ce("com.example.bin", id))).status).toBe(202);
  await sink.waitFor(before + 1);
  await gateway.idle();
}

const delivered = (id: string) =>
  sink.received.filter(
    (r) =>
      r.headers["ce-id"] === id || (r.body.length > 0 && r.body.toString().includes(`"${id}"`)),
  );

describe("end to end: ingest -> match -> deliver", () => {
  it("delivers binary mode with percent-encoded headers that decode to what was sent", async () => {
    const res = await post(
      ce("com.example.bin", "pct-1", {
        "ce-subject": "Euro%20%E2%82%AC%20%F0%9F%98%80",
        "ce-quoted": '"a b"',
        "content-type": "text/plain; charset=utf-8",
      }),
      "héllo",
    );
    expect(res.status).toBe(202);
    await flush();
    const [got] = delivered("pct-1");
    expect(got?.path).toBe("/bin");
    expect(got?.headers["ce-subject"]).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
    expect(got?.headers["ce-quoted"]).toBe("a%20b");
    expect(got?.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(got?.body.toString("utf8")).toBe("héllo");
  });

  it("turns a structured event into a binary delivery, keeping typed extensions as strings", async () => {
    const event = {
      specversion: "1.0",
      id: "s2b-1",
      source: "/test",
      type: "com.example.bin",
      subject: "ünïcode subject",
      count: 7,
      flag: true,
      data: { a: 1 },
    };
    const res = await post(
      { "content-type": "application/cloudevents+json; charset=utf-8" },
      JSON.stringify(event),
    );
    expect(res.status).toBe(202);
    await flush();
    const [got] = delivered("s2b-1");
    expect(decodeURIComponent(String(got?.headers["ce-subject"]))).toBe("ünïcode subject");
    expect(got?.headers["ce-count"]).toBe("7");
    expect(got?.headers["ce-flag"]).toBe("true");
    expect(got?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(got!.body.toString())).toEqual({ a: 1 });
  });

  it("delivers structured JSON data exactly as sent, big numbers and all", async () => {
    const data = '{"n": 12345678901234567890, "f": 1.0, "e": 1e400}';
    const body = `{"specversion":"1.0","id":"bignum-1","source":"/test","type":"com.example.bin","data":${data}}`;
    const res = await post({ "content-type": "application/cloudevents+json" }, body);
    expect(res.status).toBe(202);
    await flush();
    const [got] = delivered("bignum-1");
    expect(got?.body.toString()).toBe(data);
  });

  it("turns a binary event into a structured delivery", async () => {
    const res = await post(
      ce("com.example.structured", "b2s-1", {
        "ce-myext": "x%20y",
        "content-type": "application/json",
      }),
      '{"n":1}',
    );
    expect(res.status).toBe(202);
    await flush();
    const [got] = delivered("b2s-1");
    expect(got?.path).toBe("/structured");
    expect(got?.headers["content-type"]).toMatch(/^application\/cloudevents\+json/);
    expect(JSON.parse(got!.body.toString())).toEqual({
      specversion: "1.0",
      id: "b2s-1",
      source: "/test",
      type: "com.example.structured",
      myext: "x y",
      datacontenttype: "application/json",
      // Set by the gateway (no auth in this config): when it was recorded, and that nobody signed it.
      recordedtime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      authtype: "unauthenticated",
      // The distributed-tracing extension: no trace came in, so the gateway started one.
      traceparent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
      data: { n: 1 },
    });
  });

  it("delivers structured and batch text data to a binary sink in the charset datacontenttype names", async () => {
    const event = (id: string) => ({
      specversion: "1.0",
      id,
      source: "/test",
      type: "com.example.bin",
      datacontenttype: "text/plain; charset=iso-8859-1",
      data: "café",
    });
    const structured = await post(
      { "content-type": "application/cloudevents+json" },
      JSON.stringify(event("latin1-1")),
    );
    const batch = await post(
      { "content-type": "application/cloudevents-batch+json" },
      JSON.stringify([event("latin1-2")]),
    );
    expect([structured.status, batch.status]).toEqual([202, 202]);
    await flush();
    for (const id of ["latin1-1", "latin1-2"]) {
      const [got] = delivered(id);
      expect(got?.headers["content-type"]).toBe("text/plain; charset=iso-8859-1");
      expect([...(got?.body ?? [])]).toEqual([0x63, 0x61, 0x66, 0xe9]);
    }
  });

  it("reads binary text in its charset for a structured sink, or keeps bytes it cannot read", async () => {
    const latin1 = await post(
      ce("com.example.structured", "b2s-latin1", {
        "content-type": "text/plain; charset=iso-8859-1",
      }),
      Uint8Array.of(0x63, 0x61, 0x66, 0xe9).buffer,
    );
    const ascii = await post(
      ce("com.example.structured", "b2s-ascii", { "content-type": "text/plain; charset=us-ascii" }),
      Uint8Array.of(0x63, 0x61, 0x66, 0xe9).buffer,
    );
    expect([latin1.status, ascii.status]).toEqual([202, 202]);
    await flush();
    expect(JSON.parse(delivered("b2s-latin1")[0]!.body.toString())).toMatchObject({
      datacontenttype: "text/plain; charset=iso-8859-1",
      data: "café",
    });
    expect(JSON.parse(delivered("b2s-ascii")[0]!.body.toString())).toMatchObject({
      datacontenttype: "text/plain; charset=us-ascii",
      data_base64: "Y2Fm6Q==",
    });
  });

  it("adds protocolsettings headers without letting them override ce- headers", async () => {
    expect((await post(ce("com.example.headers", "hdr-1"))).status).toBe(202);
    await flush();
    const [got] = delivered("hdr-1");
    expect(got?.headers["x-team"]).toBe("media");
    expect(got?.headers["ce-id"]).toBe("hdr-1");
    expect(got?.headers.host).not.toBe("evil.example");
  });

  it("delivers every event of a batch", async () => {
    const batch = ["b-1", "b-2", "b-3"].map((id) => ({
      specversion: "1.0",
      id,
      source: "/test",
      type: "com.example.bin",
    }));
    const res = await post(
      { "content-type": "application/cloudevents-batch+json" },
      JSON.stringify(batch),
    );
    expect(res.status).toBe(202);
    await flush();
    expect(["b-1", "b-2", "b-3"].map((id) => delivered(id).length)).toEqual([1, 1, 1]);
  });

  it("delivers nothing of a batch with one invalid event", async () => {
    const batch = [
      { specversion: "1.0", id: "bad-batch-1", source: "/test", type: "com.example.bin" },
      {
        specversion: "1.0",
        id: "bad-batch-2",
        source: "/test",
        type: "com.example.bin",
        time: "x",
      },
    ];
    const res = await post(
      { "content-type": "application/cloudevents-batch+json" },
      JSON.stringify(batch),
    );
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: "invalid_event",
      index: 1,
      attributes: ["time"],
    });
    await flush();
    expect(delivered("bad-batch-1")).toEqual([]);
  });

  it("accepts on POST / like POST /events", async () => {
    expect((await post(ce("com.example.bin", "root-1"), undefined, "/")).status).toBe(202);
    await flush();
    expect(delivered("root-1")).toHaveLength(1);
  });

  it("accepts an event no subscription wants, and delivers it nowhere", async () => {
    expect((await post(ce("com.example.unwanted", "nobody-1"))).status).toBe(202);
    await flush();
    expect(delivered("nobody-1")).toEqual([]);
  });
});

describe("hostile and malformed requests", () => {
  const problem = async (res: Response) => {
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: res.status });
    for (const key of ["type", "title", "detail", "code"]) expect(typeof body[key]).toBe("string");
    return body;
  };

  it.each([
    ["invalid percent-encoding", ce("com.example.bin", "h-1", { "ce-subject": "%C0%A0" }), 400],
    ["missing id", { "ce-specversion": "1.0", "ce-source": "/s", "ce-type": "t" }, 400],
    ["ce-datacontenttype", ce("com.example.bin", "h-2", { "ce-datacontenttype": "a/b" }), 400],
    ["unknown structured format", { "content-type": "application/cloudevents+xml" }, 415],
    ["broken JSON", { "content-type": "application/cloudevents+json" }, 400],
  ])("%s -> %i problem+json, never delivered", async (_name, headers, status) => {
    const res = await post(headers as Record<string, string>, "{not json");
    expect(res.status).toBe(status);
    await problem(res);
  });

  const gzEvent = { specversion: "1.0", id: "gz-1", source: "/s", type: "com.example.bin" };
  it.each([
    ["binary", ce("com.example.bin", "gz-1", { "content-type": "application/json" }), "{}"],
    ["structured", { "content-type": "application/cloudevents+json" }, JSON.stringify(gzEvent)],
    ["batch", { "content-type": "application/cloudevents-batch+json" }, JSON.stringify([gzEvent])],
  ])(
    "415 for a %s body in a content coding: never passed on compressed",
    async (_mode, headers, body) => {
      const res = await post({ ...headers, "content-encoding": "gzip" }, body);
      expect(res.status).toBe(415);
      expect(res.headers.get("accept-encoding")).toBe("identity");
      expect(await problem(res)).toMatchObject({ code: "unsupported_media_type" });
      await flush();
      expect(delivered("gz-1")).toEqual([]);
    },
  );

  it("takes Content-Encoding: identity as no coding", async () => {
    const headers = ce("com.example.bin", "identity-1", { "content-encoding": "Identity" });
    expect((await post(headers, "{}")).status).toBe(202);
    await flush();
    expect(delivered("identity-1")).toHaveLength(1);
  });

  it("413 for an oversized event", async () => {
    const res = await post(ce("com.example.bin", "big-1"), "x".repeat(5000));
    expect(res.status).toBe(413);
    expect(await problem(res)).toMatchObject({ code: "payload_too_large", limit: 4096 });
    await flush();
    expect(delivered("big-1")).toEqual([]);
  });

  it("413 for too many events in a batch", async () => {
    const one = { specversion: "1.0", id: "x", source: "/s", type: "t" };
    const res = await post(
      { "content-type": "application/cloudevents-batch+json" },
      JSON.stringify(Array(6).fill(one)),
    );
    expect(res.status).toBe(413);
    expect(await problem(res)).toMatchObject({ code: "batch_too_large", limit: 5, count: 6 });
  });

  it("405 with Allow for other methods, 404 elsewhere", async () => {
    for (const method of ["GET", "PUT", "DELETE", "PATCH"]) {
      const res = await gateway.fetch(new Request("http://gw/events", { method }));
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe("POST, OPTIONS");
      await problem(res);
    }
    const res = await gateway.fetch(new Request("http://gw/nope"));
    expect(res.status).toBe(404);
    expect(await problem(res)).toMatchObject({ code: "not_found" });
  });

  it("answers the webhook handshake", async () => {
    const res = await gateway.fetch(
      new Request("http://gw/events", {
        method: "OPTIONS",
        headers: { "WebHook-Request-Origin": "emitter.example.com", "WebHook-Request-Rate": "120" },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("webhook-allowed-origin")).toBe("emitter.example.com");
    expect(res.headers.get("webhook-allowed-rate")).toBe("120");
    expect(res.headers.get("allow")).toContain("POST");
  });

  it("reports health and readiness", async () => {
    expect((await gateway.fetch(new Request("http://gw/healthz"))).status).toBe(200);
    expect((await gateway.fetch(new Request("http://gw/readyz"))).status).toBe(200);
  });

  it.each(["/healthz", "/readyz"])("answers %s with Cache-Control: no-store", async (path) => {
    const res = await gateway.fetch(new Request(`http://gw${path}`));
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it.each(["/healthz", "/readyz", "/openapi.json"])("405 with Allow for POST %s", async (path) => {
    const res = await gateway.fetch(new Request(`http://gw${path}`, { method: "POST" }));
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(await problem(res)).toMatchObject({ code: "method_not_allowed" });
  });

  it.each(["/healthz", "/readyz", "/openapi.json"])(
    "OPTIONS %s is 200 with Allow, no content and no webhook handshake (it was 405)",
    async (path) => {
      const res = await gateway.fetch(
        new Request(`http://gw${path}`, {
          method: "OPTIONS",
          headers: { "webhook-request-origin": "emitter.example.com" },
        }),
      );
      expect(res.status).toBe(200);
      expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(res.headers.get("content-length")).toBe("0");
      // No event is taken here: nothing to grant a webhook emitter.
      expect(res.headers.get("webhook-allowed-origin")).toBeNull();
      expect(await res.text()).toBe("");
    },
  );
});

describe("shutdown", () => {
  it("finishes queued deliveries, then refuses new events with 503", async () => {
    const own = await startRecordingSink();
    const gw = createGateway({
      config: parseConfig(
        JSON.stringify({ subscriptions: [{ id: "all", sink: own.url }] }),
        "shutdown.json",
      ),
    });
    gw.start();
    for (let i = 0; i < 20; i++) {
      const res = await gw.fetch(
        new Request("http://gw/events", { method: "POST", headers: ce("t", `sd-${i}`) }),
      );
      expect(res.status).toBe(202);
    }
    await gw.stop();
    expect(own.received).toHaveLength(20);
    const after = await gw.fetch(
      new Request("http://gw/events", { method: "POST", headers: ce("t", "late") }),
    );
    expect(after.status).toBe(503);
    expect(after.headers.get("retry-after")).toBe("1");
    const stopping = await gw.fetch(new Request("http://gw/readyz"));
    expect(stopping.status).toBe(503);
    expect(stopping.headers.get("cache-control")).toBe("no-store");
    await own.close();
  });

  /** A POST whose body sends `first` now and the rest once `finish()` is called. */
  function slowRequest(path: string, headers: Record<string, string>, first: string) {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
        c.enqueue(new TextEncoder().encode(first));
      },
    });
    const request = new Request(`http://gw${path}`, {
      method: "POST",
      headers,
      body,
      duplex: "half",
    } as RequestInit);
    return {
      request,
      finish(rest: string) {
        controller.enqueue(new TextEncoder().encode(rest));
        controller.close();
      },
    };
  }

  const shop = { id: "shop", kind: "mapping", attributes: { source: "/shop", type: "t" } };

  it.each([
    ["POST /events", "/events", ce("t", "slow-in", { "content-type": "text/plain" }), "hel", "lo"],
    [
      "POST /webhooks/shop",
      "/webhooks/shop",
      { "content-type": "application/json" },
      '{"a"',
      ":1}",
    ],
  ])(
    "lets %s with its body still arriving finish within the drain deadline",
    async (_, path, headers, first, rest) => {
      const own = await startRecordingSink();
      const gw = createGateway({
        config: parseConfig(
          JSON.stringify({ subscriptions: [{ id: "all", sink: own.url }], adapters: [shop] }),
          "slow.json",
        ),
        drainMs: 60_000,
      });
      gw.start();
      const slow = slowRequest(path, headers, first);
      const answer = gw.fetch(slow.request);
      const stopped = gw.stop();
      // A request that comes after stop() began is refused at once.
      const late = await gw.fetch(
        new Request("http://gw/events", { method: "POST", headers: ce("t", "l") }),
      );
      expect(late.status).toBe(503);
      slow.finish(rest);
      expect((await answer).status).toBe(202);
      await stopped;
      expect(own.received).toHaveLength(1);
      await own.close();
    },
  );

  it("says at error level that the memory store loses the deliveries still queued at the drain deadline", async () => {
    const lines: { level: string; message: string; fields: unknown }[] = [];
    const log = (level: string) => (message: string, fields?: unknown) =>
      void lines.push({ level, message, fields });
    const own = await startRecordingSink(503);
    const gw = createGateway({
      config: parseConfig(
        JSON.stringify({
          subscriptions: [{ id: "down", sink: own.url, delivery: { backoffDelay: "1m" } }],
        }),
        "lost.json",
      ),
      drainMs: 200,
      logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    });
    gw.start();
    const res = await gw.fetch(
      new Request("http://gw/events", { method: "POST", headers: ce("t", "lost-1") }),
    );
    expect(res.status).toBe(202);
    await own.waitFor(1);
    await gw.stop();
    await own.close();
    expect(lines).toContainEqual({
      level: "error",
      message:
        "stopped with deliveries still queued: the memory store loses them (store: sqlite keeps them for the next start)",
      fields: { queued: 1 },
    });
  });

  it.each([
    ["POST /events", "/events", ce("t", "slow-cut", { "content-type": "text/plain" }), "hel"],
    ["POST /webhooks/shop", "/webhooks/shop", { "content-type": "application/json" }, '{"a"'],
  ])(
    "answers %s 503 with Retry-After when its body is still arriving at the drain deadline, and stores nothing",
    async (_, path, headers, first) => {
      const own = await startRecordingSink();
      const gw = createGateway({
        config: parseConfig(
          JSON.stringify({ subscriptions: [{ id: "all", sink: own.url }], adapters: [shop] }),
          "cut.json",
        ),
        drainMs: 50,
      });
      gw.start();
      const slow = slowRequest(path, headers, first);
      const answer = gw.fetch(slow.request);
      await gw.stop();
      const res = await answer;
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(await res.json()).toMatchObject({ code: "unavailable" });
      slow.finish(path === "/events" ? "lo" : ":1}");
      expect(own.received).toHaveLength(0);
      expect(await gw.metrics.render()).toContain(
        'herald_events_rejected_total{reason="unavailable"} 1',
      );
      await own.close();
    },
  );
});
