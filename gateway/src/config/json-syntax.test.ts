// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in these strings is config text under test.
import { describe, expect, test } from "vitest";
import { checkJsonSyntax } from "./json-syntax.js";

describe("checkJsonSyntax: JSON texts", () => {
  test.each([
    "{}",
    " [ ] ",
    '"a string"',
    "-0",
    "[1e400, 1E+2, 0.5, -12, true, false, null]",
    '{ "a": { "b": [ {}, [], "x" ] } }',
    '{ "escapes": "\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00" }',
    '{\r\n\t"crlf and tabs": 1\r\n}\r\n',
    "\uFEFF{}",
    '{ "a": "${X}, ${Y}", "b": "${", "c": "}" }',
    `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
  ])("%j is JSON, as JSON.parse agrees", (text) => {
    expect(() => JSON.parse(text.replace(/^\uFEFF/, ""))).not.toThrow();
    expect(checkJsonSyntax(text)).toBeUndefined();
  });
});

describe("checkJsonSyntax: what is not JSON, where and why", () => {
  test.each([
    ["", 0, "unexpected end of text (the file is empty); expected a value"],
    ["  \n", 3, "unexpected end of text (the file is empty); expected a value"],
    ['{ "a": 1, }', 8, "a trailing comma before '}' is not JSON"],
    ["[1, 2,\n]", 5, "a trailing comma before ']' is not JSON"],
    ["{ 'a': 1 }", 2, `unexpected "'" (JSON strings take double quotes); expected a key`],
    ["{ a: 1 }", 2, "unexpected 'a'; expected a key in double quotes"],
    ['{ "a" 1 }', 6, "unexpected '1'; expected ':' after the key"],
    ['{ "a": ${PORT} }', 7, "unexpected '$' (in JSON a ${VAR} reference goes inside a string)"],
    [
      '{ "a": 1 } // note',
      11,
      "unexpected '/' after the end of the JSON value (JSON has no comments)",
    ],
    ['{ "a": 1 # note\n}', 9, "unexpected '#' (JSON has no comments); expected ',' or '}'"],
    ["[1 2]", 3, "unexpected '2'; expected ',' or ']'"],
    ['{ "a": [1 }', 10, "unexpected '}'; expected ',' or ']'"],
    ['{ "a": 1', 8, "unexpected end of text; expected ',' or '}'"],
    ['{ "a": "open', 12, "a string is not closed"],
    ['{ "a": "tab\there" }', 11, "control character U+0009 inside a string"],
    ['{ "a": "\\x" }', 8, "invalid escape"],
    ['{ "a": "\\u12" }', 8, "invalid escape"],
    ['{ "a": 01 }', 8, "unexpected '1' in a number"],
    ['{ "a": 1. }', 8, "unexpected '.' in a number"],
    ['{ "a": 1e }', 8, "unexpected 'e' in a number"],
    ['{ "a": +1 }', 7, "unexpected '+'; expected a value"],
    ['{ "a": .5 }', 7, "unexpected '.'; expected a value"],
    ["[-]", 1, "unexpected '-'; expected a number"],
    ["[NaN]", 1, "unexpected 'N'; expected a value"],
    ["[tru]", 1, "unexpected 't'; expected a value"],
    ["listen:\n  port: 1\n", 0, "unexpected 'l'; expected a value"],
    ["{} {}", 3, "unexpected '{' after the end of the JSON value"],
  ])("%j: offset %i, %s", (text, offset, message) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    const error = checkJsonSyntax(text);
    expect(error?.offset).toBe(offset);
    expect(error?.message).toContain(message);
  });
});
