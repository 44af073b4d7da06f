import { describe, expect, test } from "vitest";
import { readConfigSource } from "./config-source.js";

const text = [
  "listen:", //                     1
  "  port: x", //                   2
  "  host:", //                     3
  "subscriptions:", //              4
  "  - id: a", //                   5
  "    filters: [{ exact: { type: b } }]", // 6
  "base: &base { timeout: 1s }", // 7
  "copy: *base", //                 8
  "",
].join("\n");

describe("readConfigSource().locate", () => {
  const { locate, syntaxIssues } = readConfigSource(text, "herald.yaml");

  test("parses without issues", () => {
    expect(syntaxIssues).toEqual([]);
  });

  test("points at a value, or at its key when asked", () => {
    expect(locate(["listen", "port"])).toEqual({ line: 2, column: 9 });
    expect(locate(["listen", "port"], { at: "key" })).toEqual({ line: 2, column: 3 });
  });

  test("walks lists and flow collections", () => {
    expect(locate(["subscriptions", 0, "id"])).toEqual({ line: 5, column: 9 });
    expect(locate(["subscriptions", 0, "filters", 0, "exact", "type"])).toEqual({
      line: 6,
      column: 32,
    });
  });

  test("an empty value is located at its key", () => {
    expect(locate(["listen", "host"])).toEqual({ line: 3, column: 3 });
  });

  test("a path that does not exist stops at its deepest existing part", () => {
    expect(locate(["listen", "nothing", "deeper"])).toEqual({ line: 2, column: 3 });
    expect(locate(["subscriptions", 7, "id"])).toEqual({ line: 5, column: 3 });
    expect(locate(["subscriptions", "zero"])).toEqual({ line: 5, column: 3 });
  });

  test("the root is the start of the document", () => {
    expect(locate([])).toEqual({ line: 1, column: 1 });
  });

  test("through an alias, into the anchored node", () => {
    expect(locate(["copy"])).toEqual({ line: 8, column: 7 });
    expect(locate(["copy", "timeout"])).toEqual({ line: 7, column: 24 });
  });

  test("an empty text locates at 1:1", () => {
    expect(readConfigSource("", "x").locate(["a"])).toEqual({ line: 1, column: 1 });
  });
});

describe("readConfigSource().syntaxIssues", () => {
  test("carry file, line and column, and no field", () => {
    expect(readConfigSource("a: 1\nb: 'open\n", "f.yaml").syntaxIssues).toEqual([
      { file: "f.yaml", line: 3, column: 1, field: "", message: "Missing closing 'quote" },
    ]);
  });
});

describe("readConfigSource: a .json file", () => {
  test("is parsed as JSON and located like YAML", () => {
    const source = readConfigSource('{\n  "listen": { "port": "x" }\n}\n', "herald.json");
    expect(source.syntaxIssues).toEqual([]);
    expect(source.document.toJS()).toEqual({ listen: { port: "x" } });
    expect(source.locate(["listen", "port"])).toEqual({ line: 2, column: 23 });
  });

  test("a syntax error is one issue at its line and column, and nothing is read", () => {
    const source = readConfigSource('{\n  "a": 1\n  "b": 2\n}', "dir/h.json");
    expect(source.syntaxIssues).toEqual([
      {
        file: "dir/h.json",
        line: 3,
        column: 3,
        field: "",
        message: "invalid JSON: unexpected '\"'; expected ',' or '}'",
      },
    ]);
    expect(source.document.toJS()).toBeNull();
  });

  test("YAML that is not JSON is refused, though a .yaml file of the same text is read", () => {
    expect(readConfigSource("a: 1\n", "h.json").syntaxIssues).toHaveLength(1);
    expect(readConfigSource("a: 1\n", "h.yml").syntaxIssues).toEqual([]);
  });
});
