import { describe, expect, test } from "vitest";
import { parseDocument } from "yaml";
import { findDuplicateKey } from "./duplicate-key.js";

function duplicateAt(text: string) {
  const document = parseDocument(text);
  const error = document.errors.find((e) => e.code === "DUPLICATE_KEY");
  if (error === undefined) throw new Error("no DUPLICATE_KEY error");
  return findDuplicateKey(document, error.pos[0]);
}

describe("findDuplicateKey", () => {
  test("names the repeated key's path and where it was first set", () => {
    const text = "listen:\n  port: 1\n  host: x\n  port: 2\n";
    expect(duplicateAt(text)).toEqual({ path: ["listen", "port"], firstOffset: 10 });
  });

  test("finds it inside lists and flow mappings", () => {
    const text = "subscriptions:\n  - id: a\n    delivery: { retry: 1, retry: 2 }\n";
    expect(duplicateAt(text)).toEqual({
      path: ["subscriptions", 0, "delivery", "retry"],
      firstOffset: text.indexOf("retry"),
    });
  });

  test("at the top level", () => {
    expect(duplicateAt("limits: {}\nlimits: {}\n")).toEqual({ path: ["limits"], firstOffset: 0 });
  });

  test("undefined where no key starts at the offset", () => {
    expect(findDuplicateKey(parseDocument("a: 1\n"), 3)).toBeUndefined();
  });
});
