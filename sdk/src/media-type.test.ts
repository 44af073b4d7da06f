import { describe, expect, it } from "vitest";
import { bestTime } from "../test/best-time.js";
import {
  charsetOf,
  isMediaType,
  JSON_TYPE,
  parametersOf,
  repeatedParameter,
} from "./media-type.js";

describe("isMediaType", () => {
  it("takes type/subtype tokens and token or quoted-string parameters (RFC 9110 8.3.1)", () => {
    for (const value of [
      "text/plain",
      "Application/CloudEvents+JSON; charset=UTF-8",
      "application/vnd.a+b+json",
      "text/plain;charset=utf-8",
      "text/plain ; charset=utf-8 ;",
      "text/plain;;",
      'text/plain; x="a;b, c"; y="\\"q\\"\\\\"',
      'text/plain; x=""',
      "text/plain;\tx=1\t",
    ]) {
      expect(isMediaType(value), value).toBe(true);
    }
  });

  it("refuses what is no media type, or what no header can carry", () => {
    for (const value of [
      "",
      "json",
      "text/",
      "/plain",
      "text plain",
      "text/plain x",
      " text/plain",
      "text/plain; a",
      "text/plain; a=",
      "text/plain; a = b",
      "text/plain; a=b c",
      'text/plain; a="b',
      'text/plain; a="b"c',
      'text/plain; a=b"c"',
      "text/plain; x=€",
      'text/plain; x="é"',
      'text/plain; x="\\é"',
      "text/plain; x=a\nb",
      "text/plain, application/json",
      "text/pl(ain)",
    ]) {
      expect(isMediaType(value), value).toBe(false);
    }
    expect(isMediaType(42)).toBe(false);
  });

  it("answers long hostile values at once (no backtracking)", () => {
    const start = performance.now();
    expect(isMediaType(`a/b${";   ".repeat(20_000)}@`)).toBe(false);
    expect(isMediaType(`a/b; x="${"\\".repeat(40_001)}`)).toBe(false);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("parametersOf and charsetOf", () => {
  it("read each parameter once, a quoted value whole and unquoted", () => {
    expect(parametersOf('text/plain; Charset="UTF-8"; x="a;b\\"c"; y=1')).toEqual([
      ["charset", "UTF-8"],
      ["x", 'a;b"c'],
      ["y", "1"],
    ]);
    expect(charsetOf('text/plain; charset="ISO-8859-1"')).toBe("iso-8859-1");
    expect(charsetOf('text/plain; x="a;charset=latin1"')).toBeUndefined();
    expect(charsetOf("text/plain")).toBeUndefined();
    expect(charsetOf(undefined)).toBeUndefined();
    expect(repeatedParameter("text/plain; charset=latin1; CHARSET=utf-8")).toBe("charset");
    expect(repeatedParameter('text/plain; x="a; x=b"; y=1')).toBeUndefined();
  });

  it("repeatedParameter takes time linear in the number of parameters", () => {
    // A received datacontenttype of 256 KiB (the gateway's largest event) holds 30,000 distinct
    // parameters: each was looked for among all the others (indexOf), 1.3 s of a sink's event
    // loop per event, minutes for a batch, hours for an unsigned 64 MiB body. Compared with
    // charsetOf over the same text (one pass), so the machine's speed cancels out: the
    // quadratic search was over 50 times slower, a linear one is about as fast.
    const many = `text/plain${Array.from({ length: 20_000 }, (_, i) => `;p${i}=1`).join("")}`;
    expect(repeatedParameter(many)).toBeUndefined();
    expect(repeatedParameter(`${many};P19999=2`)).toBe("p19999");
    const baseline = bestTime(() => charsetOf(many));
    expect(bestTime(() => repeatedParameter(many))).toBeLessThan(baseline * 5);
  });
});

describe("JSON_TYPE", () => {
  it("is */json and */*+json, parameters aside (JSON format 3.1.1)", () => {
    for (const type of ["application/json", "text/json", "model/gltf+json", "a/b+c+json; x=1"]) {
      expect(JSON_TYPE.test(type), type).toBe(true);
    }
    for (const type of ["application/jsonl", "text/plain; x=a+json", "application/json-seq"]) {
      expect(JSON_TYPE.test(type), type).toBe(false);
    }
  });
});
