import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { DeliveryMessage } from "./build-delivery-message.js";
import { MAX_ERROR_BYTES } from "./failure-text.js";
import { DRAIN_LIMIT, type SinkClient } from "./sink-client.js";
import { type SinkError, SinkNetworkError, SinkTimeout } from "./sink-error.js";

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

/** A real sink on 127.0.0.1: records requests, counts connections and their closes. */
async function startSink(
  servers: Server[],
  handler: (res: ServerResponse, req: IncomingMessage) => void,
) {
  const received: Received[] = [];
  let connections = 0;
  let closed = 0;
  const closeWaiters: (() => void)[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      received.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(res, req);
    });
  });
  server.on("connection", (socket) => {
    connections++;
    socket.on("close", () => {
      closed++;
      for (const resolve of closeWaiters.splice(0)) resolve();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    connections: () => connections,
    closedConnections: () => closed,
    /** Resolves when the sink next sees a connection close. */
    nextClose: () => new Promise<void>((resolve) => closeWaiters.push(resolve)),
  };
}

const message = (url: string, overrides: Partial<DeliveryMessage> = {}): DeliveryMessage => ({
  url,
  method: "POST",
  headers: { "ce-id": "1", "content-type": "application/json" },
  body: new TextEncoder().encode('{"ok":true}'),
  ...overrides,
});

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** What `promise` rejected with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

/**
 * The behaviour every `SinkClient` shares (the fetch one in core, the Node one in the adapter),
 * against real `node:http` sinks on 127.0.0.1. `factory` builds one client for the suite;
 * `dispose` releases it afterwards.
 *
 * @example
 * // node-sink-client.test.ts
 * const client = createNodeSinkClient();
 * describeSinkClient("node", () => client, () => client.close());
 */
export function describeSinkClient(
  name: string,
  factory: () => SinkClient,
  dispose?: () => void | Promise<void>,
): void {
  describe(`SinkClient contract: ${name}`, () => {
    const servers: Server[] = [];
    const client = factory();
    const sink = (handler: (res: ServerResponse, req: IncomingMessage) => void) =>
      startSink(servers, handler);

    afterEach(async () => {
      await Promise.all(
        servers.splice(0).map((server) => {
          server.closeAllConnections();
          return new Promise((resolve) => server.close(resolve));
        }),
      );
    });
    afterAll(async () => {
      await dispose?.();
    });

    it("POSTs to the path and query with the headers as given and the body bytes", async () => {
      const s = await sink((res) => res.writeHead(202).end());
      const sent = message(`${s.url}/hook?x=1&y=%20`, {
        headers: { "ce-id": "A-1", "ce-source": "/x", "content-type": "application/json" },
      });
      const answer = await client.send(sent, 5_000);
      expect(answer).toMatchObject({ status: 202, retryAfter: null, head: new Uint8Array(0) });
      const [request] = s.received;
      expect(request?.method).toBe("POST");
      expect(request?.url).toBe("/hook?x=1&y=%20");
      expect(request?.headers).toMatchObject({
        "ce-id": "A-1",
        "ce-source": "/x",
        "content-type": "application/json",
        "content-length": "11",
        host: `127.0.0.1:${s.port}`,
      });
      expect(request?.headers["transfer-encoding"]).toBeUndefined();
      expect(request?.body.toString()).toBe('{"ok":true}');
      // The message is the caller's: sending does not change it.
      expect(sent.headers).toEqual({
        "ce-id": "A-1",
        "ce-source": "/x",
        "content-type": "application/json",
      });
    });

    it("sends raw bytes byte for byte, a string as UTF-8, and no body as length 0", async () => {
      const s = await sink((res) => res.writeHead(200).end());
      const bytes = new Uint8Array([0, 1, 127, 128, 255]);
      await client.send(message(s.url, { body: bytes }), 5_000);
      await client.send(message(s.url, { body: '{"data":"héllo €"}' }), 5_000);
      await client.send(message(s.url, { body: undefined }), 5_000);
      const [raw, utf8, empty] = s.received;
      expect(new Uint8Array(raw?.body ?? [])).toEqual(bytes);
      expect(utf8?.body.toString()).toBe('{"data":"héllo €"}');
      expect(utf8?.headers["content-length"]).toBe(String(Buffer.byteLength('{"data":"héllo €"}')));
      expect(empty?.body.length).toBe(0);
      expect(empty?.headers["content-length"]).toBe("0");
    });

    it("answers the status, Retry-After and the start of the body", async () => {
      const s = await sink((res) => res.writeHead(503, { "Retry-After": "120" }).end("down"));
      const answer = await client.send(message(s.url), 5_000);
      expect(answer.status).toBe(503);
      expect(answer.retryAfter).toBe("120");
      expect(text(answer.head)).toBe("down");
    });

    it("reads any answer header by name, case-insensitively, null when absent", async () => {
      const s = await sink((res) => {
        res.setHeader("WebHook-Allowed-Origin", "herald");
        res.setHeader("x-multi", ["a", "b"]);
        res.writeHead(200).end();
      });
      const answer = await client.send(message(s.url), 5_000);
      expect(answer.header("webhook-allowed-origin")).toBe("herald");
      expect(answer.header("WebHook-Allowed-Origin")).toBe("herald");
      expect(answer.header("x-multi")).toBe("a, b");
      expect(answer.header("webhook-allowed-rate")).toBeNull();
    });

    it("sends OPTIONS without a body (the webhook handshake, http-webhook.md 4.1)", async () => {
      const s = await sink((res) =>
        res.writeHead(200, { "webhook-allowed-origin": "*", "webhook-allowed-rate": "120" }).end(),
      );
      const answer = await client.send(
        {
          url: `${s.url}/hook`,
          method: "OPTIONS",
          headers: { "webhook-request-origin": "herald", "webhook-request-rate": "60" },
          body: undefined,
        },
        5_000,
      );
      expect(answer.status).toBe(200);
      expect(answer.header("webhook-allowed-rate")).toBe("120");
      const [request] = s.received;
      expect(request?.method).toBe("OPTIONS");
      expect(request?.url).toBe("/hook");
      expect(request?.headers).toMatchObject({
        "webhook-request-origin": "herald",
        "webhook-request-rate": "60",
      });
      expect(request?.body.length).toBe(0);
    });

    it("keeps at most MAX_ERROR_BYTES of the body", async () => {
      const s = await sink((res) => res.writeHead(500).end("x".repeat(5_000)));
      const answer = await client.send(message(s.url), 5_000);
      expect(answer.head).toEqual(new Uint8Array(MAX_ERROR_BYTES).fill(0x78));
    });

    it("says whether the body kept is the whole body", async () => {
      const short = await sink((res) => res.writeHead(500).end("short"));
      expect((await client.send(message(short.url), 5_000)).complete).toBe(true);
      const long = await sink((res) => res.writeHead(500).end("x".repeat(5_000)));
      expect((await client.send(message(long.url), 5_000)).complete).toBe(false);
      const empty = await sink((res) => res.writeHead(204).end());
      expect((await client.send(message(empty.url), 5_000)).complete).toBe(true);
    });

    it("keeps as much of the body as asked, beyond the drain limit too (a reply event)", async () => {
      const big = "r".repeat(DRAIN_LIMIT + 10_000);
      const s = await sink((res) => res.writeHead(200, { "ce-id": "reply-1" }).end(big));
      const answer = await client.send(message(s.url), 5_000, DRAIN_LIMIT + 20_000);
      expect(text(answer.head)).toBe(big);
      expect(answer.complete).toBe(true);
      const cut = await client.send(message(s.url), 5_000, 100);
      expect(cut.head.length).toBe(100);
      expect(cut.complete).toBe(false);
    });

    it("lists every answer header with its name in lower case", async () => {
      const s = await sink((res) =>
        res.writeHead(200, { "CE-Id": "r-1", "Ce-Type": "t", "Content-Type": "text/plain" }).end(),
      );
      const answer = await client.send(message(s.url), 5_000);
      const seen = new Map<string, string>();
      answer.forEachHeader((value, name) => seen.set(name, value));
      expect(seen.get("ce-id")).toBe("r-1");
      expect(seen.get("ce-type")).toBe("t");
      expect(seen.get("content-type")).toBe("text/plain");
      expect([...seen.keys()].every((name) => name === name.toLowerCase())).toBe(true);
    });

    it.each([204, 304, 404, 599, 600])("answers status %i as sent", async (status) => {
      const s = await sink((res) => res.writeHead(status).end());
      expect((await client.send(message(s.url), 5_000)).status).toBe(status);
    });

    it("never follows redirects", async () => {
      const s = await sink((res) => res.writeHead(302, { location: "/elsewhere" }).end());
      expect((await client.send(message(`${s.url}/hook`), 5_000)).status).toBe(302);
      expect(s.received.map((r) => r.url)).toEqual(["/hook"]);
    });

    it("reads bodies up to the drain limit so one keep-alive connection carries what follows", async () => {
      let n = 0;
      const s = await sink((res) => {
        n++;
        if (n % 3 === 0) res.writeHead(204).end();
        else if (n % 3 === 1) res.writeHead(500).end("x".repeat(20_000));
        else res.writeHead(404).end("nope");
      });
      // Warm up: undici opens a second connection for the second request whatever the body.
      for (let i = 0; i < 3; i++) await client.send(message(s.url), 5_000);
      const warm = s.connections();
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await client.send(message(s.url), 5_000)).status);
      expect(statuses).toEqual([500, 404, 204, 500, 404, 204]);
      expect(s.connections()).toBe(warm);
      expect(s.closedConnections()).toBe(0);
    });

    it("closes the connection instead of reading a body past the drain limit", async () => {
      const s = await sink((res) => {
        res.writeHead(500);
        // Never ends: only closing the connection stops it.
        res.write(Buffer.alloc(DRAIN_LIMIT * 2, 0x61));
      });
      const closed = s.nextClose();
      const answer = await client.send(message(s.url), 5_000);
      expect(answer.status).toBe(500);
      expect(text(answer.head)).toBe("a".repeat(MAX_ERROR_BYTES));
      await closed;
    });

    it("sends many messages at once", async () => {
      const s = await sink((res, req) => res.writeHead(200).end(req.headers["ce-id"]));
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          client.send(message(s.url, { headers: { "ce-id": String(i) } }), 5_000),
        ),
      );
      expect(answers.map((a) => text(a.head))).toEqual(answers.map((_, i) => String(i)));
    });

    describe("failures", () => {
      it("rejects with SinkTimeout when no answer comes within the timeout", async () => {
        const s = await sink(() => {});
        // Long enough for the request to reach the sink on a loaded CI machine (50 ms was not).
        const err = await rejection(client.send(message(s.url), 500));
        expect(err).toBeInstanceOf(SinkTimeout);
        expect(err).toMatchObject({ code: "sink_timeout", message: "timeout after 500ms" });
        expect(s.received).toHaveLength(1);
      });

      it("answers with what arrived when the body is still coming at the timeout", async () => {
        const s = await sink((res) => {
          res.writeHead(503);
          res.write("partial");
        });
        const closed = s.nextClose();
        // As above: the head must arrive well within the timeout, even on a loaded machine.
        const answer = await client.send(message(s.url), 500);
        expect(answer.status).toBe(503);
        expect(text(answer.head)).toBe("partial");
        await closed;
      });

      it("answers with what arrived when the connection drops mid-body", async () => {
        const s = await sink((res, req) => {
          res.writeHead(502, { "content-length": "100" });
          res.write("part", () => req.socket.destroy());
        });
        const answer = await client.send(message(s.url), 5_000);
        expect(answer.status).toBe(502);
        expect(text(answer.head)).toBe("part");
      });

      it("rejects with SinkNetworkError and fetch's text when the connection is refused", async () => {
        const s = await sink(() => {});
        const server = servers.pop();
        await new Promise((resolve) => server?.close(resolve));
        const err = await rejection(client.send(message(s.url), 5_000));
        expect(err).toBeInstanceOf(SinkNetworkError);
        expect(err).toMatchObject({
          code: "sink_network_error",
          message: `fetch failed: connect ECONNREFUSED 127.0.0.1:${s.port}`,
        });
      });

      it("rejects with SinkNetworkError when the connection drops before an answer", async () => {
        const s = await sink((_res, req) => req.socket.destroy());
        const err = await rejection(client.send(message(s.url), 5_000));
        expect(err).toBeInstanceOf(SinkNetworkError);
        expect((err as SinkError).message).toMatch(/^fetch failed/);
      });

      it("rejects with SinkNetworkError for a URL it cannot send to", async () => {
        const err = await rejection(client.send(message("ftp://127.0.0.1/x"), 5_000));
        expect(err).toBeInstanceOf(SinkNetworkError);
      });
    });
  });
}
