import { describe, expect, it } from "vitest";
import { bestTime } from "../test/best-time.js";
import { decodeBase64, encodeBase64 } from "./base64.js";

const ascii = (text: string) => new TextEncoder().encode(text);

/** 4 MiB of every byte value, as bytes and as the binary string `btoa` takes. */
const BIG = Uint8Array.from({ length: 4 * 1024 * 1024 }, (_, i) => (i * 7919) & 0xff);
let bigBinary = "";
for (let i = 0; i < BIG.length; i += 0x2000) {
  bigBinary += String.fromCharCode.apply(null, BIG.subarray(i, i + 0x2000) as unknown as number[]);
}
const BIG_BASE64 = btoa(bigBinary);

describe("encodeBase64 / decodeBase64 (RFC 4648 4)", () => {
  it("encodes and decodes the RFC 4648 test vectors", () => {
    const vectors = [
      ["", ""],
      ["f", "Zg=="],
      ["fo", "Zm8="],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg=="],
      ["fooba", "Zm9vYmE="],
      ["foobar", "Zm9vYmFy"],
    ] as const;
    for (const [text, base64] of vectors) {
      expect(encodeBase64(ascii(text))).toBe(base64);
      expect(decodeBase64(base64)).toEqual(ascii(text));
    }
  });

  it("round-trips every byte value, across the 8 KiB chunks", () => {
    expect(encodeBase64(BIG)).toBe(BIG_BASE64);
    // Compared as one string: toEqual on 4 MiB of bytes takes vitest tens of seconds.
    expect(encodeBase64(decodeBase64(BIG_BASE64)!)).toBe(BIG_BASE64);
    expect(decodeBase64(BIG_BASE64)?.length).toBe(BIG.length);
    const odd = BIG.subarray(3, 0x2000 * 3 + 5);
    expect(decodeBase64(encodeBase64(odd))).toEqual(odd);
  });

  it("reads as atob does: whitespace ignored, padding optional; undefined for what is not base64", () => {
    expect(decodeBase64("Zm9v\nYmE")).toEqual(ascii("fooba"));
    expect(decodeBase64("Zm9vYg")).toEqual(ascii("foob"));
    for (const bad of ["@@@@", "Zm9vY", "Zg=a", "Zm9v€"]) expect(decodeBase64(bad)).toBeUndefined();
  });

  // Relative timings: each against the runtime's own btoa/atob on the same input, which the
  // helpers call anyway. Spreading a typed array into String.fromCharCode, and
  // Uint8Array.from(string, mapper), walk iterators and took 15-25 times as long on Node 20
  // (over a second for a 5 MB payload of a structured-mode event or a batch).
  // Encoding builds the binary string btoa takes (512 String.fromCharCode calls and their
  // concatenation, ~5 times btoa's own time on a quiet machine, up to ~10 under load: it
  // allocates more, so other processes slow it more); the iterator-walking versions took 15-25
  // times. So the bound sits between the two, with the best of 7 rounds of each.
  it("encodes 4 MiB in a small multiple of what btoa alone takes", () => {
    const btoaMs = bestTime(() => btoa(bigBinary), 7);
    expect(bestTime(() => encodeBase64(BIG), 7)).toBeLessThan(btoaMs * 12 + 10);
  });

  it("decodes 4 MiB in at most a few times what atob alone takes", () => {
    const atobMs = bestTime(() => atob(BIG_BASE64));
    expect(bestTime(() => decodeBase64(BIG_BASE64))).toBeLessThan(atobMs * 6 + 5);
  });
});
