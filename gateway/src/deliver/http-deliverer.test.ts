import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { verifyStandardWebhook } from "../../test/support/verify-standard-webhook.js";
import { createNodeSinkClient } from "../adapters/node/node-sink-client.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { toJsonObject } from "../event/json-format.js";
import { decodeHeaderValue } from "../ingest/header-value.js";
import type { Clock } from "../ports/clock.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { BATCH_CONTENT_TYPE } from "./build-batch-message.js";
import { STRUCTURED_CONTENT_TYPE } from "./build-delivery-message.js";
import type { DeliveryAttempt } from "./deliverer.js";
import { createFetchSinkClient } from "./fetch-sink-client.js";
import { createHttpDeliverer } from "./http-deliverer.js";
import type { SinkClient } from "./sink-client.js";

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

const servers: Server[] = [];

/** A real sink on 127.0.0.1 that records what it receives and counts connections. */
async function startSink(handler: (res: ServerResponse, req: IncomingMessage) => void) {
  const received: Received[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(res, req);
    });
  });
  server.on("connection", () => connections++);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hook`, port, received, connections: () => connections };
}

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

const subscription = (sink: string, overrides: Partial<Subscription> = {}): Subscription => ({
  id: "sub-1",
  filters: [],
  sink,
  protocol: "HTTP",
  protocolsettings: { headers: {} },
  delivery: { mode: "binary", timeoutMs: 5_000 },
  ...overrides,
});

const event: CloudEvent = {
  attributes: {
    specversion: "1.0",
    id: "A234-1234-1234",
    source: "/mycontext",
    type: "com.example.someevent",
    time: "2018-04-05T17:31:00Z",
    subject: 'Grüße "quoted" 100% 😀',
    comexampleothervalue: 5,
    comexampleflag: false,
    datacontenttype: "application/json",
  },
  data: { kind: "json", value: { appinfoA: "abc", appinfoB: 123 } },
};

/** One event as a delivery attempt (binary and structured mode). */
const one = (e: CloudEvent): DeliveryAttempt => ({ id: "msg_1", events: [e] });

const now = Date.UTC(2030, 0, 1, 0, 0, 0);
const clock: Clock = { now: () => now };

const nodeClient = createNodeSinkClient();
afterAll(() => nodeClient.close());

// The same behaviour whichever client carries it: the global fetch, and the Node client.
describe.each<[string, SinkClient]>([
  ["the fetch sink client (global fetch)", createFetchSinkClient((request) => fetch(request))],
  ["the node sink client", nodeClient],
])("createHttpDeliverer over %s", (_, client) => {
  const deliverer = createHttpDeliverer({ client, clock });

  describe("binary mode", () => {
    it("POSTs ce- headers, Content-Type and the data bytes, and reports delivered", async () => {
      const sink = await startSink((res) => res.writeHead(202).end());
      const outcome = await deliverer.deliver(one(event), subscription(sink.url));
      expect(outcome).toEqual({ kind: "delivered", status: 202 });
      expect(sink.received).toHaveLength(1);
      const [request] = sink.received;
      expect(request?.method).toBe("POST");
      expect(request?.url).toBe("/hook");
      expect(request?.headers).toMatchObject({
        "ce-specversion": "1.0",
        "ce-id": "A234-1234-1234",
        "ce-source": "/mycontext",
        "ce-type": "com.example.someevent",
        "ce-time": "2018-04-05T17:31:00Z",
        "ce-subject": "Gr%C3%BC%C3%9Fe%20%22quoted%22%20100%25%20%F0%9F%98%80",
        "ce-comexampleothervalue": "5",
        "ce-comexampleflag": "false",
        "content-type": "application/json",
      });
      expect(request?.headers["ce-datacontenttype"]).toBeUndefined();
      expect(request?.body.toString()).toBe('{"appinfoA":"abc","appinfoB":123}');
    });

    it("percent-encodes values so the receiving side decodes the original attribute", async () => {
      const sink = await startSink((res) => res.writeHead(200).end());
      const values = ["a b", 'say "hi"', "100%", "Ünïcödé €", "tab\there", "%41"];
      for (const value of values) {
        const withExtension = { ...event, attributes: { ...event.attributes, myext: value } };
        await deliverer.deliver(one(withExtension), subscription(sink.url));
      }
      const decoded = sink.received.map((r) => decodeHeaderValue(String(r.headers["ce-myext"])));
      expect(decoded).toEqual(values.map((value) => ({ ok: true, value })));
      for (const r of sink.received)
        expect(String(r.headers["ce-myext"])).toMatch(/^[\x21-\x7e]+$/);
    });

    it("sends raw binary data byte for byte", async () => {
      const sink = await startSink((res) => res.writeHead(200).end());
      const value = new Uint8Array([0, 1, 127, 128, 255]);
      const binary: CloudEvent = {
        attributes: { ...event.attributes, datacontenttype: "application/octet-stream" },
        data: { kind: "binary", value },
      };
      await deliverer.deliver(one(binary), subscription(sink.url));
      expect(new Uint8Array(sink.received[0]?.body ?? [])).toEqual(value);
      expect(sink.received[0]?.headers["content-type"]).toBe("application/octet-stream");
    });
  });

  it("sends the JSON event format in structured mode", async () => {
    const sink = await startSink((res) => res.writeHead(200).end());
    const outcome = await deliverer.deliver(
      one(event),
      subscription(sink.url, { delivery: { mode: "structured", timeoutMs: 5_000 } }),
    );
    expect(outcome).toEqual({ kind: "delivered", status: 200 });
    const [request] = sink.received;
    expect(request?.headers["content-type"]).toBe(STRUCTURED_CONTENT_TYPE);
    expect(Object.keys(request?.headers ?? {}).filter((h) => h.startsWith("ce-"))).toEqual([]);
    expect(JSON.parse(request?.body.toString() ?? "")).toEqual(toJsonObject(event));
  });

  it("adds protocolsettings headers but never lets them override the event's", async () => {
    const sink = await startSink((res) => res.writeHead(200).end());
    const headers = { "X-Team": "media", "ce-id": "forged", "content-type": "text/forged" };
    await deliverer.deliver(one(event), subscription(sink.url, { protocolsettings: { headers } }));
    expect(sink.received[0]?.headers).toMatchObject({
      "x-team": "media",
      "ce-id": "A234-1234-1234",
      "content-type": "application/json",
    });
  });

  it("sends WebHook-Request-Origin on every delivery of a handshake subscription (http-webhook.md 4.1.2)", async () => {
    const sink = await startSink((res) => res.writeHead(200).end());
    const named = createHttpDeliverer({ client, clock, origin: "events.example.com" });
    const handshake = subscription(sink.url, {
      delivery: { mode: "binary", timeoutMs: 5_000, handshake: true },
    });
    await named.deliver(one(event), handshake);
    await named.deliver(one(event), subscription(sink.url));
    expect(sink.received[0]?.headers["webhook-request-origin"]).toBe("events.example.com");
    expect(sink.received[1]?.headers["webhook-request-origin"]).toBeUndefined();
  });

  describe("classification", () => {
    it.each([200, 201, 202, 204, 299])("%i is delivered", async (status) => {
      const sink = await startSink((res) => res.writeHead(status).end());
      expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
        kind: "delivered",
        status,
      });
    });

    it.each([408, 429, 500, 502, 503, 504, 599])("%i is retried", async (status) => {
      const sink = await startSink((res) => res.writeHead(status).end());
      expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
        kind: "retry",
        status,
        error: `HTTP ${status}`,
      });
    });

    it.each([600, 799, 999])(
      "%i is no HTTP status (RFC 9110 15: 100-599): an answer not to trust, retried as a network error",
      async (status) => {
        const sink = await startSink((res) => res.writeHead(status).end("not a real status"));
        expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
          kind: "retry",
          status: 0,
          error: `invalid response: status ${status} is not an HTTP status code (100-599)`,
          failure: "network",
        });
      },
    );

    it.each([400, 401, 403, 404, 409, 410, 413, 415, 422])("%i is dead", async (status) => {
      const sink = await startSink((res) =>
        res.writeHead(status, { location: "/elsewhere", "retry-after": "5" }).end(),
      );
      expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
        kind: "dead",
        status,
        error: `HTTP ${status}`,
      });
    });

    it.each([300, 301, 302, 303, 307, 308])(
      "%i is dead, not followed, and the error names the Location",
      async (status) => {
        const sink = await startSink((res) =>
          res.writeHead(status, { location: "/elsewhere", "retry-after": "5" }).end(),
        );
        expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
          kind: "dead",
          status,
          error: `HTTP ${status} redirect to http://127.0.0.1:${sink.port}/elsewhere (redirects are not followed)`,
        });
        expect(sink.received.map((r) => r.url)).toEqual(["/hook"]);
      },
    );

    it("a redirect's credentials are hidden in the Location and in the body that repeats it", async () => {
      const location = "https://login.example.com/oauth?code=c0de-9876543210&state=s1";
      const sink = await startSink((res) =>
        res.writeHead(302, { location }).end(`Found. Redirecting to ${location}`),
      );
      const outcome = await deliverer.deliver(one(event), subscription(sink.url));
      expect(outcome).toEqual({
        kind: "dead",
        status: 302,
        error:
          "HTTP 302 redirect to https://login.example.com/oauth?code=redacted&state=s1 (redirects are not followed): Found. Redirecting to https://login.example.com/oauth?code=[redacted]&state=s1",
      });
    });

    it("a 3xx without a Location is its body or status, as before", async () => {
      const sink = await startSink((res) => res.writeHead(304).end());
      expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
        kind: "dead",
        status: 304,
        error: "HTTP 304",
      });
    });

    it("reports the start of the sink's response body as the error", async () => {
      const sink = await startSink((res) => res.writeHead(500).end("database is down"));
      expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
        kind: "retry",
        status: 500,
        error: "database is down",
      });
      const gone = await startSink((res) => res.writeHead(404).end("no such hook"));
      expect(await deliverer.deliver(one(event), subscription(gone.url))).toEqual({
        kind: "dead",
        status: 404,
        error: "no such hook",
      });
    });

    it("keeps at most 1024 bytes of the body, cut at a character boundary", async () => {
      const body = `a${"é".repeat(5_000)}`;
      const sink = await startSink((res) => res.writeHead(503).end(body));
      const outcome = await deliverer.deliver(one(event), subscription(sink.url));
      // 1 + 511 * 2 = 1023 bytes; one more "é" would make 1025.
      expect(outcome).toEqual({ kind: "retry", status: 503, error: `a${"é".repeat(511)}` });
    });

    it("reads a body in ISO-8859-1 when its Content-Type says so, UTF-8 otherwise", async () => {
      const latin1 = Buffer.from("Dienst nicht verfügbar: café!", "latin1");
      const declared = await startSink((res) =>
        res.writeHead(503, { "content-type": 'text/html; charset="ISO-8859-1"' }).end(latin1),
      );
      expect(await deliverer.deliver(one(event), subscription(declared.url))).toEqual({
        kind: "retry",
        status: 503,
        error: "Dienst nicht verfügbar: café!",
      });
      // Each Latin-1 byte over 0x7F takes two in UTF-8: still at most 1024 bytes.
      const long = await startSink((res) =>
        res
          .writeHead(500, { "content-type": "text/plain; charset=latin1" })
          .end(Buffer.alloc(2000, 0xe9)),
      );
      expect(await deliverer.deliver(one(event), subscription(long.url))).toEqual({
        kind: "retry",
        status: 500,
        error: "é".repeat(512),
      });
      const undeclared = await startSink((res) =>
        res.writeHead(500, { "content-type": "text/plain" }).end(latin1),
      );
      expect(await deliverer.deliver(one(event), subscription(undeclared.url))).toMatchObject({
        error: "Dienst nicht verf\ufffdgbar: caf\ufffd!",
      });
    });
  });

  describe("Retry-After", () => {
    it("reads delta-seconds", async () => {
      const sink = await startSink((res) => res.writeHead(429, { "retry-after": "7" }).end());
      expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
        kind: "retry",
        status: 429,
        error: "HTTP 429",
        retryAfterMs: 7_000,
      });
    });

    it("reads an HTTP-date against the injected clock", async () => {
      const sink = await startSink((res) =>
        res.writeHead(503, { "retry-after": "Tue, 01 Jan 2030 00:01:30 GMT" }).end("later"),
      );
      expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
        kind: "retry",
        status: 503,
        error: "later",
        retryAfterMs: 90_000,
      });
    });

    it("ignores a malformed value", async () => {
      const sink = await startSink((res) => res.writeHead(503, { "retry-after": "soon" }).end());
      expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
        kind: "retry",
        status: 503,
        error: "HTTP 503",
      });
    });
  });

  describe("network failures", () => {
    it("retries with status 0 when the sink never answers within the timeout", async () => {
      const sink = await startSink(() => {});
      const outcome = await deliverer.deliver(
        one(event),
        subscription(sink.url, { delivery: { mode: "binary", timeoutMs: 50 } }),
      );
      expect(outcome).toEqual({
        kind: "retry",
        status: 0,
        error: "timeout after 50ms",
        failure: "timeout",
      });
      expect(sink.received).toHaveLength(1);
    });

    it("bounds the body by the timeout too, keeping what arrived", async () => {
      const sink = await startSink((res) => {
        res.writeHead(503);
        res.write("partial");
      });
      const outcome = await deliverer.deliver(
        one(event),
        subscription(sink.url, { delivery: { mode: "binary", timeoutMs: 100 } }),
      );
      expect(outcome).toEqual({ kind: "retry", status: 503, error: "partial" });
    });

    it("still reports delivered when a 2xx body never ends", async () => {
      const sink = await startSink((res) => {
        res.writeHead(200);
        res.write("partial");
      });
      const outcome = await deliverer.deliver(
        one(event),
        subscription(sink.url, { delivery: { mode: "binary", timeoutMs: 100 } }),
      );
      expect(outcome).toEqual({ kind: "delivered", status: 200 });
    });

    it("retries with status 0 and the reason when the connection is refused", async () => {
      const closed = await startSink(() => {});
      const server = servers.pop();
      await new Promise((resolve) => server?.close(resolve));
      const outcome = await deliverer.deliver(one(event), subscription(closed.url));
      expect(outcome).toEqual({
        kind: "retry",
        status: 0,
        error: `fetch failed: connect ECONNREFUSED 127.0.0.1:${closed.port}`,
        failure: "network",
      });
    });
  });

  describe("batch mode and signing", () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const batch = (sink: string, more: Partial<Subscription["delivery"]> = {}) =>
      subscription(sink, { delivery: { mode: "batch", timeoutMs: 5_000, ...more } });

    it("POSTs every event of a batch attempt as one application/cloudevents-batch+json array", async () => {
      const sink = await startSink((res) => res.writeHead(200).end());
      const second = { ...event, attributes: { ...event.attributes, id: "B" } };
      const outcome = await deliverer.deliver(
        { id: "m", events: [event, second] },
        batch(sink.url),
      );
      expect(outcome).toEqual({ kind: "delivered", status: 200 });
      const [request] = sink.received;
      expect(request?.headers["content-type"]).toBe(BATCH_CONTENT_TYPE);
      const body = JSON.parse(request?.body.toString() ?? "") as { id: string }[];
      expect(body.map((e) => e.id)).toEqual(["A234-1234-1234", "B"]);
    });

    it("signs the exact bytes sent, raw binary data and empty bodies included", async () => {
      const sink = await startSink((res) => res.writeHead(204).end());
      const bytes: CloudEvent = {
        attributes: { ...event.attributes, datacontenttype: "application/octet-stream" },
        data: { kind: "binary", value: new Uint8Array([0xff, 0xfe, 0, 0x80]) },
      };
      const empty: CloudEvent = {
        attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
      };
      const signed = (mode: "binary" | "structured" | "batch") =>
        subscription(sink.url, { delivery: { mode, timeoutMs: 5_000, signingSecret: secret } });
      await deliverer.deliver({ id: "msg_1", events: [bytes] }, signed("binary"));
      await deliverer.deliver({ id: "msg_2", events: [empty] }, signed("binary"));
      await deliverer.deliver({ id: "msg_3", events: [event] }, signed("structured"));
      await deliverer.deliver({ id: "msg_4", events: [event, bytes] }, signed("batch"));
      // Each message its own webhook-id, from what it carries, not from the attempt's store id.
      const ids = sink.received.map((r) => r.headers["webhook-id"]);
      // `bytes` and `event` are the same event (source + id) to the same subscription: one
      // message, one id, whatever the mode; the other two messages differ.
      expect(ids[2]).toBe(ids[0]);
      expect(new Set(ids).size).toBe(3);
      for (const id of ids) expect(id).toMatch(/^msg_[A-Za-z0-9_-]{24}$/);
      // The same message from another store (another attempt id): the same webhook-id.
      await deliverer.deliver({ id: "other-store-9", events: [bytes] }, signed("binary"));
      expect(sink.received[4]?.headers["webhook-id"]).toBe(ids[0]);
      expect(sink.received[0]?.body).toEqual(Buffer.from([0xff, 0xfe, 0, 0x80]));
      expect(sink.received[1]?.body).toHaveLength(0);
      for (const request of sink.received) {
        expect(request.headers["webhook-timestamp"]).toBe(String(now / 1000));
        expect(verifyStandardWebhook(request.headers, request.body, secret, now / 1000)).toBe(true);
      }
    });

    it("reports dead, sending nothing, for several events outside batch mode or none at all", async () => {
      const sink = await startSink((res) => res.writeHead(200).end());
      expect(
        await deliverer.deliver({ id: "m", events: [event, event] }, subscription(sink.url)),
      ).toEqual({
        kind: "dead",
        status: 0,
        error: "cannot build the request: binary mode sends one event per request, not 2",
        failure: "request",
      });
      expect(await deliverer.deliver({ id: "m", events: [] }, batch(sink.url))).toMatchObject({
        kind: "dead",
        status: 0,
      });
      expect(sink.received).toHaveLength(0);
    });
  });

  it("drains response bodies so keep-alive connections carry the following deliveries", async () => {
    let n = 0;
    const sink = await startSink((res) => {
      n++;
      if (n % 3 === 0) res.writeHead(200).end("thanks");
      else if (n % 3 === 1) res.writeHead(500).end("x".repeat(20_000));
      else res.writeHead(404).end("nope");
    });
    const kinds: string[] = [];
    const deliverSome = async (count: number) => {
      for (let i = 0; i < count; i++) {
        kinds.push((await deliverer.deliver(one(event), subscription(sink.url))).kind);
      }
    };
    // Warm up: undici opens a second connection for the second request whatever the body; the
    // Node client keeps to one.
    await deliverSome(3);
    const warm = sink.connections();
    await deliverSome(6);
    expect(kinds).toEqual(Array(3).fill(["retry", "dead", "delivered"]).flat());
    expect(sink.connections()).toBe(warm);
  });

  it("delivers when the sink answers with a body larger than it drains", async () => {
    const sink = await startSink((res) => res.writeHead(200).end(Buffer.alloc(1024 * 1024)));
    expect(await deliverer.deliver(one(event), subscription(sink.url))).toEqual({
      kind: "delivered",
      status: 200,
    });
  });

  describe("replies (delivery.reply)", () => {
    const replying = (sink: string, headers: Record<string, string> = {}) =>
      subscription(sink, {
        protocolsettings: { headers },
        delivery: { mode: "binary", timeoutMs: 5_000, reply: {} },
      });
    const reply = JSON.stringify({
      specversion: "1.0",
      id: "r-1",
      source: "/billing",
      type: "com.example.invoice",
    });

    it("asks for an uncompressed answer, so the reply's bytes are the event (RFC 9110 12.5.3)", async () => {
      // Without Accept-Encoding "any content coding is considered acceptable"; a client that
      // does not decode must say identity, or a compressing sink's reply is unreadable.
      const sink = await startSink((res, req) => {
        const accepted = req.headers["accept-encoding"];
        const gzip = accepted === undefined || /gzip|\*/.test(accepted);
        res.writeHead(200, {
          "content-type": "application/cloudevents+json",
          ...(gzip ? { "content-encoding": "gzip" } : {}),
        });
        res.end(gzip ? gzipSync(reply) : reply);
      });
      const outcome = await deliverer.deliver(one(event), replying(sink.url));
      expect(sink.received[0]?.headers.prefer).toBe("reply");
      expect(outcome.kind === "delivered" && Buffer.from(outcome.reply!.body).toString()).toBe(
        reply,
      );
    });

    it("keeps an Accept-Encoding the subscription sets", async () => {
      const sink = await startSink((res) => res.writeHead(204).end());
      await deliverer.deliver(one(event), replying(sink.url, { "accept-encoding": "br" }));
      expect(sink.received[0]?.headers["accept-encoding"]).toBe("br");
    });
  });
});

describe("signatures checked by the reference Standard Webhooks library (npm standardwebhooks)", () => {
  // The library checks the timestamp against the real time: sign with the system clock.
  const deliverer = createHttpDeliverer({ client: nodeClient });
  const oldSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const newSecret = `whsec_${Buffer.from("a new key of thirty-two bytes!!!").toString("base64")}`;

  it("verifies binary, structured and batch deliveries with either secret while rotating", async () => {
    const sink = await startSink((res) => res.writeHead(204).end());
    const signed = (mode: "binary" | "structured" | "batch", secrets: string) =>
      subscription(sink.url, { delivery: { mode, timeoutMs: 5_000, signingSecret: secrets } });
    const rotating = `${oldSecret} ${newSecret}`;
    await deliverer.deliver(one(event), signed("binary", oldSecret));
    await deliverer.deliver(one(event), signed("structured", rotating));
    await deliverer.deliver({ id: "b", events: [event, event] }, signed("batch", rotating));
    expect(sink.received).toHaveLength(3);
    const [binary, structured, batch] = sink.received as [Received, Received, Received];
    // The library takes the body as a string (UTF-8), as these are.
    const verify = (secret: string, request: Received) =>
      new Webhook(secret).verify(request.body.toString("utf8"), {
        ...(request.headers as Record<string, string>),
      });
    expect(verify(oldSecret, binary)).toEqual({ appinfoA: "abc", appinfoB: 123 });
    expect(() => verify(newSecret, binary)).toThrow(WebhookVerificationError);
    for (const request of [structured, batch]) {
      expect(verify(oldSecret, request)).toBeTruthy();
      expect(verify(newSecret, request)).toBeTruthy();
    }
    // A body changed on the way is refused.
    const tampered = {
      ...structured,
      body: Buffer.from(structured.body.toString().replace("abc", "abd")),
    };
    expect(() => verify(oldSecret, tampered)).toThrow(WebhookVerificationError);
  });
});

describe("createHttpDeliverer never throws", () => {
  const sub = subscription("http://127.0.0.1:9/hook");

  it("turns an event that cannot be put on the wire into dead, without calling fetch", async () => {
    const calls: Request[] = [];
    const deliverer = createHttpDeliverer({
      client: createFetchSinkClient(async (request) => {
        calls.push(request);
        return new Response(null, { status: 200 });
      }),
    });
    const noJson: CloudEvent = {
      attributes: event.attributes,
      data: { kind: "json", value: undefined },
    };
    const outcome = await deliverer.deliver(one(noJson), sub);
    expect(outcome).toEqual({
      kind: "dead",
      status: 0,
      error: "cannot build the request: event data has no JSON representation",
      failure: "request",
    });
    const badType = { attributes: { ...event.attributes, datacontenttype: "a\r\nb" } };
    expect(await deliverer.deliver(one(badType), sub)).toMatchObject({ kind: "dead", status: 0 });
    expect(calls).toHaveLength(0);
  });

  it("turns a fetch that throws or rejects with anything into retry", async () => {
    const throwing = createHttpDeliverer({
      client: createFetchSinkClient(() => {
        throw new Error("sync boom");
      }),
    });
    expect(await throwing.deliver(one(event), sub)).toEqual({
      kind: "retry",
      status: 0,
      error: "sync boom",
      failure: "network",
    });
    const rejecting = createHttpDeliverer({
      client: createFetchSinkClient(() => Promise.reject("plain string")),
    });
    expect(await rejecting.deliver(one(event), sub)).toEqual({
      kind: "retry",
      status: 0,
      error: "plain string",
      failure: "network",
    });
  });

  it("turns a client that breaks its contract into retry", async () => {
    const throwing = createHttpDeliverer({
      client: {
        send: () => {
          throw new Error("sync boom");
        },
      },
    });
    expect(await throwing.deliver(one(event), sub)).toEqual({
      kind: "retry",
      status: 0,
      error: "sync boom",
      failure: "network",
    });
    const malformed = createHttpDeliverer({
      client: { send: async () => ({ status: 500 }) as never },
    });
    expect(await malformed.deliver(one(event), sub)).toMatchObject({ kind: "retry", status: 0 });
  });

  it("refuses to be created without a client", () => {
    expect(() => createHttpDeliverer({} as never)).toThrow(TypeError);
  });
});
