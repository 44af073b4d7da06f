import { createHmac } from "node:crypto";
import { type AddressInfo, connect } from "node:net";
import { gzipSync } from "node:zlib";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heraldReceiver, type ReceiverVariables } from "./hono-receiver.js";
import { receive, receiveBatch } from "./receive.js";

const SECRET = "whsec_AQID";
const KEY = Buffer.from([1, 2, 3]);

/** Standard Webhooks headers for `body`, signed now with SECRET. */
function signature(body: string): Record<string, string> {
  const id = "msg_1";
  const timestamp = String(Math.floor(Date.now() / 1000));
  const mac = createHmac("sha256", KEY).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${mac}` };
}

/** Requests that are refused for what they hold: a format, a mode, a Content-Type, a coding. */
const REFUSED_FOR_CONTENT: readonly [string, Record<string, string>, string][] = [
  ["an event format other than JSON", { "content-type": "application/cloudevents+xml" }, "<a/>"],
  [
    "a batch to a receiver of single events",
    { "content-type": "application/cloudevents-batch+json" },
    "[]",
  ],
  [
    "JSON in another charset",
    { "content-type": "application/cloudevents+json; charset=utf-16" },
    "{}",
  ],
  ["a Content-Type listing two media types", { "content-type": "text/plain, text/html" }, "x"],
  ["a body that is not JSON", { "content-type": "application/cloudevents+json" }, "{"],
];

describe("receive: with a signingSecret the signature is verified first", () => {
  let server: ReturnType<typeof serve>;
  let url: string;
  beforeAll(async () => {
    const app = new Hono<{ Variables: ReceiverVariables }>();
    app.post("/sink", heraldReceiver({ signingSecret: SECRET }), (c) => c.body(null, 204));
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sink`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it.each(REFUSED_FOR_CONTENT)(
    "unsigned, %s is 401 missing_signature, not an answer about its content",
    async (_, headers, body) => {
      const response = await fetch(url, { method: "POST", headers, body });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: "missing_signature" });
    },
  );

  it.each(REFUSED_FOR_CONTENT)(
    "forged (a signature by another key), %s is 401 invalid_signature",
    async (_, headers, body) => {
      const forged = { ...signature(body), "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAA==" };
      const response = await fetch(url, {
        method: "POST",
        headers: { ...headers, ...forged },
        body,
      });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: "invalid_signature" });
    },
  );

  it.each(REFUSED_FOR_CONTENT)(
    "signed, %s is refused for its content (400 or 415)",
    async (_, headers, body) => {
      const response = await fetch(url, {
        method: "POST",
        headers: { ...headers, ...signature(body) },
        body,
      });
      expect([400, 415]).toContain(response.status);
      expect((await response.json()).code).toMatch(/^(malformed_message|unsupported_mode)$/);
    },
  );

  it("options are checked before the request: an unset secret is a TypeError, even for a batch", async () => {
    const batch = () =>
      new Request("http://sink.test/", {
        method: "POST",
        headers: { "content-type": "application/cloudevents-batch+json" },
        body: "[]",
      });
    const env: Record<string, string | undefined> = {};
    await expect(receive(batch(), { signingSecret: env.SECRET })).rejects.toThrow(TypeError);
    await expect(
      receive(batch(), { signingsecret: SECRET } as unknown as Parameters<typeof receive>[1]),
    ).rejects.toThrow(TypeError);
    const xml = new Request("http://sink.test/", {
      method: "POST",
      headers: { "content-type": "application/cloudevents+xml" },
      body: "<a/>",
    });
    await expect(receiveBatch(xml, { signingSecret: env.SECRET })).rejects.toThrow(TypeError);
  });
});

describe("receive: a compressed body is refused (415), not read as the data", () => {
  let server: ReturnType<typeof serve>;
  let port: number;
  const binary = {
    "ce-specversion": "1.0",
    "ce-id": "1",
    "ce-source": "/s",
    "ce-type": "t",
    "content-type": "application/octet-stream",
  };
  beforeAll(async () => {
    const app = new Hono<{ Variables: ReceiverVariables }>();
    app.post("/sink", heraldReceiver({ batch: true }), (c) =>
      c.json(c.get("cloudevents").map((e) => [...(e.data as Uint8Array)])),
    );
    server = await new Promise((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Writes one request byte for byte; resolves with its status line and body. */
  function postRaw(head: string, body: Buffer): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.end(
          Buffer.concat([
            Buffer.from(`POST /sink HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${head}\r\n`),
            body,
          ]),
        );
      });
      const chunks: Buffer[] = [];
      socket.on("data", (chunk: Buffer) => chunks.push(chunk));
      socket.on("error", reject);
      socket.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        resolve({
          status: Number(text.split(" ")[1]),
          body: text.split("\r\n\r\n").slice(1).join(),
        });
      });
    });
  }
  const lines = Object.entries(binary)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  const gzipped = gzipSync("hello");

  it("Content-Encoding: gzip is 415 unsupported_mode; identity is read", async () => {
    const gzip = await postRaw(
      `${lines}Content-Encoding: gzip\r\nContent-Length: ${gzipped.length}\r\n`,
      gzipped,
    );
    expect(gzip.status).toBe(415);
    expect(gzip.body).toContain('"code":"unsupported_mode"');
    const identity = await postRaw(
      `${lines}Content-Encoding: identity\r\nContent-Length: 2\r\n`,
      Buffer.from([1, 2]),
    );
    expect(identity).toMatchObject({ status: 200, body: "[[1,2]]" });
  });

  it("Transfer-Encoding: gzip, chunked is 415; chunked alone is read", async () => {
    const chunked = (bytes: Buffer) =>
      Buffer.concat([
        Buffer.from(`${bytes.length.toString(16)}\r\n`),
        bytes,
        Buffer.from("\r\n0\r\n\r\n"),
      ]);
    const gzip = await postRaw(`${lines}Transfer-Encoding: gzip, chunked\r\n`, chunked(gzipped));
    expect(gzip.status).toBe(415);
    expect(gzip.body).toContain('"code":"unsupported_mode"');
    const plain = await postRaw(
      `${lines}Transfer-Encoding: chunked\r\n`,
      chunked(Buffer.from([1, 2])),
    );
    expect(plain).toMatchObject({ status: 200, body: "[[1,2]]" });
  });
});
