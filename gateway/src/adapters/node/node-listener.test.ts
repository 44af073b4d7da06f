import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GatewayOverHttp,
  startGatewayOverHttp,
} from "../../../test/support/gateway-over-http.js";
import { rawExchange, statusOf } from "../../../test/support/raw-exchange.js";
import { type RecordingSink, startRecordingSink } from "../../../test/support/recording-sink.js";
import type { Gateway } from "../../app/create-gateway.js";

let sink: RecordingSink;
let http: GatewayOverHttp;
let gateway: Gateway;
let base: string;

beforeAll(async () => {
  sink = await startRecordingSink();
  const config = {
    limits: { maxEventBytes: 1024, maxBatchEvents: 2 },
    subscriptions: [{ id: "all", sink: sink.url }],
    adapters: [
      { id: "shop", kind: "mapping", attributes: { source: "/shop", type: { pointer: "/event" } } },
    ],
  };
  http = await startGatewayOverHttp(config, "listener.json");
  ({ gateway, base } = http);
});
afterAll(async () => {
  await http.close();
  await sink.close();
});

const ce = (id: string) => ({
  "ce-specversion": "1.0",
  "ce-id": id,
  "ce-source": "/node",
  "ce-type": "com.example.node",
});

/** Sends a body in chunks without Content-Length (Transfer-Encoding: chunked). */
function postChunked(headers: Record<string, string>, chunks: string[]) {
  return new Promise<{ status: number; type: string | undefined; body: string }>((ok, fail) => {
    const req = request(`${base}/events`, { method: "POST", headers }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () =>
        ok({ status: res.statusCode ?? 0, type: res.headers["content-type"], body }),
      );
    });
    req.on("error", fail);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

describe("the Node listener's ingest fast path", () => {
  it("accepts binary events with the ce- headers Node parsed, query string ignored", async () => {
    const res = await fetch(`${base}/events?via=node`, {
      method: "POST",
      headers: { ...ce("fast-1"), "ce-subject": "a%20b", "content-type": "text/plain" },
      body: "hi",
    });
    expect(res.status).toBe(202);
    const [got] = await sink.waitFor(1);
    expect(got?.headers["ce-id"]).toBe("fast-1");
    expect(got?.headers["ce-subject"]).toBe("a%20b");
    expect(got?.body.toString()).toBe("hi");
  });

  it("accepts a chunked body within the limit", async () => {
    const res = await postChunked(ce("fast-2"), ["a".repeat(300), "b".repeat(300)]);
    expect(res.status).toBe(202);
  });

  it("refuses a chunked body over the limit with 413 problem+json", async () => {
    const res = await postChunked(ce("fast-3"), ["a".repeat(600), "b".repeat(600)]);
    expect(res.status).toBe(413);
    expect(res.type).toBe("application/problem+json");
    expect(JSON.parse(res.body)).toMatchObject({ code: "payload_too_large", limit: 1024 });
  });

  it("refuses a declared Content-Length over the limit before reading it", async () => {
    const res = await fetch(`${base}/`, {
      method: "POST",
      headers: ce("fast-4"),
      body: "x".repeat(5000),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: "payload_too_large" });
  });

  it("renders validation errors exactly like the Hono path", async () => {
    const headers = { ...ce("fast-5"), "ce-time": "yesterday" };
    const viaNode = await fetch(`${base}/events`, { method: "POST", headers });
    const viaHono = await gateway.fetch(
      new Request("http://gw/events", { method: "POST", headers }),
    );
    expect(viaNode.status).toBe(400);
    expect(viaNode.headers.get("content-type")).toBe("application/problem+json");
    expect(await viaNode.json()).toEqual(await viaHono.json());
  });

  it("refuses a body in a content coding exactly like the Hono path (415, Accept-Encoding)", async () => {
    const headers = {
      ...ce("fast-gz"),
      "content-type": "application/json",
      "content-encoding": "gzip",
    };
    const body = "\x1f\x8b not really gzip";
    const viaNode = await fetch(`${base}/events`, { method: "POST", headers, body });
    const viaHono = await gateway.fetch(
      new Request("http://gw/events", { method: "POST", headers, body }),
    );
    expect(viaNode.status).toBe(415);
    expect(viaNode.headers.get("accept-encoding")).toBe("identity");
    expect(viaHono.status).toBe(415);
    expect(await viaNode.json()).toEqual(await viaHono.json());
  });

  it("leaves other routes to Hono", async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const res = await fetch(`${base}/events`, { method: "GET" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST, OPTIONS");
  });
});

/** Posts with header lines exactly as given (repeats kept apart), answering status and JSON. */
function postRaw(path: string, headers: string[], body = "") {
  return new Promise<{ status: number; body: Record<string, unknown> }>((ok, fail) => {
    // A header array is sent as is: Node adds no Host, which HTTP/1.1 requires.
    const all = ["host", new URL(base).host, ...headers];
    const req = request(`${base}${path}`, { method: "POST", headers: all }, (res) => {
      let text = "";
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => ok({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on("error", fail);
    req.end(body);
  });
}

describe("repeated headers", () => {
  it.each([
    ["the fast path", "/events"],
    ["the Hono path", "/%65vents"],
  ])("refuses a repeated ce- header (any case) on %s, naming the attribute", async (_, path) => {
    const headers = [...Object.entries(ce("dup-ce")).flat(), "CE-TYPE", "t2"];
    const res = await postRaw(path, headers);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "invalid_event", attributes: ["type"] });
    const id = await postRaw(path, [...Object.entries(ce("x1")).flat(), "ce-id", "x2"]);
    expect(id.body).toMatchObject({ code: "invalid_event", attributes: ["id"] });
  });

  // The same cases as test-workers/ingest.workerd.test.ts: workerd joins the lines, whose
  // joined value these attributes refuse, so both runtimes answer alike.
  it.each([
    ["specversion", "1.0"],
    ["source", "/node"],
    ["time", "2030-01-01T00:00:00Z"],
    ["dataschema", "https://schemas.test/order"],
  ])(
    "refuses ce-%s twice on both paths with 400 naming it, as Workers does",
    async (name, value) => {
      for (const path of ["/events", "/%65vents"]) {
        const once = Object.entries(ce(`twice-${name}`)).filter(([key]) => key !== `ce-${name}`);
        const lines = [`ce-${name}`, value, `CE-${name.toUpperCase()}`, value];
        const res = await postRaw(path, [...once.flat(), ...lines]);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ code: "invalid_event", attributes: [name] });
      }
    },
  );

  it("still accepts the same request with each ce- header once on the Hono path", async () => {
    const res = await postRaw("/%65vents", Object.entries(ce("dup-ok")).flat());
    expect(res.status).toBe(202);
  });

  // Joined (the Fetch standard; Node's fast path joins the raw lines the same way), so every
  // transport judges the same value: status and code stay as before (400 invalid_event naming
  // datacontenttype in binary mode, 415 in structured mode) on Node and on Workers, where a
  // repeat cannot be told from one line listing two types. The message says what happened in
  // words true of both.
  it.each([
    ["the fast path", "/events"],
    ["the Hono path", "/%65vents"],
  ])("refuses a repeated Content-Type on %s, saying so", async (_, path) => {
    const binary = await postRaw(
      path,
      [
        ...Object.entries(ce("dup-ct")).flat(),
        "content-type",
        "text/plain",
        "content-type",
        "application/json",
      ],
      "x",
    );
    expect(binary.status).toBe(400);
    expect(binary.body).toMatchObject({ code: "invalid_event", attributes: ["datacontenttype"] });
    expect(binary.body.detail).toMatch(/^datacontenttype: Content-Type is repeated or lists/);

    const type = "application/cloudevents+json";
    const structured = await postRaw(
      path,
      ["content-type", type, "content-type", `${type}; charset=utf-8`],
      JSON.stringify({ specversion: "1.0", id: "dup-ct-s", source: "/node", type: "t" }),
    );
    expect(structured.status).toBe(415);
    expect(structured.body).toMatchObject({ code: "unsupported_media_type" });
    expect(structured.body.detail).toMatch(/^Content-Type is repeated or lists/);
  });

  it("keeps a comma inside a quoted parameter: one media type, accepted", async () => {
    const res = await postRaw(
      "/events",
      [...Object.entries(ce("comma-ok")).flat(), "content-type", 'text/plain; x="a, b"'],
      "x",
    );
    expect(res.status).toBe(202);
  });
});

/** Sends `bytes` as they are on a fresh connection; resolves with the status and the body. */
async function sendRaw(bytes: string) {
  const text = await rawExchange(Number(new URL(base).port), bytes);
  const [head = "", body = ""] = text.split("\r\n\r\n", 2);
  const type = /^content-type: *(.*)$/im.exec(head)?.[1];
  return { status: statusOf(head), type, head, body };
}

describe("requests Hono's Node adapter cannot turn into a URL", () => {
  // RFC 9112 3.2: only HTTP/1.1 requires Host; an HTTP/1.0 probe or handshake has none.
  it("serves HTTP/1.0 without a Host header on the Hono routes", async () => {
    const health = await sendRaw("GET /healthz HTTP/1.0\r\n\r\n");
    expect(health.status).toBe(200);
    const handshake = await sendRaw(
      "OPTIONS /events HTTP/1.0\r\nWebHook-Request-Origin: sender.example\r\n\r\n",
    );
    expect(handshake.status).toBe(200);
  });

  it("answers OPTIONS * (the server as a whole, RFC 9110 9.3.7) with 204 and its methods", async () => {
    const res = await sendRaw("OPTIONS * HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
    expect(res.status).toBe(204);
    expect(res.head).toMatch(/^allow: GET, HEAD, POST, PUT, DELETE, OPTIONS$/im);
  });

  it.each([
    ["an invalid Host", "OPTIONS /events HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n"],
    [
      "a backslash in the path",
      "GET /healthz\\x HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n",
    ],
    [
      "an asterisk target",
      "POST * HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    ],
  ])("answers %s with a 400 problem document, not a bare status", async (_, bytes) => {
    const res = await sendRaw(bytes);
    expect(res.status).toBe(400);
    expect(res.type).toBe("application/problem+json");
    expect(JSON.parse(res.body)).toMatchObject({ code: "malformed_request" });
  });
});

describe("a transfer coding other than chunked", () => {
  // Node removes the chunked framing and nothing else: the gzip bytes of `Transfer-Encoding:
  // gzip, chunked` would become the event's data, so they are refused like a Content-Encoding.
  it.each([
    ["the fast path", "/events"],
    ["the Hono path", "/%65vents"],
  ])("is refused with 415 on %s, and nothing is delivered", async (_, path) => {
    const id = `te-${path.length}`;
    const bytes = `POST ${path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nce-specversion: 1.0\r\nce-id: ${id}\r\nce-source: /node\r\nce-type: com.example.node\r\ncontent-type: text/plain\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`;
    const res = await sendRaw(bytes);
    expect(res.status).toBe(415);
    expect(res.type).toBe("application/problem+json");
    expect(JSON.parse(res.body)).toMatchObject({ code: "unsupported_media_type" });
    expect(JSON.parse(res.body).detail).toContain("Transfer-Encoding gzip, chunked");
    const ok = await sendRaw(bytes.replace("gzip, chunked", "chunked").replace(id, `${id}-ok`));
    expect(ok.status).toBe(202);
    // Deliveries keep their order here (one sink, one event each): once the second is in, the
    // first would have been too.
    const idOf = (n: number) => sink.received[n]?.headers["ce-id"];
    let n = 0;
    while (idOf(n) !== `${id}-ok`) {
      await sink.waitFor(n + 1);
      if (idOf(n) !== `${id}-ok`) n++;
    }
    expect(sink.received.some((got) => got.headers["ce-id"] === id)).toBe(false);
    expect(sink.received[n]?.body.toString()).toBe("hello");
  });
});

// RFC 9110 9.3.2 (and the README): HEAD answers with the GET answer's headers, Content-Length
// included, and no body. Through Hono's own HEAD handling the Content-Length was lost.
describe("HEAD over the Node listener", () => {
  // (Not /metrics: its text changes between the two requests.)
  it.each(["/healthz", "/readyz", "/subscriptions", "/subscriptions/all", "/nope", "/events"])(
    "HEAD %s has the GET answer's status and Content-Length, and no body",
    async (path) => {
      const { port } = new URL(base);
      const get = await rawExchange(
        Number(port),
        `GET ${path} HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`,
      );
      // Then a GET on the same connection: a HEAD body would be read as its answer.
      const head = await rawExchange(
        Number(port),
        `HEAD ${path} HTTP/1.1\r\nHost: gw\r\n\r\nGET /healthz HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n`,
      );
      const length = (text: string) => /^content-length: (\d+)\r$/im.exec(text)?.[1];
      const [headAnswer = "", next = ""] = head.split(/\r\n\r\n(?=HTTP\/1\.1 )/);
      expect(statusOf(headAnswer)).toBe(statusOf(get));
      expect(Number(length(headAnswer))).toBeGreaterThan(0);
      expect(length(headAnswer)).toBe(length(get));
      expect(headAnswer.endsWith("\r\n\r\n") || !headAnswer.includes("\r\n\r\n")).toBe(true);
      expect(statusOf(next)).toBe(200);
    },
  );
});

describe("the answer framing of accepted publishes", () => {
  // A 202 carries no body: `Content-Length: 0`, on /events and on a webhook alike (the webhook's
  // went out as an empty chunked body).
  it.each([
    ["/events", [...Object.entries(ce("framing-1")).map(([n, v]) => `${n}: ${v}`)], ""],
    ["/webhooks/shop", ["content-type: application/json"], '{"event":"com.example.shop.paid"}'],
  ])("POST %s: 202 with Content-Length 0, not chunked", async (path, headers, body) => {
    const res = await sendRaw(
      `POST ${path} HTTP/1.1\r\nHost: gw\r\n${headers.map((h) => `${h}\r\n`).join("")}` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    expect(res.status).toBe(202);
    expect(res.head).toMatch(/^content-length: 0$/im);
    expect(res.head).not.toMatch(/^transfer-encoding:/im);
  });
});
