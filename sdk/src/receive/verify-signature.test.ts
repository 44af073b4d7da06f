import { describe, expect, it } from "vitest";
import { heraldReceiver } from "./hono-receiver.js";
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
