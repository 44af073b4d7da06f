import { createHmac } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createWebhookSigner, parseSigningSecrets } from "./sign-webhook.js";

// The example secret of the Standard Webhooks spec, and a second one for rotation.
const OLD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW = `whsec_${Buffer.from("a second secret for rotation").toString("base64")}`;
const body = new TextEncoder().encode('{"type":"user.created","data":{"é":1}}');

/** The reference: base64 HMAC-SHA256 over `${id}.${timestamp}.${body}` with node:crypto. */
function reference(secret: string, id: string, timestamp: number, bytes: Uint8Array): string {
  const key = Buffer.from(secret.slice("whsec_".length), "base64");
  return createHmac("sha256", key)
    .update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`), bytes]))
    .digest("base64");
}

afterEach(() => vi.restoreAllMocks());

describe("createWebhookSigner", () => {
  it("signs id.timestamp.body with HMAC-SHA256 as Standard Webhooks v1", async () => {
    const sign = createWebhookSigner();
    const headers = await sign({ id: "msg_1", timestamp: 1_700_000_000, body, secrets: OLD });
    expect(headers).toEqual({
      "webhook-id": "msg_1",
      "webhook-timestamp": "1700000000",
      "webhook-signature": `v1,${reference(OLD, "msg_1", 1_700_000_000, body)}`,
    });
  });

  it("signs with every secret while one is rotated, in the order given", async () => {
    const sign = createWebhookSigner();
    const headers = await sign({ id: "m", timestamp: 1, body, secrets: ` ${OLD}  ${NEW} ` });
    expect(headers["webhook-signature"]).toBe(
      `v1,${reference(OLD, "m", 1, body)} v1,${reference(NEW, "m", 1, body)}`,
    );
  });

  it("signs an empty body", async () => {
    const sign = createWebhookSigner();
    const empty = new Uint8Array(0);
    const headers = await sign({ id: "m", timestamp: 1, body: empty, secrets: OLD });
    expect(headers["webhook-signature"]).toBe(`v1,${reference(OLD, "m", 1, empty)}`);
  });

  it("imports each setting's keys once", async () => {
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    const sign = createWebhookSigner();
    for (let i = 0; i < 5; i++) await sign({ id: `m${i}`, timestamp: i, body, secrets: OLD });
    await sign({ id: "m", timestamp: 1, body, secrets: `${OLD} ${NEW}` });
    expect(importKey).toHaveBeenCalledTimes(3);
  });

  it("forgets the oldest keys past maxKeys", async () => {
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    const sign = createWebhookSigner({ maxKeys: 1 });
    await sign({ id: "m", timestamp: 1, body, secrets: OLD });
    await sign({ id: "m", timestamp: 1, body, secrets: NEW });
    await sign({ id: "m", timestamp: 1, body, secrets: OLD });
    expect(importKey).toHaveBeenCalledTimes(3);
  });

  it("rejects a malformed secret without repeating it, and does not cache the failure", async () => {
    const sign = createWebhookSigner();
    const bad = "whsec_not*base64";
    await expect(sign({ id: "m", timestamp: 1, body, secrets: `${OLD} ${bad}` })).rejects.toThrow(
      "signingSecret 2 of 2 is not whsec_ followed by base64",
    );
    const error = await sign({ id: "m", timestamp: 1, body, secrets: bad }).catch((e) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).not.toContain("not*base64");
  });

  it("rejects an id or timestamp that cannot go into a header", async () => {
    const sign = createWebhookSigner();
    await expect(sign({ id: "a b", timestamp: 1, body, secrets: OLD })).rejects.toThrow(TypeError);
    await expect(sign({ id: "", timestamp: 1, body, secrets: OLD })).rejects.toThrow(TypeError);
    await expect(sign({ id: "m", timestamp: 1.5, body, secrets: OLD })).rejects.toThrow(TypeError);
  });
});

describe("parseSigningSecrets", () => {
  it("decodes the base64 after whsec_, padded or not", () => {
    expect(parseSigningSecrets("whsec_AQI")).toEqual([new Uint8Array([1, 2])]);
    expect(parseSigningSecrets("whsec_AQID whsec_BAUG")).toEqual([
      new Uint8Array([1, 2, 3]),
      new Uint8Array([4, 5, 6]),
    ]);
  });

  it.each(["", "   ", "AQID", "whsec_", "whsec_A", "whsec_AQ==x", "whsec_==", "Whsec_AQID"])(
    "refuses %j",
    (secrets) => {
      expect(() => parseSigningSecrets(secrets)).toThrow(TypeError);
    },
  );
});
