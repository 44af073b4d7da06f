import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { heraldReceiver } from "./hono-receiver.js";
import { receive, receiveBatch } from "./receive.js";
import { parseSigningSecrets, verifyWebhookSignature } from "./verify-signature.js";

describe("signing secrets", () => {
  it("reads the key bytes of each whsec_ secret", () => {
    expect(parseSigningSecrets(" whsec_AQID  whsec_BAUG ")).toEqual([
      new Uint8Array([1, 2, 3]),
      new Uint8Array([4, 5, 6]),
    ]);
  });

  it("names a malformed secret by its position, never by its text", () => {
    expect(() => parseSigningSecrets("whsec_AQID sk_live_abc")).toThrow(
      "signingSecret 2 of 2 is not whsec_ followed by base64",
    );
    expect(() => parseSigningSecrets("")).toThrow(/empty/);
  });

  it("heraldReceiver refuses a malformed secret when it is made", () => {
    expect(() => heraldReceiver({ signingSecret: "whsec_!!!" })).toThrow(TypeError);
  });

  it("a secret given as undefined (an unset variable) fails closed; left out, unsigned deliveries are taken", async () => {
    const env: Record<string, string | undefined> = {};
    expect(() => heraldReceiver({ signingSecret: env.THUMBNAIL_SECRET })).toThrow(
      /signingSecret is undefined \(an unset environment variable\?\)/,
    );
    const delivery = () =>
      new Request("http://sink.test/", {
        method: "POST",
        headers: {
          "ce-specversion": "1.0",
          "ce-id": "1",
          "ce-source": "/s",
          "ce-type": "t",
        },
      });
    await expect(receive(delivery(), { signingSecret: env.THUMBNAIL_SECRET })).rejects.toThrow(
      TypeError,
    );
    await expect(receiveBatch(delivery(), { signingSecret: env.THUMBNAIL_SECRET })).rejects.toThrow(
      TypeError,
    );
    expect((await receive(delivery(), {})).id).toBe("1");
  });

  it("heraldReceiver refuses a malformed tolerance when it is made, not at each delivery", () => {
    for (const toleranceSeconds of [-1, Number.NaN]) {
      expect(() => heraldReceiver({ signingSecret: "whsec_AQID", toleranceSeconds })).toThrow(
        new TypeError("toleranceSeconds must be a number of seconds >= 0"),
      );
    }
  });

  it("verification refuses a negative tolerance as a mistake", async () => {
    await expect(
      verifyWebhookSignature({
        secrets: "whsec_AQID",
        headers: new Headers(),
        body: new Uint8Array(),
        toleranceSeconds: -1,
      }),
    ).rejects.toThrow(TypeError);
  });
});

describe("webhook-signature", () => {
  const body = new TextEncoder().encode('{"a":1}');
  const nowMs = 1_700_000_000_000;
  const signed = (fields: readonly string[]) => {
    const headers = new Headers({ "webhook-id": "msg_1", "webhook-timestamp": "1700000000" });
    for (const field of fields) headers.append("webhook-signature", field);
    return { secrets: "whsec_AQID", headers, body, nowMs };
  };
  const valid = `v1,${createHmac("sha256", Buffer.from([1, 2, 3]))
    .update('msg_1.1700000000.{"a":1}')
    .digest("base64")}`;

  it("finds the valid one among space-separated signatures", async () => {
    await expect(verifyWebhookSignature(signed([`v1,AAAA ${valid}`]))).resolves.toBe("msg_1");
  });

  it("reads a header sent twice (joined by a comma) in either order", async () => {
    // A proxy or client that adds a field instead of a space-separated value.
    await expect(verifyWebhookSignature(signed([valid, "v1,AAAA"]))).resolves.toBe("msg_1");
    await expect(verifyWebhookSignature(signed(["v1,AAAA", valid]))).resolves.toBe("msg_1");
    await expect(verifyWebhookSignature(signed(["v1,AAAA", "v1,BBBB"]))).rejects.toThrow(
      "no webhook-signature matches",
    );
  });
});
