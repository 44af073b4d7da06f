import { describe, expect, it } from "vitest";
import { jsonElementTexts } from "./json-element-texts.js";

describe("jsonElementTexts", () => {
  it("gives each element of the list the pointer names as written", () => {
    const text =
      '{ "items" : [ {"id":12345678901234567891, "p":1.10} , "a,]}\\"" ,\n[1,[2]], null ,1e400 ] }';
    expect(jsonElementTexts(text, "/items")).toEqual([
      '{"id":12345678901234567891, "p":1.10}',
      '"a,]}\\""',
      "[1,[2]]",
      "null",
      "1e400",
    ]);
  });

  it("follows pointers through objects and arrays, with ~0 and ~1, to the whole document too", () => {
    const text = '{"a/b":{"x~y":[0,{"l":[true,false]}]}}';
    expect(jsonElementTexts(text, "/a~1b/x~0y/1/l")).toEqual(["true", "false"]);
    expect(jsonElementTexts(" [ ] ", "")).toEqual([]);
    expect(jsonElementTexts('[{"k":"v"}]', "")).toEqual(['{"k":"v"}']);
  });

  it("takes the last of repeated keys, as JSON.parse does, and skips keys written with escapes", () => {
    const text = '{"items":[1],"it\\u0065ms":[2,3],"other":{"items":[9]}}';
    expect(JSON.parse(text).items).toEqual([2, 3]);
    expect(jsonElementTexts(text, "/items")).toEqual(["2", "3"]);
  });

  it("is undefined where the pointer names no list", () => {
    for (const pointer of ["/missing", "/n", "/o/items", "/list/5", "/list/01"]) {
      expect(jsonElementTexts('{"n":1,"o":{},"list":[[1]]}', pointer)).toBeUndefined();
    }
  });
});
