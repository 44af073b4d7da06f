import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bodyText, describeError, MAX_ERROR_BYTES, truncateUtf8 } from "./failure-text.js";

const byteLength = (text: string) => new TextEncoder().encode(text).length;

describe("truncateUtf8", () => {
  it("keeps short text as it is", () => {
    expect(truncateUtf8("short")).toBe("short");
  });

  it("cuts at a character boundary", () => {
    expect(truncateUtf8("héllo", 2)).toBe("h");
    expect(truncateUtf8("héllo", 3)).toBe("hé");
    expect(truncateUtf8("a😀b", 4)).toBe("a");
    expect(truncateUtf8("a😀b", 5)).toBe("a😀");
  });

  it("never exceeds the limit and always keeps a prefix", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 600 }), fc.nat(1100), (text, max) => {
        const cut = truncateUtf8(text, max);
        expect(byteLength(cut)).toBeLessThanOrEqual(max);
        expect(text.startsWith(cut)).toBe(true);
        if (byteLength(text) <= max) expect(cut).toBe(text);
      }),
    );
  });
});

describe("bodyText", () => {
  it("decodes the start of a body and drops a character cut in half", () => {
    const bytes = new TextEncoder().encode(`${"a".repeat(MAX_ERROR_BYTES - 1)}é`);
    expect(bodyText(bytes)).toBe("a".repeat(MAX_ERROR_BYTES - 1));
  });

  it("reads ISO-8859-1 when the Content-Type names it (any of its labels), else UTF-8", () => {
    const cafe = new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x21]);
    expect(bodyText(cafe, "text/html; charset=ISO-8859-1")).toBe("café!");
    expect(bodyText(cafe, 'text/plain;charset="latin1"')).toBe("café!");
    expect(bodyText(cafe, "text/plain")).toBe("caf\ufffd!");
    expect(bodyText(cafe, "text/plain; charset=utf-8")).toBe("caf\ufffd!");
    expect(bodyText(cafe, null)).toBe("caf\ufffd!");
    // Two UTF-8 bytes for each: cut at 1024 bytes.
    expect(bodyText(new Uint8Array(1500).fill(0xe9), "text/plain; charset=latin1")).toBe(
      "é".repeat(512),
    );
  });

  it("replaces invalid UTF-8 and stays within the limit", () => {
    const bytes = new Uint8Array(2000).fill(0xff);
    const text = bodyText(bytes);
    expect(text).toBe("\ufffd".repeat(341));
    expect(byteLength(text)).toBeLessThanOrEqual(MAX_ERROR_BYTES);
  });
});

describe("describeError", () => {
  it("joins the message and its cause, as fetch reports network errors", () => {
    const err = new TypeError("fetch failed", {
      cause: new Error("connect ECONNREFUSED 127.0.0.1:9"),
    });
    expect(describeError(err)).toBe("fetch failed: connect ECONNREFUSED 127.0.0.1:9");
  });

  it("does not repeat a cause the message already names", () => {
    const cause = new Error("socket hang up");
    expect(describeError(new Error("socket hang up", { cause }))).toBe("socket hang up");
  });

  it("does not repeat a cause whose message has line breaks (a TLS error's) the message already names", () => {
    // OpenSSL messages end in a line break; the wrapping text was made from them on one line.
    const tls = new Error(
      "write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:\n",
    );
    const wrapped = new TypeError(`fetch failed: ${describeError(tls)}`, { cause: tls });
    expect(describeError(wrapped)).toBe(
      "fetch failed: write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:",
    );
  });

  it("lists the errors of an AggregateError without a message", () => {
    const cause = new AggregateError([
      new Error("connect ECONNREFUSED ::1:9"),
      new Error("connect ECONNREFUSED 127.0.0.1:9"),
    ]);
    expect(describeError(new TypeError("fetch failed", { cause }))).toBe(
      "fetch failed: connect ECONNREFUSED ::1:9; connect ECONNREFUSED 127.0.0.1:9",
    );
  });

  it("describes non-errors and keeps to one line within the limit", () => {
    expect(describeError("plain")).toBe("plain");
    expect(describeError(new Error(""))).toBe("Error");
    expect(describeError(new Error("a\n  b"))).toBe("a b");
    expect(byteLength(describeError(new Error("é".repeat(2000))))).toBe(MAX_ERROR_BYTES);
  });
});
