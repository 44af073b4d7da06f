import { describe, expect, it } from "vitest";
import { decodeBatch, decodeBinary, decodeStructured, modeOf } from "./decode-event.js";
import { MalformedMessage, UnsupportedMode } from "./receive-errors.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const headers = (extra: Record<string, string> = {}) =>
  new Headers({
    "ce-specversion": "1.0",
    "ce-id": "1",
    "ce-source": "/s",
    "ce-type": "t",
    ...extra,
  });

describe("modeOf", () => {
  it("tells the three modes apart by Content-Type, case and parameters aside", () => {
    expect(modeOf("application/cloudevents-batch+json; charset=utf-8")).toBe("batch");
    expect(modeOf("Application/CloudEvents+JSON")).toBe("structured");
    expect(modeOf("application/json")).toBe("binary");
    expect(modeOf(null)).toBe("binary");
  });

  it("refuses event formats other than JSON", () => {
    expect(() => modeOf("application/cloudevents+xml")).toThrow(UnsupportedMode);
    expect(() => modeOf("application/cloudevents-batch+avro")).toThrow(UnsupportedMode);
  });
});

describe("decoding", () => {
  it("binary: data by media type; no body, no data", () => {
    expect(
      decodeBinary(headers({ "content-type": "application/vnd.x+json" }), bytes('{"a":1}')).data,
    ).toEqual({ a: 1 });
    expect(decodeBinary(headers({ "content-type": "text/csv" }), bytes("a,b")).data).toBe("a,b");
    expect(
      decodeBinary(headers({ "content-type": "image/png" }), new Uint8Array([1])).data,
    ).toEqual(new Uint8Array([1]));
    expect("data" in decodeBinary(headers(), new Uint8Array())).toBe(false);
  });

  it("malformed: missing attributes, broken JSON, bad percent-encoding, not a batch array", () => {
    expect(() => decodeBinary(new Headers({ "ce-specversion": "1.0" }), new Uint8Array())).toThrow(
      MalformedMessage,
    );
    expect(() =>
      decodeBinary(headers({ "content-type": "application/json" }), bytes("{broken")),
    ).toThrow(/not valid JSON/);
    expect(() => decodeBinary(headers({ "ce-subject": "%E2%82" }), new Uint8Array())).toThrow(
      /percent-encoded/,
    );
    expect(() =>
      decodeStructured(bytes('{"specversion":"0.3","id":"1","source":"/s","type":"t"}')),
    ).toThrow(/specversion/);
    for (const name of ["ce-data_base64", "ce-data", "ce-foo-bar", "ce-x.y"]) {
      expect(() => decodeBinary(headers({ [name]: "AQID" }), new Uint8Array()), name).toThrow(
        MalformedMessage,
      );
      expect(() => decodeBinary(headers({ [name]: "AQID" }), bytes("x")), name).toThrow(
        `header ${name} does not name a CloudEvents attribute`,
      );
    }
    expect(() => decodeBatch(bytes("{}"))).toThrow(/array/);
    expect(() => decodeBatch(bytes('[{"specversion":"1.0"}]'))).toThrow(/event 0 of the batch/);
  });
});
