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

  it("refuses a Content-Type repeated or listing several media types, whatever their order", () => {
    // Two Content-Type fields arrive joined: which one decides the mode would be a guess.
    for (const joined of [
      "application/json, application/cloudevents+json",
      "application/cloudevents+json, application/json",
      "text/plain; charset=utf-8, application/cloudevents-batch+json",
    ]) {
      expect(() => modeOf(joined)).toThrow(MalformedMessage);
      expect(() => modeOf(joined)).toThrow("Content-Type is repeated or lists several media types");
    }
    // A comma inside a quoted parameter value is part of one media type.
    expect(modeOf('application/json; profile="a, b"')).toBe("binary");
    expect(modeOf('application/cloudevents+json; x="\\", y"')).toBe("structured");
  });

  it("structured and batch: JSON in UTF-8 only, each parameter once (RFC 8259 8.1, RFC 6838 4.3)", () => {
    // Before, any charset was read as UTF-8: iso-8859-1 bytes became other characters or a 400.
    for (const type of ["application/cloudevents+json", "application/cloudevents-batch+json"]) {
      for (const charset of ["utf-8", "UTF-8", "utf8", "us-ascii", '"utf-8"']) {
        expect(() => modeOf(`${type}; charset=${charset}`)).not.toThrow();
      }
      for (const charset of ["iso-8859-1", "utf-16", "x-unknown"]) {
        expect(() => modeOf(`${type}; charset=${charset}`), charset).toThrow(UnsupportedMode);
      }
      // Which charset counts would depend on the reader (the first, or the last).
      expect(() => modeOf(`${type}; charset=iso-8859-1; Charset=utf-8`)).toThrow(
        "gives the parameter charset twice",
      );
      expect(() => modeOf(`${type}; charset=utf-8; charset=utf-8`)).toThrow(UnsupportedMode);
    }
    // Labelled US-ASCII, a byte over 0x7F says otherwise.
    const event = '{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":"é"}';
    expect(() =>
      decodeStructured(bytes(event), "application/cloudevents+json; charset=us-ascii"),
    ).toThrow(MalformedMessage);
    expect(decodeStructured(bytes(event), "application/cloudevents+json").subject).toBe("é");
    expect(() =>
      decodeBatch(bytes(`[${event}]`), "application/cloudevents-batch+json; charset=US-ASCII"),
    ).toThrow("labelled charset=us-ascii");
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

  it("binary: text and JSON data read in the charset of the Content-Type", () => {
    const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]);
    const read = (contentType: string, body: Uint8Array) =>
      decodeBinary(headers({ "content-type": contentType }), body).data;
    expect(read("text/plain; charset=iso-8859-1", latin1)).toBe("café");
    expect(read('text/plain; Charset="Latin1"', latin1)).toBe("café");
    // ISO-8859-1, not windows-1252 (which TextDecoder gives for this label): 0x80 is U+0080.
    expect(read("text/plain; charset=iso-8859-1", new Uint8Array([0x80]))).toBe("\u0080");
    expect(read("text/plain; charset=us-ascii", bytes("plain"))).toBe("plain");
    expect(() => read("text/plain; charset=us-ascii", latin1)).toThrow(MalformedMessage);
    expect(() => read("text/plain", latin1)).toThrow("the data is not valid utf-8");
    expect(read("application/json; charset=iso-8859-1", bytes('{"c":"K\\u00f6ln"}'))).toEqual({
      c: "Köln",
    });
    expect(read("text/plain; charset=utf-16le", new Uint8Array([0x68, 0, 0x69, 0]))).toBe("hi");
    // A charset the runtime does not know: the bytes, for the handler to read.
    expect(read("text/plain; charset=x-unknown", latin1)).toEqual(latin1);
    // JSON in a charset not read here is a format not understood: 415 (HTTP webhook 2.2), which
    // was a 400, as if the event were broken.
    expect(() => read("application/json; charset=x-unknown", bytes("{}"))).toThrow(UnsupportedMode);
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

  it("JSON format: a null attribute is absent (2.2), a null data is an explicit null (3.1.1)", () => {
    const event = decodeStructured(
      bytes(
        '{"specversion":"1.0","id":"1","source":"/s","type":"t","subject":null,"ext":null,"data_base64":null}',
      ),
    );
    expect(event).toEqual({ specversion: "1.0", id: "1", source: "/s", type: "t" });
    expect("subject" in event).toBe(false);
    const nullData = decodeStructured(
      bytes('{"specversion":"1.0","id":"1","source":"/s","type":"t","data":null}'),
    );
    expect("data" in nullData && nullData.data === null).toBe(true);
  });

  it("JSON format: data and data_base64 together are malformed (3.1.1), not one silently kept", () => {
    const both =
      '{"specversion":"1.0","id":"1","source":"/s","type":"t","data":1,"data_base64":"AA=="}';
    expect(() => decodeStructured(bytes(both))).toThrow(MalformedMessage);
    expect(() => decodeBatch(bytes(`[${both}]`))).toThrow(
      "event 0 of the batch: data and data_base64 must not both be present",
    );
  });

  it("binary: a ce-datacontenttype header is malformed (3.1.1), not a second media type", () => {
    // Without it the event said application/json while its data stayed bytes, unread.
    const message = "header ce-datacontenttype must not be sent in binary mode";
    expect(() =>
      decodeBinary(headers({ "ce-datacontenttype": "application/json" }), bytes('{"a":1}')),
    ).toThrow(message);
    expect(() =>
      decodeBinary(
        headers({ "ce-datacontenttype": "text/plain", "content-type": "application/json" }),
        bytes("{}"),
      ),
    ).toThrow(MalformedMessage);
  });

  it("JSON format: a __proto__ member is malformed, not the event's prototype", () => {
    // Assigned as a member it would set the prototype: attributes seen by `event.subject`
    // but by no `Object.keys`, and required ones taken from it.
    const hidden =
      '{"specversion":"1.0","id":"1","source":"/s","type":"t","__proto__":{"subject":"admin"}}';
    expect(() => decodeStructured(bytes(hidden))).toThrow(
      "__proto__ is not a CloudEvents attribute name",
    );
    const inherited = '{"__proto__":{"specversion":"1.0","id":"1","source":"/s","type":"t"}}';
    expect(() => decodeBatch(bytes(`[${inherited}]`))).toThrow(
      "event 0 of the batch: __proto__ is not a CloudEvents attribute name",
    );
  });

  it("says whether a required attribute is missing or of the wrong type", () => {
    const structured = (extra: string) =>
      decodeStructured(bytes(`{"specversion":"1.0","source":"/s","type":"t"${extra}}`));
    expect(() => structured("")).toThrow("id is required");
    expect(() => structured(',"id":5')).toThrow("id must be a non-empty string");
    // The optional ones ReceivedEvent types as strings are strings, or the type would lie.
    expect(() => structured(',"id":"1","subject":{"a":1}')).toThrow("subject must be a string");
    expect(() => structured(',"id":"1","time":5')).toThrow("time must be a string");
    expect(() => structured(',"id":"1","dataref":["x"]')).toThrow("dataref must be a string");
    expect(() =>
      decodeBatch(
        bytes('[{"specversion":"1.0","id":"1","source":"/s","type":"t","dataschema":true}]'),
      ),
    ).toThrow("event 0 of the batch: dataschema must be a string");
    // An extension is named and typed as a binary-mode header would be (3.1.1, JSON format 2.2).
    expect(() => structured(',"id":"1","Bad-Name":1')).toThrow(
      '"Bad-Name" does not name a CloudEvents attribute',
    );
    expect(() => structured(',"id":"1","a_b":1')).toThrow('"a_b" does not name');
    expect(() => structured(',"id":"1","nested":{"a":1}')).toThrow(
      "nested must be a string, a number or a boolean",
    );
    expect(() =>
      decodeBatch(bytes('[{"specversion":"1.0","id":"1","source":"/s","type":"t","list":[1]}]')),
    ).toThrow("event 0 of the batch: list must be a string, a number or a boolean");
    expect(structured(',"id":"1","flag":false,"n":null,"data":{"Any-Name":[1]}')).toMatchObject({
      flag: false,
      data: { "Any-Name": [1] },
    });
    // An extension no document types may be an Integer (partitionkey is a String: see
    // check-event.test.ts).
    expect(structured(',"id":"1","subject":"s","priority":7')).toMatchObject({
      subject: "s",
      priority: 7,
    });
    expect(() =>
      decodeBinary(new Headers({ "content-type": "application/json" }), bytes("{}")),
    ).toThrow("specversion is required");
    expect(() =>
      decodeStructured(bytes('{"specversion":"0.3","id":"1","source":"/s","type":"t"}')),
    ).toThrow('specversion "0.3" is not supported; only "1.0" is');
  });
});

describe("data by media type, the same in every mode", () => {
  const attributes = { specversion: "1.0", id: "1", source: "/s", type: "t" };
  /** The data a sink gets for the same event in binary mode, as `data` and as `data_base64`. */
  function everyMode(datacontenttype: string, body: Uint8Array, member: unknown): unknown[] {
    const binary = decodeBinary(headers({ "content-type": datacontenttype }), body).data;
    const event = { ...attributes, datacontenttype };
    const data = decodeStructured(bytes(JSON.stringify({ ...event, data: member }))).data;
    const base64 = Buffer.from(body).toString("base64");
    const [batched] = decodeBatch(bytes(JSON.stringify([{ ...event, data_base64: base64 }])));
    return [binary, data, batched!.data];
  }

  it("a type neither JSON nor text/*: the bytes, also for a data string (the XML of JSON format 3.2)", () => {
    // Before, binary mode gave bytes and structured or batch mode the string "<a/>".
    const xml = new Uint8Array([0x3c, 0x61, 0x2f, 0x3e]);
    for (const data of everyMode("application/xml", xml, "<a/>")) expect(data).toEqual(xml);
    // The string is written in the charset of the type, as the gateway writes its body.
    for (const data of everyMode(
      "application/xml; charset=iso-8859-1",
      new Uint8Array([0xe9]),
      "é",
    )) {
      expect(data).toEqual(new Uint8Array([0xe9]));
    }
    for (const data of everyMode("image/svg+xml", bytes("<svg/>"), "<svg/>")) {
      expect(data).toEqual(bytes("<svg/>"));
    }
  });

  it("text/*: a string read in its charset, also from data_base64", () => {
    const latin1 = new Uint8Array([0x63, 0x61, 0x66, 0xe9]);
    for (const data of everyMode("text/plain; charset=iso-8859-1", latin1, "café")) {
      expect(data).toBe("café");
    }
    for (const data of everyMode("text/csv", bytes("a,b"), "a,b")) expect(data).toBe("a,b");
  });

  it("any */json or */*+json: the JSON value, also from data_base64", () => {
    for (const type of ["application/json", "model/gltf+json", "example/json", "a/b+c+json"]) {
      for (const data of everyMode(type, bytes('{"a":[1]}'), { a: [1] })) {
        expect(data, type).toEqual({ a: [1] });
      }
    }
  });

  it("a data member that is no string under a type that is not JSON is malformed (JSON format 3.1.2)", () => {
    const event = (data: unknown, datacontenttype: string) =>
      bytes(JSON.stringify({ ...attributes, datacontenttype, data }));
    for (const [data, type] of [
      [{ a: 1 }, "application/xml"],
      [5, "text/plain"],
      [null, "application/octet-stream"],
    ] as const) {
      expect(() => decodeStructured(event(data, type)), type).toThrow(
        `data must be a string under datacontenttype ${type}`,
      );
    }
    // A character its charset has no bytes for is no text in it: refused as in binary mode.
    expect(() => decodeStructured(event("€", "text/plain; charset=iso-8859-1"))).toThrow(
      MalformedMessage,
    );
    expect(() => decodeStructured(event("\ud800", "application/xml"))).toThrow(MalformedMessage);
  });
});
