// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in these strings is config text under test.
import { expect, test } from "vitest";
import { readConfigSource } from "./config-source.js";
import { formatFieldPath } from "./field-path.js";
import { interpolateDocument } from "./interpolate-document.js";
import type { Env } from "./interpolate-env.js";

function interpolate(text: string, env: Env) {
  const { document } = readConfigSource(text, "x");
  const reports: string[] = [];
  interpolateDocument(document, env, (path, message) => {
    reports.push(`${formatFieldPath(path)}: ${message}`);
  });
  return { value: document.toJS() as unknown, reports };
}

test.each([
  ["8080", 8080],
  ["-1", -1],
  ["+2", 2],
  ["1.5", 1.5],
  ["1e3", 1000],
  [".5", 0.5],
  ["true", true],
  ["False", false],
  ["TRUE", true],
  ["0x10", "0x10"],
  ["yes", "yes"],
  ["null", "null"],
  ["", ""],
  ["8080 ", "8080 "],
  ["a: b", "a: b"],
  ["#x", "#x"],
])("an unquoted reference to %j becomes %j", (text, expected) => {
  expect(interpolate("v: ${V}\n", { V: text })).toEqual({ value: { v: expected }, reports: [] });
});

test("each retyped reference is told with its path and text, so a text setting can read the text", () => {
  const { document } = readConfigSource("a: ${V}\nb: [x${W}]\nc: '${V}'\nd: ${W}\n", "x");
  const retyped: string[] = [];
  interpolateDocument(
    document,
    { V: "007", W: "true" },
    () => {},
    (path, text) => retyped.push(`${formatFieldPath(path)}=${text}`),
  );
  expect(document.toJS()).toEqual({ a: 7, b: ["xtrue"], c: "007", d: true });
  expect(retyped).toEqual(["a=007", "d=true"]);
});

test("quoted and block scalars stay strings", () => {
  const text = ["a: '${V}'", 'b: "${V}"', "c: |", "  ${V}", "d: >-", "  ${V}", ""].join("\n");
  expect(interpolate(text, { V: "42" }).value).toEqual({ a: "42", b: "42", c: "42\n", d: "42" });
});

test("the whole plain text is typed after substitution, as if it had been written", () => {
  expect(interpolate("v: ${V}0\n", { V: "1" }).value).toEqual({ v: 10 });
  expect(interpolate("v: x${V}\n", { V: "1" }).value).toEqual({ v: "x1" });
});

test("walks lists and nested maps; reports paths; leaves non-strings and keys alone", () => {
  const text = "a: [1, '${A}', { b: '${B}' }]\n${C}: 2\nn: 3\n";
  expect(interpolate(text, { A: "x" })).toEqual({
    value: { a: [1, "x", { b: "${B}" }], "${C}": 2, n: 3 },
    reports: ["a[2].b: environment variable B is not set"],
  });
});

test("an anchored value is interpolated once, where it is defined", () => {
  expect(interpolate("a: &x '${V}'\nb: *x\n", { V: "v" })).toEqual({
    value: { a: "v", b: "v" },
    reports: [],
  });
});
