import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dataMemberTexts, scanEvents } from "./data-member-text.js";

describe("dataMemberTexts", () => {
  it("returns the data text of a structured event exactly as written", () => {
    const body =
      '{ "id" : "1", "data" : {"n": 12345678901234567890, "f": 1.0, "s": "a\\"}b"} , "x": 1 }';
    expect(dataMemberTexts(body)).toEqual(['{"n": 12345678901234567890, "f": 1.0, "s": "a\\"}b"}']);
  });

  it("handles every element of a batch, including ones without data and non-objects", () => {
    const body = '[{"data":[1,[2]]}, {"id":"x"}, 5, {"data":"s","data":1e400}]';
    expect(dataMemberTexts(body)).toEqual(["[1,[2]]", undefined, undefined, "1e400"]);
  });

  it("decodes escaped keys like JSON.parse does", () => {
    expect(dataMemberTexts('{"d\\u0061ta": 7, "dat": 1}')).toEqual(["7"]);
    expect(dataMemberTexts('{"da\\"ta": 7}')).toEqual([undefined]);
  });

  it("empty batch, empty object", () => {
    expect(dataMemberTexts(" [ ] ")).toEqual([]);
    expect(dataMemberTexts("{}")).toEqual([undefined]);
  });

  it("agrees with JSON.parse on the data value of any JSON object", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue(), (rest, data) => {
        const body = JSON.stringify({ ...rest, data }, null, 1);
        const [text] = dataMemberTexts(body);
        expect(JSON.parse(text!)).toEqual(JSON.parse(body).data);
      }),
      { numRuns: 300 },
    );
  });
});

describe("scanEvents", () => {
  it("names the members written with a fraction or an exponent, the last of a name winning", () => {
    const body =
      '[{"a":1.0,"b":1e2,"c":-2E-1,"d":100,"e":"1.0","data":{"f":1.5}}, {"x":7}, {"y":1.0,"y":1}, 3]';
    expect(scanEvents(body)).toEqual([
      { data: '{"f":1.5}', notIntegers: new Set(["a", "b", "c"]) },
      {},
      { repeated: new Set(["y"]) },
      undefined,
    ]);
    expect(scanEvents('{"n" : 0.5 , "m": -0}')).toEqual([{ notIntegers: new Set(["n"]) }]);
  });
});

describe("scanEvents: repeated member names", () => {
  it("names each member written more than once, escaped spellings included, not inside data", () => {
    expect(scanEvents('{"id":"1","i\\u0064":"2","data":{"x":1,"x":2},"data":3,"id":"4"}')).toEqual([
      { data: "3", repeated: new Set(["id", "data"]) },
    ]);
    expect(scanEvents('[{"a":1},{"a":1,"b":2}]')).toEqual([{}, {}]);
  });
});
