import { describe, expect, test } from "vitest";
import { findDuplicateMember } from "./json-duplicate-member.js";

describe("findDuplicateMember", () => {
  test.each([
    ['{"sink":"a","sink":"b"}', ["sink"]],
    ['{"delivery":{"retry":1,"retry":2}}', ["delivery", "retry"]],
    ['{"filters":[{"exact":{"a":"1"}},{"exact":{"b":"1","b":"2"}}]}', ["filters", 1, "exact", "b"]],
    // Names compare decoded: an escape spells the same name.
    ['{"sink":"a","\\u0073ink":"b"}', ["sink"]],
    ['[{"a":1},{"x":[1,{"y":1,"y":2}]}]', [1, "x", 1, "y"]],
  ])("%s repeats %j", (text, path) => {
    expect(findDuplicateMember(text)).toEqual(path);
  });

  test.each([
    '{"a":1,"b":{"a":1}}', // the same name in another object
    '[{"a":1},{"a":2}]',
    '{"a":"{\\"a\\":1,\\"a\\":2}"}', // braces and quotes inside a string are text
    '{"a":"x\\\\","b":"\\"b\\""}', // an escaped backslash before the closing quote
    '"just a string"',
    "[]",
    "{}",
    ' { "a" : [ 1 , 2 ] , "b" : null } ',
  ])("%s has none", (text) => {
    expect(findDuplicateMember(text)).toBeUndefined();
  });

  test("any depth without recursion", () => {
    const deep = `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`;
    expect(findDuplicateMember(deep)).toBeUndefined();
  });
});
