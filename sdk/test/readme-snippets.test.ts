import { createHmac } from "node:crypto";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProducer, HeraldError, serviceAccountToken } from "../src/index.js";
import {
  answerWebhookHandshake,
  heraldReceiver,
  problemResponse,
  type ReceivedEvent,
  HeraldError as ReceiveError,
  type ReceiverVariables,
  receive,
} from "../src/receive/index.js";
import { type Herald, startHerald } from "./herald-process.js";
import { type SinkServer, startSink } from "./sink-server.js";

// The README's snippets as a TypeScript user pastes them: `npm run typecheck` compiles this file
// with the strictest settings (exactOptionalPropertyTypes included), and the tests run them
// against herald serve. An option read from the environment is `string | undefined`.

let herald: Herald;
let sink: SinkServer;
beforeAll(async () => {
  sink = await startSink();
  herald = await startHerald({ subscriptions: [{ id: "all", sink: `${sink.url}/all` }] });
});
afterAll(async () => {
  await herald?.stop();
  await sink?.close();
});

describe("README snippets", () => {
  it("options taken from the environment may be undefined: the default applies (not for a signing secret)", async () => {
    const producer = createProducer({
      endpoint: herald.events,
      source: "/images",
      token: process.env.HERALD_SNIPPET_UNSET_TOKEN,
      timeout: process.env.HERALD_SNIPPET_UNSET_TIMEOUT ? 5000 : undefined,
    });
    const sent = await producer.notification({
      type: "com.example.image.uploaded",
      subject: "images/cat.png",
      dataref: "https://images.example.com/images/cat.png",
      data: { imageId: "cat" },
    });
    const [delivery] = await sink.waitFor(1);
    expect(delivery!.headers["ce-id"]).toBe(sent.id);
    expect(delivery!.headers.authorization).toBeUndefined();
    // The same holds for the other factories' optional settings.
    expect(
      typeof serviceAccountToken({
        privateKey: "x",
        issuer: "i",
        audience: "a",
        subject: "s",
        keyId: process.env.HERALD_SNIPPET_UNSET_KID,
      }),
    ).toBe("function");
    expect(typeof heraldReceiver({ batch: undefined, maxBytes: undefined })).toBe("function");
    // Except the signing secret: unset, it would switch verification off without a word, so it
    // fails closed (leaving the option out is how a sink takes unsigned deliveries).
    expect(() =>
      heraldReceiver({ signingSecret: process.env.HERALD_SNIPPET_UNSET_SECRET }),
    ).toThrow(/signingSecret is undefined/);
  });
});

describe("README snippet: Tokens", () => {
  it("serviceAccountToken takes its key from the environment as written; unset, it says so at once", () => {
    const make = () =>
      createProducer({
        endpoint: "https://herald.example.com/events",
        source: "/images",
        token: serviceAccountToken({
          privateKey: process.env.HERALD_SNIPPET_UNSET_KEY_PEM, // PKCS#8 PEM, a private JWK, or a CryptoKey
          algorithm: "ES256",
          keyId: "uploader-1", // the kid of its public key in the gateway's JWKS
          issuer: "https://id.example.com", // the gateway's auth.issuers[].issuer
          audience: "herald",
          subject: "uploader", // what the publisher rules match on
          ttl: "15m",
        }),
      });
    expect(make).toThrow(new TypeError("serviceAccountToken: privateKey is required"));
  });
});

describe("README snippet: Errors", () => {
  it("switch (err.code) after instanceof HeraldError reads err.attributes", async () => {
    const producer = createProducer({ endpoint: herald.events, source: "/orders" });
    const event = { type: "com.example.order.created", sampledrate: 0 };
    const seen: unknown[] = [];
    // As in the README, console.error replaced by a record of what it would print.
    try {
      await producer.send(event);
    } catch (err) {
      if (!(err instanceof HeraldError)) throw err;
      switch (err.code) {
        case "invalid_event":
          seen.push("fix the event:", err.attributes);
          break;
        case "unavailable":
        case "network_error":
        case "timeout":
          /* keep it and try later */ break;
        default:
          seen.push(err.status, err.problem?.detail);
      }
    }
    expect(seen).toEqual(["fix the event:", ["sampledrate"]]);
  });
});

describe("README snippet: receive in a fetch handler", () => {
  it("answers a refusal with its status and a problem document, a delivery with 204", async () => {
    const made: (string | undefined)[] = [];
    const makeThumbnail = async (dataref: string | undefined) => {
      made.push(dataref);
    };
    const HeraldError = ReceiveError;
    // As in the README, typed as a TypeScript user writes it (biome wants `event` typed).
    const worker = {
      async fetch(request: Request, env: { THUMBNAIL_SECRET: string }) {
        let event: ReceivedEvent;
        try {
          event = await receive(request, { signingSecret: env.THUMBNAIL_SECRET });
        } catch (err) {
          if (err instanceof HeraldError) return problemResponse(err); // 401, 400, 413, 415
          throw err;
        }
        await makeThumbnail(event.dataref);
        return new Response(null, { status: 204 });
      },
    };
    const key = new Uint8Array(32).fill(7);
    const env = { THUMBNAIL_SECRET: `whsec_${Buffer.from(key).toString("base64")}` };
    const body =
      '{"specversion":"1.0","id":"1","source":"/images","type":"t","dataref":"https://i.example/cat.png"}';
    const timestamp = String(Math.floor(Date.now() / 1000));
    const mac = createHmac("sha256", key).update(`msg_1.${timestamp}.${body}`).digest("base64");
    const delivery = (signature: string) =>
      new Request("http://sink.test/thumbnail", {
        method: "POST",
        headers: {
          "content-type": "application/cloudevents+json",
          "webhook-id": "msg_1",
          "webhook-timestamp": timestamp,
          "webhook-signature": signature,
        },
        body,
      });
    expect((await worker.fetch(delivery(`v1,${mac}`), env)).status).toBe(204);
    expect(made).toEqual(["https://i.example/cat.png"]);
    const forged = await worker.fetch(delivery("v1,AAAA"), env);
    expect(forged.status).toBe(401);
    expect(forged.headers.get("content-type")).toBe("application/problem+json");
    expect(await forged.json()).toMatchObject({ status: 401, code: "invalid_signature" });
    expect(made).toHaveLength(1);
  });
});

describe("README snippet: answering the webhook handshake", () => {
  it("a Hono sink with heraldReceiver and answerWebhookHandshake gets a handshake: true delivery", async () => {
    const events: ReceivedEvent[] = [];
    let handled: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      handled = resolve;
    });
    const app = new Hono<{ Variables: ReceiverVariables }>();
    app.post("/thumbnail", heraldReceiver(), (c) => {
      events.push(c.get("cloudevent"));
      handled();
      return c.body(null, 204);
    });
    app.options("/thumbnail", (c) => answerWebhookHandshake(c.req.raw));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    const gateway = await startHerald({
      subscriptions: [
        {
          id: "thumbnails",
          sink: `http://127.0.0.1:${port}/thumbnail`,
          delivery: { handshake: true, rate: "10/s", retry: 0 },
        },
      ],
    });
    try {
      const producer = createProducer({ endpoint: gateway.events, source: "/images" });
      const sent = await producer.notification({
        type: "com.example.image.uploaded",
        subject: "a",
      });
      await arrived;
      expect(events.map((e) => e.id)).toEqual([sent.id]);
    } finally {
      await gateway.stop();
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });
});
