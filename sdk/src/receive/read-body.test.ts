import { type AddressInfo, connect } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { heraldReceiver, type ReceiverVariables } from "./hono-receiver.js";
import { readBody } from "./read-body.js";
import { DEFAULT_MAX_BYTES, receive, receiveBatch } from "./receive.js";
import { MalformedMessage, MessageTooLarge } from "./receive-errors.js";

const binaryHeaders = {
  "ce-specversion": "1.0",
  "ce-id": "1",
  "ce-source": "/s",
  "ce-type": "t",
  "content-type": "application/octet-stream",
};

/** A body streamed in chunks with no Content-Length; counts the chunks the reader pulled. */
function streamed(chunks: number, chunkBytes: number) {
  const state = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled === chunks) return controller.close();
      state.pulled++;
      controller.enqueue(new Uint8Array(chunkBytes).fill(7));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { body, state };
}

function post(body: BodyInit, headers: Record<string, string> = binaryHeaders): Request {
  return new Request("http://sink.test/", {
    method: "POST",
    headers,
    body,
    duplex: "half",
  } as RequestInit);
}

describe("readBody", () => {
  it("reads a body up to the limit whole, in order", async () => {
    const { body } = streamed(4, 1000);
    const bytes = await readBody(post(body), 4000);
    expect(bytes.byteLength).toBe(4000);
    expect(bytes.every((b) => b === 7)).toBe(true);
    expect(await readBody(post("abc"), 3)).toEqual(new TextEncoder().encode("abc"));
    expect(await readBody(new Request("http://sink.test/"), 0)).toEqual(new Uint8Array(0));
  });

  it("stops reading a streamed body once it passes the limit, and cancels the rest", async () => {
    const { body, state } = streamed(1000, 1024);
    await expect(readBody(post(body), 10 * 1024)).rejects.toBeInstanceOf(MessageTooLarge);
    expect(state.pulled).toBeLessThan(20);
    expect(state.cancelled).toBe(true);
  });

  it("refuses on a Content-Length over the limit without reading", async () => {
    const request = post("x".repeat(100), { ...binaryHeaders, "content-length": "100" });
    await expect(readBody(request, 99)).rejects.toMatchObject({
      code: "message_too_large",
      status: 413,
    });
  });

  it("refuses a limit that is not a whole number of bytes", async () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(readBody(post("x"), bad)).rejects.toBeInstanceOf(TypeError);
    }
    expect(() => heraldReceiver({ maxBytes: -1 })).toThrow(TypeError);
  });
});

describe("receive maxBytes", () => {
  it("defaults to 64 MiB (a default batch of 100 x 256 KiB fits): that size is read, one byte more is refused", async () => {
    expect(DEFAULT_MAX_BYTES).toBe(64 * 1024 * 1024);
    expect(DEFAULT_MAX_BYTES).toBeGreaterThan(100 * 2 * 262_144 + 100 * 1024);
    const event = await receive(post(new Uint8Array(DEFAULT_MAX_BYTES)));
    expect((event.data as Uint8Array).byteLength).toBe(DEFAULT_MAX_BYTES);
    await expect(receive(post(new Uint8Array(DEFAULT_MAX_BYTES + 1)))).rejects.toBeInstanceOf(
      MessageTooLarge,
    );
  });

  it("by default reads a batch delivery of 100 events of 256 KiB of bytes (data_base64, 4/3 larger)", async () => {
    // What herald serve on its default limits delivers in batch mode when 100 events of
    // 256 KiB of bytes (less their ce-* headers) were sent in binary mode: 34.9 MB.
    const bytes = Uint8Array.from({ length: 262_144 - 400 }, (_, i) => (i * 31) & 0xff);
    const dataBase64 = btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""));
    const events = Array.from({ length: 100 }, (_, i) => ({
      specversion: "1.0",
      id: `01a22530-0000-7000-8000-${String(i).padStart(12, "0")}`,
      source: "/uploads/camera-7",
      type: "com.example.image.captured",
      time: "2026-11-29T02:42:08.123Z",
      recordedtime: "2026-11-29T02:42:08.125Z",
      authtype: "unauthenticated",
      data_base64: dataBase64,
    }));
    const body = JSON.stringify(events);
    expect(body.length).toBeGreaterThan(32 * 1024 * 1024);
    const request = new Request("http://sink.test/hook", {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body,
    });
    const received = await receiveBatch(request);
    expect(received).toHaveLength(100);
    expect((received[99]!.data as Uint8Array).byteLength).toBe(bytes.length);
  });

  it("is checked before the signature (which would need the whole body)", async () => {
    const options = { signingSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", maxBytes: 10 };
    await expect(receive(post("x".repeat(11)), options)).rejects.toBeInstanceOf(MessageTooLarge);
  });
});

describe("heraldReceiver maxBytes", () => {
  it("answers 413 problem+json for a streamed body over maxBytes, without reading it all", async () => {
    const app = new Hono<{ Variables: ReceiverVariables }>();
    app.post("/", heraldReceiver({ maxBytes: 64 * 1024 }), (c) => c.body(null, 204));
    const { body, state } = streamed(100, 64 * 1024);
    const res = await app.request(post(body));
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ code: "message_too_large", status: 413 });
    expect(state.pulled).toBeLessThan(10);
  });
});

describe("receive: a body cut off by the client", () => {
  it("is MalformedMessage (400), not the runtime's own error (a 500), over real HTTP", async () => {
    let settled: (outcome: unknown) => void = () => {};
    const outcome = new Promise<unknown>((resolve) => {
      settled = resolve;
    });
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve(
        {
          fetch: async (request) => {
            try {
              settled(await receive(request));
            } catch (err) {
              settled(err);
            }
            return new Response(null, { status: 204 });
          },
          hostname: "127.0.0.1",
          port: 0,
        },
        () => resolve(s),
      );
    });
    try {
      const { port } = server.address() as AddressInfo;
      const socket = connect(port, "127.0.0.1", () => {
        // 10 of the 100 bytes promised, then the connection is gone.
        socket.write(
          "POST / HTTP/1.1\r\nHost: x\r\nce-specversion: 1.0\r\nce-id: 1\r\nce-source: /s\r\nce-type: t\r\nContent-Length: 100\r\n\r\n0123456789",
        );
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on("error", () => {});
      const err = await outcome;
      expect(err).toBeInstanceOf(MalformedMessage);
      expect(err).toMatchObject({
        status: 400,
        message: "the request body could not be read to its end",
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
