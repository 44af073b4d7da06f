import { describe, expect, it } from "vitest";
import { headerUtf8, hmacSha256Key, tokensEqual, verifyHmacHex } from "./shared-secret.js";
import { toTimestamp } from "./webhook-time.js";

const encoder = new TextEncoder();

describe("shared secrets", () => {
  it("verifies GitHub's documented test vector ('Validating webhook deliveries')", async () => {
    const key = await hmacSha256Key("It's a Secret to Everybody");
    const body = encoder.encode("Hello, World!");
    const hex = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
    expect(await verifyHmacHex(key, hex, body)).toBe(true);
    expect(await verifyHmacHex(key, hex.toUpperCase(), body)).toBe(true);
    expect(await verifyHmacHex(key, `${hex.slice(0, 63)}0`, body)).toBe(false);
    expect(await verifyHmacHex(key, hex.slice(0, 62), body)).toBe(false);
    expect(await verifyHmacHex(key, "zz".repeat(32), body)).toBe(false);
  });

  it("compares tokens whole", async () => {
    expect(await tokensEqual("s3cr3t", "s3cr3t")).toBe(true);
    expect(await tokensEqual("s3cr3", "s3cr3t")).toBe(false);
    expect(await tokensEqual("", "s3cr3t")).toBe(false);
  });

  it("reads a header's UTF-8 bytes, handed over as Latin-1, as the text that was sent", () => {
    const latin1 = (text: string) => Buffer.from(text, "utf8").toString("latin1");
    expect(headerUtf8(latin1("café-秘密"))).toBe("café-秘密");
    // Plain ASCII, text already decoded, and Latin-1 bytes that are no UTF-8 are kept.
    expect(headerUtf8("s3cr3t")).toBe("s3cr3t");
    expect(headerUtf8("café-秘密")).toBe("café-秘密");
    expect(headerUtf8("caf\u00e9")).toBe("caf\u00e9");
  });
});

describe("toTimestamp", () => {
  it("keeps RFC 3339, rewrites GitLab's spaced style and epoch seconds, refuses the rest", () => {
    expect(toTimestamp("2024-06-01T12:00:00+02:00")).toBe("2024-06-01T12:00:00+02:00");
    expect(toTimestamp("2015-05-17 18:08:09 UTC")).toBe("2015-05-17T18:08:09Z");
    expect(toTimestamp("2015-05-17 18:08:09 +0200")).toBe("2015-05-17T18:08:09+02:00");
    expect(toTimestamp(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(toTimestamp("yesterday")).toBeUndefined();
    expect(toTimestamp(null)).toBeUndefined();
    expect(toTimestamp(-1)).toBeUndefined();
  });
});
