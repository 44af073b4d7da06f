import { describe, expect, it } from "vitest";
import { ConfigInvalid, formatConfigIssue } from "../../config/config-invalid.js";
import { decodeConfigText } from "./decode-config-text.js";

function refusal(bytes: Uint8Array): string {
  try {
    decodeConfigText(bytes, "herald.yaml");
  } catch (error) {
    if (error instanceof ConfigInvalid) return error.issues.map(formatConfigIssue).join("\n");
    throw error;
  }
  throw new Error("decoded");
}

describe("decodeConfigText", () => {
  it("decodes UTF-8, dropping a BOM", () => {
    const text = "source: /café\n";
    expect(decodeConfigText(new TextEncoder().encode(text), "herald.yaml")).toBe(text);
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode("a: 1\n")]);
    expect(decodeConfigText(bom, "herald.yaml")).toBe("a: 1\n");
  });

  it("refuses Latin-1 at the line and column of the first byte that is not UTF-8", () => {
    // "café" in ISO-8859-1: é is the one byte 0xe9, which is no UTF-8.
    const latin1 = Buffer.from("subscriptions:\n  - source: /caf\u00e9\n", "latin1");
    expect(refusal(latin1)).toBe(
      "herald.yaml:2:17 the file is not UTF-8 text (is it Latin-1?); save it as UTF-8",
    );
  });

  it("names a UTF-16 file as such", () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("a: 1\n", "utf16le")]);
    expect(refusal(utf16)).toBe("herald.yaml:1:1 the file is UTF-16 text; save it as UTF-8");
  });

  it("names a binary file (a NUL byte) as such, at the NUL, not as Latin-1 or a YAML shape", () => {
    // A SQLite file, as `--config .herald/herald.db` would give it: its header ends in a NUL.
    const sqlite = Buffer.concat([Buffer.from("SQLite format 3\0", "latin1"), Buffer.from([0xe9])]);
    const binary =
      "the file is binary (a NUL byte), not a YAML or JSON config; is it the right file?";
    expect(refusal(sqlite)).toBe(`herald.yaml:1:16 ${binary}`);
    expect(refusal(new Uint8Array(64))).toBe(`herald.yaml:1:1 ${binary}`);
    expect(refusal(Buffer.from("listen: { port: 1 }\n\0\n"))).toBe(`herald.yaml:2:1 ${binary}`);
  });
});
