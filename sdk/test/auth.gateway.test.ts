import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createProducer,
  Forbidden,
  RateLimited,
  serviceAccountToken,
  Unauthorized,
} from "../src/index.js";
import { type Herald, startHerald } from "./herald-process.js";
import { type SinkServer, startSink } from "./sink-server.js";
import { createTestIssuer, type TestIssuer } from "./test-issuer.js";

let dir: string;
let herald: Herald;
let sink: SinkServer;
let issuer: TestIssuer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-sdk-auth-"));
  issuer = await createTestIssuer(dir);
  sink = await startSink();
  herald = await startHerald({
    auth: {
      issuers: [issuer.config],
      publishers: [
        {
          claims: { sub: "uploader" },
          sources: ["/images", "/images/*"],
          types: ["com.example.image.*"],
        },
        { claims: { sub: "limited" }, rate: "1/m" },
      ],
    },
    subscriptions: [{ id: "all", sink: `${sink.url}/all`, delivery: { mode: "structured" } }],
  });
});
afterAll(async () => {
  await herald?.stop();
  await sink?.close();
  await rm(dir, { recursive: true, force: true });
});

const tokenFor = (subject: string) =>
  serviceAccountToken({
    privateKey: issuer.privateJwk,
    issuer: issuer.issuer,
    audience: issuer.audience,
    subject,
    ttl: "5m",
  });

describe("tokens against herald serve with publisher auth", () => {
  it("a serviceAccountToken is accepted; the gateway records who published", async () => {
    const producer = createProducer({
      endpoint: herald.events,
      source: "/images",
      token: tokenFor("uploader"),
    });
    const sent = await producer.notification({
      type: "com.example.image.uploaded",
      subject: "images/cat.png",
    });
    const [delivery] = await sink.waitFor(1);
    expect(JSON.parse(delivery!.body.toString())).toMatchObject({
      id: sent.id,
      authtype: "service_account",
      authid: "uploader",
    });
  });

  it("a PKCS#8 PEM key works as well as a JWK", async () => {
    const { exportPKCS8 } = await import("jose");
    const pem = await exportPKCS8(issuer.privateKey);
    const producer = createProducer({
      endpoint: herald.events,
      source: "/images/pem",
      token: serviceAccountToken({
        privateKey: pem,
        algorithm: "ES256",
        keyId: issuer.privateJwk.kid!,
        issuer: issuer.issuer,
        audience: "herald",
        subject: "uploader",
      }),
    });
    await expect(
      producer.notification({ type: "com.example.image.resized", subject: "images/cat.png" }),
    ).resolves.toMatchObject({ source: "/images/pem" });
  });

  it("Unauthorized without a token and with a token of another key", async () => {
    const none = createProducer({ endpoint: herald.events, source: "/images", retry: false });
    const missing = await none
      .notification({ type: "com.example.image.uploaded", subject: "x" })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Unauthorized);
    expect(missing).toMatchObject({ code: "unauthorized", status: 401 });
    expect((missing as Unauthorized).problem?.code).toBe("missing_token");

    const stranger = await createTestIssuer(dir, issuer.privateJwk.kid);
    const forged = createProducer({
      endpoint: herald.events,
      source: "/images",
      retry: false,
      token: serviceAccountToken({
        privateKey: stranger.privateJwk,
        issuer: issuer.issuer,
        audience: "herald",
        subject: "uploader",
      }),
    });
    const invalid = await forged
      .notification({ type: "com.example.image.uploaded", subject: "x" })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(Unauthorized);
    expect((invalid as Unauthorized).problem?.code).toBe("invalid_token");
  });

  it("Forbidden for a type outside the publisher's rule, naming the attribute", async () => {
    const producer = createProducer({
      endpoint: herald.events,
      source: "/images",
      token: tokenFor("uploader"),
    });
    const err = await producer
      .stateTransfer({ type: "com.example.order.created", data: { orderId: 1 } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Forbidden);
    expect(err).toMatchObject({ code: "forbidden", status: 403 });
    expect((err as Forbidden).problem?.attributes).toEqual(["type"]);
    expect((err as Forbidden).attributes).toEqual(["type"]);
  });

  it("RateLimited over the publisher's rate, with the gateway's Retry-After", async () => {
    const producer = createProducer({
      endpoint: herald.events,
      source: "/limited",
      token: tokenFor("limited"),
      retry: false,
    });
    await producer.send({ type: "com.example.limited" });
    const err = await producer.send({ type: "com.example.limited" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimited);
    expect(err).toMatchObject({ code: "rate_limited", status: 429 });
    expect((err as RateLimited).retryAfterMs).toBeGreaterThan(0);
  });
});
