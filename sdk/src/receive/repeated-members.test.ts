import { describe, expect, it } from "vitest";
import { decodeBatch, decodeStructured } from "./decode-event.js";
import { MalformedMessage } from "./receive-errors.js";
import { repeatedMembers } from "./repeated-members.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const EVENT = '"specversion":"1.0","source":"/s","type":"t"';

describe("repeatedMembers", () => {
  it("names the first member an object gives twice, escapes read, nested objects aside", () => {
    expect(repeatedMembers('{"a":1,"b":2,"a":3}')).toEqual(["a"]);
    expect(repeatedMembers('{"a":1,"\\u0061":2}')).toEqual(["a"]);
    expect(repeatedMembers('{"a":{"x":1,"x":2},"b":["}",{"a":1}],"c":"\\"a\\""}')).toEqual([
      undefined,
    ]);
    expect(repeatedMembers(' [ {"a":1} , 5, {"b":1,"b":2}, {} ] ')).toEqual([
      undefined,
      undefined,
      "b",
      undefined,
    ]);
    expect(repeatedMembers("[]")).toEqual([]);
    expect(repeatedMembers('{"a":-1.5e3,"b":true,"c":null,"d":[1,[2]],"a":0}')).toEqual(["a"]);
  });
});

describe("an attribute given twice in the JSON format is malformed (spec: at most once)", () => {
  it("in structured and batch mode, rather than the last one read", () => {
    // Before, JSON.parse kept the last "id": another reader (a proxy in front of the sink) may
    // take the first, and the two would see different events.
    expect(() => decodeStructured(bytes(`{${EVENT},"id":"a","id":"b"}`))).toThrow(
      "id is given twice in the event object",
    );
    expect(() => decodeStructured(bytes(`{${EVENT},"id":"a","data":1,"data":2}`))).toThrow(
      MalformedMessage,
    );
    expect(() =>
      decodeBatch(bytes(`[{${EVENT},"id":"a"},{${EVENT},"id":"b","type":"u"}]`)),
    ).toThrow("event 1 of the batch: type is given twice in the event object");
    // A name that is no attribute name is quoted, as elsewhere: a line break in it reached the
    // message as it was, and a sink that logs the error wrote a forged log line.
    expect(() => decodeStructured(bytes(`{${EVENT},"a\\nb":1,"a\\nb":2}`))).toThrow(
      '"a\\nb" is given twice in the event object',
    );
    expect(decodeStructured(bytes(`{${EVENT},"id":"a","data":{"k":1,"k":2}}`)).data).toEqual({
      k: 2,
    });
  });
});
