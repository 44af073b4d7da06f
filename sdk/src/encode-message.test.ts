import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import {
  encodeBatch,
  encodeBinary,
  encodeEvent,
  encodeStructured,
  MAX_BINARY_HEADER_BYTES,
  STRUCTURED_CONTENT_TYPE,
} from "./encode-message.js";
import { toEnvelope } from "./event-input.js";

const defaults = { source: "/s", newId: () => "id-1", now: () => Date.UTC(2025, 0, 1) };
const text = (body: Uint8Array | undefined) => new TextDecoder().decode(body);

describe("a string under a JSON datacontenttype", () => {
  it("is the JSON value it holds, the same in binary and structured mode", () => {
    for (const datacontenttype of [
      "application/json",
      "application/cloudevents+json",
      "text/json; charset=utf-8",
    ]) {
      const env = toEnvelope({ type: "t", datacontenttype, data: '{"a": [1, 2]}' }, defaults);
      expect(JSON.parse(text(encodeBinary(env).body))).toEqual({ a: [1, 2] });
      expect(JSON.parse(text(encodeStructured(env).body)).data).toEqual({ a: [1, 2] });
    }
    // A JSON string value is written as JSON text too.
    const quoted = toEnvelope(
      { type: "t", datacontenttype: "application/json", data: '"hi"' },
      defaults,
    );
    expect(text(encodeBinary(quoted).body)).toBe('"hi"');
    expect(JSON.parse(text(encodeStructured(quoted).body)).data).toBe("hi");
  });

  it("is JSON under any */json or */*+json type (JSON format 3.1.1), not only application/ and text/", () => {
    // Before, only application/... and text/... with a suffix of [\w.-] counted: under
    // model/gltf+json (an IANA type) the string went into the JSON format as an encoded JSON
    // document, which 3.1.1 forbids ("MUST be stored directly as a JSON value").
    for (const datacontenttype of [
      "model/gltf+json",
      "example/json",
      "application/vnd.a+b+json; charset=utf-8",
      "Application/JSON ; charset=utf-8",
    ]) {
      const env = toEnvelope({ type: "t", datacontenttype, data: '{"a":1}' }, defaults);
      expect(JSON.parse(text(encodeStructured(env).body)).data, datacontenttype).toEqual({ a: 1 });
      expect(text(encodeBinary(env).body)).toBe('{"a":1}');
    }
    // A parameter that ends in json makes no JSON type; neither does a longer subtype.
    for (const datacontenttype of ['text/plain; profile="x+json"', "application/jsonl"]) {
      const env = toEnvelope({ type: "t", datacontenttype, data: '{"a":1}' }, defaults);
      expect(JSON.parse(text(encodeStructured(env).body)).data, datacontenttype).toBe('{"a":1}');
    }
  });

  it("JSON data under a type that is not JSON is its JSON text, a string in every mode (JSON format 3.1.1)", () => {
    // Before, structured and batch mode wrote {"a":1} as the `data` object under application/xml,
    // where 3.1.1 requires a string (the gateway refused it, 400), while binary mode sent the
    // same JSON text as its body.
    for (const [datacontenttype, data, json] of [
      ["application/xml", { a: 1 }, '{"a":1}'],
      ["text/plain", 5, "5"],
      ["application/vnd.order.v1", { city: "Köln" }, '{"city":"Köln"}'],
    ] as const) {
      const env = toEnvelope({ type: "t", datacontenttype, data }, defaults);
      expect(JSON.parse(text(encodeStructured(env).body)).data, datacontenttype).toBe(json);
      expect(text(encodeBinary(env).body)).toBe(json);
    }
  });

  it("that is not JSON text is a mistake, found before anything is sent", () => {
    expect(() =>
      toEnvelope({ type: "t", datacontenttype: "application/json", data: "a string" }, defaults),
    ).toThrow(/not JSON text; pass the value itself/);
    // Under another type a string is text, as it is.
    const plain = toEnvelope({ type: "t", datacontenttype: "text/csv", data: "a,b" }, defaults);
    expect(text(encodeBinary(plain).body)).toBe("a,b");
  });
});

describe("toEnvelope", () => {
  it("fills in specversion, id, source and time, and drops null or undefined members", () => {
    const env = toEnvelope({ type: "t", subject: undefined, schemaurl: null }, defaults);
    expect(env.attributes).toEqual({
      specversion: "1.0",
      id: "id-1",
      source: "/s",
      type: "t",
      time: "2025-01-01T00:00:00.000Z",
    });
    expect(env.payload).toBeUndefined();
  });

  it("keeps the caller's id, source and time (a Date becomes RFC 3339)", () => {
    const env = toEnvelope(
      { type: "t", id: "mine", source: "/other", time: new Date(Date.UTC(2024, 1, 2)) },
      defaults,
    );
    expect(env.attributes).toMatchObject({
      id: "mine",
      source: "/other",
      time: "2024-02-02T00:00:00.000Z",
    });
  });

  it("reads data_base64 as bytes when there is no data", () => {
    expect(toEnvelope({ type: "t", data_base64: "AQID" }, defaults).payload).toEqual({
      kind: "bytes",
      value: new Uint8Array([1, 2, 3]),
    });
  });

  it("refuses attribute names and values CloudEvents does not allow", () => {
    expect(() => toEnvelope({ type: "t", Bad: "x" }, defaults)).toThrow(/lower-case/);
    expect(() => toEnvelope({ type: "t", ext: { nested: 1 } }, defaults)).toThrow(/integer/);
    expect(() => toEnvelope({ type: "t", ratio: 1.5 }, defaults)).toThrow(/integer/);
    for (const big of [2 ** 31, -(2 ** 31) - 1, 2 ** 53]) {
      expect(() => toEnvelope({ type: "t", count: big }, defaults)).toThrow(TypeError);
      expect(() => toEnvelope({ type: "t", count: big }, defaults)).toThrow(/-2\^31 to 2\^31-1/);
    }
    expect(
      toEnvelope({ type: "t", lo: -(2 ** 31), hi: 2 ** 31 - 1 }, defaults).attributes,
    ).toMatchObject({ lo: -(2 ** 31), hi: 2 ** 31 - 1 });
    expect(() => toEnvelope({ type: "" }, defaults)).toThrow(/type/);
  });

  it("takes a DataView or any typed array as its bytes, not as JSON", () => {
    const buffer = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]).buffer;
    for (const data of [
      new DataView(buffer, 2, 4),
      new Uint16Array(buffer, 2, 2),
      new Int8Array(buffer, 2, 4),
    ]) {
      const env = toEnvelope({ type: "t", data }, defaults);
      expect(env.payload).toEqual({ kind: "bytes", value: new Uint8Array([2, 3, 4, 5]) });
      expect(encodeBinary(env).body).toEqual(new Uint8Array([2, 3, 4, 5]));
      expect(JSON.parse(text(encodeStructured(env).body)).data_base64).toBe("AgMEBQ==");
    }
  });

  it("refuses data that has no JSON form, whatever the mode", () => {
    for (const data of [() => 1, Symbol("s"), { toJSON: () => undefined }]) {
      expect(() => toEnvelope({ type: "t", data }, defaults)).toThrow(TypeError);
      expect(() => toEnvelope({ type: "t", data }, defaults)).toThrow("data has no JSON form");
    }
    expect(() => toEnvelope({ type: "t", data: { n: 1n } }, defaults)).toThrow(TypeError);
  });

  it("refuses a context attribute that is not a non-empty string, the same in every mode", () => {
    // Binary mode would send id 5 as "5" (valid) and structured mode as 5 (refused by the gateway).
    for (const [name, value] of [
      ["id", 5],
      ["id", ""],
      ["subject", true],
      ["subject", ""],
      ["dataschema", 1],
      ["datacontenttype", ""],
      ["time", 0],
    ] as const) {
      expect(() => toEnvelope({ type: "t", [name]: value }, defaults)).toThrow(TypeError);
      expect(() => toEnvelope({ type: "t", [name]: value }, defaults)).toThrow(
        `attribute ${name} must be a non-empty string`,
      );
    }
    expect(() => toEnvelope({ type: 5 as unknown as string }, defaults)).toThrow(
      "attribute type must be a non-empty string",
    );
    // Extensions keep their Integer and Boolean types.
    expect(toEnvelope({ type: "t", count: 5, on: true }, defaults).attributes).toMatchObject({
      count: 5,
      on: true,
    });
  });

  it("refuses a specversion other than 1.0, the only one it writes", () => {
    for (const specversion of ["0.3", "1", 1]) {
      const event = { type: "t", specversion } as { type: string; specversion: string };
      expect(() => toEnvelope(event, defaults)).toThrow(TypeError);
    }
    expect(() => toEnvelope({ type: "t", specversion: "0.3" }, defaults)).toThrow(
      'specversion "0.3" is not written here',
    );
    expect(toEnvelope({ type: "t", specversion: "1.0" }, defaults).attributes.specversion).toBe(
      "1.0",
    );
  });

  it("a time or Timestamp extension that is no RFC 3339 timestamp is a TypeError naming it", () => {
    for (const name of ["time", "expirytime", "deprecationfrom", "deprecationsunset"]) {
      for (const value of ["yesterday", "2025-01-01 12:00:00Z", "2025-02-29T00:00:00Z"]) {
        const make = () => toEnvelope({ type: "t", [name]: value }, defaults);
        expect(make, `${name} ${value}`).toThrow(TypeError);
        expect(make).toThrow(
          `${name} ${JSON.stringify(value)} must be an RFC 3339 timestamp such as 2018-04-05T17:31:00Z`,
        );
      }
    }
    // An Integer is no Timestamp either (the gateway refuses it in every mode).
    expect(() => toEnvelope({ type: "t", expirytime: 1 }, defaults)).toThrow(
      "expirytime 1 must be an RFC 3339 timestamp",
    );
    // Offsets, fractions, lower-case t and z, a leap second: sent as given. A Date is written.
    const given = {
      time: "2025-01-31T13:00:00.5+01:00",
      expirytime: "2025-02-01t00:00:00z",
      deprecationfrom: "1990-12-31T23:59:60Z",
      deprecationsunset: new Date(Date.UTC(2026, 0, 1)),
    };
    expect(toEnvelope({ type: "t", ...given }, defaults).attributes).toMatchObject({
      ...given,
      deprecationsunset: "2026-01-01T00:00:00.000Z",
    });
  });

  it("an invalid Date is a TypeError naming the attribute, not a RangeError", () => {
    const refused = (name: string) =>
      new TypeError(`attribute ${name} is an invalid Date or not in the years 0000-9999`);
    expect(() => toEnvelope({ type: "t", time: new Date(Number.NaN) }, defaults)).toThrow(
      refused("time"),
    );
    expect(() => toEnvelope({ type: "t", due: new Date("never") }, defaults)).toThrow(
      refused("due"),
    );
  });

  it("a Date outside the years 0000-9999 is a TypeError, not a time RFC 3339 cannot write", () => {
    // toISOString writes these years with a sign and six digits: "+010000-01-01T00:00:00.000Z".
    for (const year of [10000, -1]) {
      const time = new Date(Date.UTC(2000, 0, 1));
      time.setUTCFullYear(year);
      expect(() => toEnvelope({ type: "t", time }, defaults)).toThrow(
        "attribute time is an invalid Date or not in the years 0000-9999",
      );
    }
    for (const [year, written] of [
      [0, "0000-01-01T00:00:00.000Z"],
      [9999, "9999-01-01T00:00:00.000Z"],
    ] as const) {
      const time = new Date(Date.UTC(2000, 0, 1));
      time.setUTCFullYear(year);
      expect(toEnvelope({ type: "t", time }, defaults).attributes.time).toBe(written);
    }
  });

  it("refuses data that JSON would write as {} although it holds something", () => {
    class Secret {
      #value = 1;
      get value() {
        return this.#value;
      }
    }
    for (const [data, what] of [
      [new Blob(["abc"]), "a Blob"],
      [new Map([["a", 1]]), "a Map"],
      [new Set([1]), "a Set"],
      [Promise.resolve({ a: 1 }), "a Promise"],
      [new Error("boom"), "an Error"],
      [new Secret(), "a Secret"],
    ] as const) {
      expect(() => toEnvelope({ type: "t", data }, defaults)).toThrow(TypeError);
      expect(() => toEnvelope({ type: "t", data }, defaults)).toThrow(
        `data is ${what.replace("an Error", "a Error")}, which JSON writes as {}`,
      );
    }
    // An empty plain object, one without a prototype, and a class with toJSON are what they say.
    const otherRealm = runInNewContext("({})");
    for (const data of [{}, Object.create(null), { toJSON: () => ({}) }, otherRealm]) {
      expect(toEnvelope({ type: "t", data }, defaults).payload).toEqual({
        kind: "json",
        text: "{}",
      });
    }
  });

  it("puts JSON data in the JSON format as its value", () => {
    const env = toEnvelope({ type: "t", data: { a: [1, "é"], b: null }, ext: "x" }, defaults);
    expect(JSON.parse(text(encodeStructured(env).body))).toEqual({
      specversion: "1.0",
      id: "id-1",
      source: "/s",
      type: "t",
      ext: "x",
      time: "2025-01-01T00:00:00.000Z",
      datacontenttype: "application/json",
      data: { a: [1, "é"], b: null },
    });
    const falsy = toEnvelope({ type: "t", data: 0 }, defaults);
    expect(
      JSON.parse(text(encodeBatch([falsy, falsy]).body)).map((e: { data: unknown }) => e.data),
    ).toEqual([0, 0]);
  });

  it("refuses a source that is not a URI-reference, as createProducer does", () => {
    for (const source of ["", "/a b", "/caf\u00e9", "/a\nb", "/%zz"]) {
      expect(() => toEnvelope({ type: "t", source }, defaults)).toThrow(TypeError);
      expect(() => toEnvelope({ type: "t", source }, defaults)).toThrow(/URI-reference/);
    }
    expect(toEnvelope({ type: "t", source: "urn:a:b" }, defaults).attributes.source).toBe(
      "urn:a:b",
    );
  });
});

describe("encoding", () => {
  const envelope = toEnvelope(
    { type: "t", subject: "Euro € x", count: 3, flag: true, data: { a: "é" } },
    defaults,
  );

  it("binary: ce-* headers percent-encoded, JSON body, size = header names + values + body", () => {
    const m = encodeBinary(envelope);
    expect(m.headers).toEqual({
      "ce-specversion": "1.0",
      "ce-id": "id-1",
      "ce-source": "/s",
      "ce-type": "t",
      "ce-subject": "Euro%20%E2%82%AC%20x",
      "ce-count": "3",
      "ce-flag": "true",
      "ce-time": "2025-01-01T00:00:00.000Z",
      "content-type": "application/json",
    });
    expect(text(m.body)).toBe('{"a":"é"}');
    const headerBytes = Object.entries(m.headers)
      .filter(([k]) => k.startsWith("ce-"))
      .reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(m.size).toBe(headerBytes + 10);
  });

  it("binary: datacontenttype is the Content-Type, a string defaults to text/plain", () => {
    const csv = encodeBinary(
      toEnvelope({ type: "t", data: "a,b", datacontenttype: "text/csv" }, defaults),
    );
    expect(csv.headers["content-type"]).toBe("text/csv");
    expect(csv.headers["ce-datacontenttype"]).toBeUndefined();
    const plain = encodeBinary(toEnvelope({ type: "t", data: "hi" }, defaults));
    expect(plain.headers["content-type"]).toBe("text/plain; charset=utf-8");
    const none = encodeBinary(toEnvelope({ type: "t" }, defaults));
    expect(none.body).toBeUndefined();
    expect(none.headers["content-type"]).toBeUndefined();
  });

  it("structured: the JSON event format, integers and booleans as JSON, bytes as data_base64", () => {
    const m = encodeStructured(envelope);
    expect(m.headers["content-type"]).toBe("application/cloudevents+json; charset=utf-8");
    expect(JSON.parse(text(m.body))).toEqual({
      specversion: "1.0",
      id: "id-1",
      source: "/s",
      type: "t",
      subject: "Euro € x",
      count: 3,
      flag: true,
      time: "2025-01-01T00:00:00.000Z",
      datacontenttype: "application/json",
      data: { a: "é" },
    });
    const bytes = encodeStructured(
      toEnvelope({ type: "t", data: new Uint8Array([255]) }, defaults),
    );
    expect(JSON.parse(text(bytes.body))).toMatchObject({ data_base64: "/w==" });
    expect(JSON.parse(text(bytes.body)).datacontenttype).toBeUndefined();
  });

  // HTTP binding 3: such a Content-Type marks a structured (or batched) message, so the gateway
  // read the data, a whole other event, as the event and published that one instead.
  it("binary mode sends an event whose data is itself an event or batch in structured mode", () => {
    const inner = '{"specversion":"1.0","id":"inner","source":"/i","type":"i"}';
    for (const datacontenttype of [
      "application/cloudevents+json",
      "Application/CloudEvents-Batch+JSON",
    ]) {
      const env = toEnvelope({ type: "t", datacontenttype, data: JSON.parse(inner) }, defaults);
      expect(encodeEvent(env, "binary")).toEqual(encodeStructured(env));
    }
    const plain = toEnvelope({ type: "t", data: { a: 1 } }, defaults);
    expect(encodeEvent(plain, "binary")).toEqual(encodeBinary(plain));
  });

  it("binary mode sends empty data in structured mode, where it is not taken for no data", () => {
    for (const data of ["", new Uint8Array(0)]) {
      const message = encodeEvent(toEnvelope({ type: "t", data }, defaults), "binary");
      expect(message.headers).toEqual({ "content-type": STRUCTURED_CONTENT_TYPE });
      const event = JSON.parse(text(message.body));
      expect(typeof data === "string" ? event.data : event.data_base64).toBe("");
    }
    const none = encodeEvent(toEnvelope({ type: "t" }, defaults), "binary");
    expect(none.headers["ce-type"]).toBe("t");
    expect(none.body).toBeUndefined();
  });

  it("binary mode sends an event whose attributes are over 8 KiB of headers in structured mode", () => {
    // herald serve answers 431 to a header section over 16 KiB; the event itself is valid.
    const big = toEnvelope({ type: "t", subject: "s".repeat(MAX_BINARY_HEADER_BYTES) }, defaults);
    const structured = encodeEvent(big, "binary");
    expect(structured.headers).toEqual({ "content-type": STRUCTURED_CONTENT_TYPE });
    expect(JSON.parse(text(structured.body)).subject).toHaveLength(MAX_BINARY_HEADER_BYTES);
    // Percent-encoding counts: what goes on the wire is measured.
    const encoded = toEnvelope({ type: "t", subject: "é".repeat(1400) }, defaults);
    expect(encodeEvent(encoded, "binary").headers["content-type"]).toBe(STRUCTURED_CONTENT_TYPE);
    const small = toEnvelope(
      { type: "t", subject: "s".repeat(1000), data: "x".repeat(20000) },
      defaults,
    );
    expect(encodeEvent(small, "binary").headers["ce-subject"]).toHaveLength(1000);
  });

  it("batch: a JSON array of events in the JSON format", () => {
    const m = encodeBatch([envelope, toEnvelope({ type: "u" }, defaults)]);
    expect(m.headers["content-type"]).toBe("application/cloudevents-batch+json; charset=utf-8");
    expect(JSON.parse(text(m.body)).map((e: { type: string }) => e.type)).toEqual(["t", "u"]);
  });
});

describe("string and JSON data in the charset of datacontenttype", () => {
  const latin1 = "text/plain; charset=iso-8859-1";

  it("binary: a string is written in its charset, structured keeps it as the string", () => {
    const envelope = toEnvelope({ type: "t", data: "café", datacontenttype: latin1 }, defaults);
    const binary = encodeBinary(envelope);
    expect(binary.headers["content-type"]).toBe(latin1);
    expect([...binary.body!]).toEqual([0x63, 0x61, 0x66, 0xe9]);
    expect(binary.size).toBe(
      Object.entries(binary.headers)
        .filter(([k]) => k.startsWith("ce-"))
        .reduce((n, [k, v]) => n + k.length + v.length, 4),
    );
    expect(JSON.parse(text(encodeStructured(envelope).body))).toMatchObject({
      datacontenttype: latin1,
      data: "café",
    });
    const quoted = toEnvelope(
      { type: "t", data: "ok", datacontenttype: 'text/plain; Charset="US-ASCII"' },
      defaults,
    );
    // A quoted, upper-case charset parameter names the same charset.
    expect(quoted.payload).toMatchObject({ kind: "text", charset: "us-ascii" });
  });

  it("JSON outside UTF-8 escapes non-ASCII characters: the same value in every charset", () => {
    for (const datacontenttype of [
      "application/json; charset=us-ascii",
      "application/json; charset=latin1",
    ]) {
      const m = encodeBinary(
        toEnvelope({ type: "t", data: { city: "Köln €" }, datacontenttype }, defaults),
      );
      expect(text(m.body)).toBe('{"city":"K\\u00f6ln \\u20ac"}');
      expect(JSON.parse(text(m.body))).toEqual({ city: "Köln €" });
    }
    const utf8 = encodeBinary(toEnvelope({ type: "t", data: { city: "Köln" } }, defaults));
    expect(text(utf8.body)).toBe('{"city":"Köln"}');
  });

  it("reads the charset parameter, not a charset= inside another parameter's quoted value", () => {
    // Before, the media type was split at every ";", so x="a;charset=latin1" gave the charset
    // `latin1"` (a TypeError: "not written here") where there is no charset: UTF-8.
    const env = toEnvelope(
      { type: "t", data: "é", datacontenttype: 'text/plain; x="a;charset=latin1"' },
      defaults,
    );
    expect([...encodeBinary(env).body!]).toEqual([0xc3, 0xa9]);
    const quoted = toEnvelope(
      { type: "t", data: "é", datacontenttype: 'text/plain; x="a;b"; charset="ISO-8859-1"' },
      defaults,
    );
    expect([...encodeBinary(quoted).body!]).toEqual([0xe9]);
  });

  it("a character the charset cannot hold, or a charset not written here, is a TypeError", () => {
    expect(() => toEnvelope({ type: "t", data: "5 €", datacontenttype: latin1 }, defaults)).toThrow(
      "data holds € (U+20AC), which iso-8859-1 cannot hold",
    );
    expect(() =>
      toEnvelope(
        { type: "t", data: "é", datacontenttype: "text/plain; charset=us-ascii" },
        defaults,
      ),
    ).toThrow(TypeError);
    expect(() => toEnvelope({ type: "t", data: "a\ud800b" }, defaults)).toThrow(
      "an unpaired surrogate (U+D800)",
    );
    expect(() =>
      toEnvelope(
        { type: "t", data: "hi", datacontenttype: "text/plain; charset=utf-16" },
        defaults,
      ),
    ).toThrow("under charset utf-16");
    expect(() =>
      toEnvelope(
        { type: "t", data: { a: 1 }, datacontenttype: "application/json; charset=utf-16" },
        defaults,
      ),
    ).toThrow(TypeError);
    const bytes = toEnvelope(
      {
        type: "t",
        data: new Uint8Array([0xff, 0xfe]),
        datacontenttype: "text/plain; charset=utf-16",
      },
      defaults,
    );
    expect([...encodeBinary(bytes).body!]).toEqual([0xff, 0xfe]);
  });
});
