import { exportJWK, generateKeyPair, jwtVerify } from "jose";
import { describe, expect, inject, it } from "vitest";
import { createProducer, InvalidEvent, serviceAccountToken, Unavailable } from "../src/index.js";
import {
  answerWebhookHandshake,
  MalformedMessage,
  MessageTooLarge,
  receive,
  receiveBatch,
  SignatureInvalid,
} from "../src/receive/index.js";

const endpoint = inject("heraldEvents");
const sinkUrl = inject("sinkUrl");

/** The event as the sink got it from the gateway (the sink holds the request until it arrives). */
async function deliveredEvent(id: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${sinkUrl}/events/${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  return res.json();
}

describe("the producer inside workerd, against herald serve", () => {
  it("runs in the Workers runtime (no Node globals)", () => {
    expect(navigator.userAgent).toBe("Cloudflare-Workers");
  });

  it("notification with workerd's own fetch reaches the sink through the gateway", async () => {
    const producer = createProducer({ endpoint, source: "/workerd" });
    const sent = await producer.notification({
      type: "com.example.image.uploaded",
      subject: "images/ö.png",
      dataref: "https://images.example.com/images/%C3%B6.png",
      data: { imageId: "ö" },
    });
    expect(await deliveredEvent(sent.id)).toMatchObject({
      source: "/workerd",
      subject: "images/ö.png",
      dataref: "https://images.example.com/images/%C3%B6.png",
      data: { imageId: "ö" },
    });
  });

  it("stateTransfer in structured mode and a batch", async () => {
    const producer = createProducer({ endpoint, source: "/workerd", mode: "structured" });
    const state = await producer.stateTransfer({
      type: "com.example.part.ordered",
      data: { sku: "A" },
    });
    const batch = await producer.send([
      { type: "com.example.a" },
      { type: "com.example.b", data: [1] },
    ]);
    expect(await deliveredEvent(state.id)).toMatchObject({ data: { sku: "A" } });
    expect(await deliveredEvent(batch[1]!.id)).toMatchObject({ type: "com.example.b", data: [1] });
  });

  it("gateway refusals are HeraldError subclasses", async () => {
    const producer = createProducer({ endpoint, source: "/workerd", retry: false });
    const err = await producer
      .send({ type: "com.example.bad", sampledrate: 0 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidEvent);
    expect((err as InvalidEvent).attributes).toEqual(["sampledrate"]);
  });

  it("an answer whose body does not end: rejects, having read about 1 MiB and cancelled the rest", async () => {
    const producer = createProducer({
      endpoint: `${sinkUrl}/endless`,
      source: "/workerd",
      retry: false,
    });
    const err = await producer.send({ type: "com.example.endless" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unavailable);
    expect((err as Unavailable).message).toBe("the gateway answered 502");
    const closed = (await (await fetch(`${sinkUrl}/endless`)).json()) as {
      written: number;
      cut: boolean;
    };
    expect(closed.cut).toBe(true);
    expect(closed.written).toBeLessThan(64 * 1024 * 1024);
  });

  it("serviceAccountToken signs with WebCrypto", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
    const token = await serviceAccountToken({
      privateKey: { ...(await exportJWK(privateKey)), alg: "ES256" },
      issuer: "https://id.example.com",
      audience: "herald",
      subject: "worker",
    })();
    const { payload } = await jwtVerify(token, publicKey, { audience: "herald" });
    expect(payload.sub).toBe("worker");
  });

  it("receive verifies a Standard Webhooks signature", async () => {
    const key = crypto.getRandomValues(new Uint8Array(32));
    const secret = `whsec_${btoa(String.fromCharCode(...key))}`;
    const body = '{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":1}}';
    const timestamp = String(Math.floor(Date.now() / 1000));
    const hmac = await crypto.subtle.importKey(
      "raw",
      key,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const mac = new Uint8Array(
      await crypto.subtle.sign(
        "HMAC",
        hmac,
        new TextEncoder().encode(`msg_1.${timestamp}.${body}`),
      ),
    );
    const request = (text: string) =>
      new Request("https://sink.example.com/", {
        method: "POST",
        headers: {
          "content-type": "application/cloudevents+json",
          "webhook-id": "msg_1",
          "webhook-timestamp": timestamp,
          "webhook-signature": `v1,${btoa(String.fromCharCode(...mac))}`,
        },
        body: text,
      });
    expect(await receive(request(body), { signingSecret: secret })).toMatchObject({
      data: { a: 1 },
    });
    await expect(
      receive(request(body.replace("1}", "2}")), { signingSecret: secret }),
    ).rejects.toBeInstanceOf(SignatureInvalid);
  });

  it("receive and receiveBatch read every mode; refusals and the handshake as on Node", async () => {
    const binary = new Request("https://sink.example.com/", {
      method: "POST",
      headers: {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/s",
        "ce-type": "t",
        "ce-subject": "Euro%20%E2%82%AC",
        "content-type": "text/plain; charset=iso-8859-1",
      },
      body: new Uint8Array([0x63, 0x61, 0x66, 0xe9]),
    });
    expect(await receive(binary)).toMatchObject({ subject: "Euro €", data: "café" });
    const event = (id: string) => `{"specversion":"1.0","id":"${id}","source":"/s","type":"t"}`;
    const batch = (text: string) =>
      new Request("https://sink.example.com/", {
        method: "POST",
        headers: { "content-type": "application/cloudevents-batch+json" },
        body: text,
      });
    expect((await receiveBatch(batch(`[${event("a")},${event("b")}]`))).map((e) => e.id)).toEqual([
      "a",
      "b",
    ]);
    await expect(receiveBatch(batch(`[${event("a")},{"id":"b"}]`))).rejects.toThrow(
      MalformedMessage,
    );
    // A streamed body has no Content-Length: refused once the bytes read pass maxBytes.
    const chunk = new Uint8Array(1024).fill(0x20);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(chunk);
      },
    });
    const streamed = new Request("https://sink.example.com/", {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: endless,
    });
    await expect(receive(streamed, { maxBytes: 4096 })).rejects.toBeInstanceOf(MessageTooLarge);
    expect(pulled).toBeLessThan(10);
    const consent = answerWebhookHandshake(
      new Request("https://sink.example.com/", {
        method: "OPTIONS",
        headers: { "webhook-request-origin": "herald", "webhook-request-rate": "120" },
      }),
      { maxRate: 60 },
    );
    expect(consent.headers.get("webhook-allowed-origin")).toBe("herald");
    expect(consent.headers.get("webhook-allowed-rate")).toBe("60");
  });
});
