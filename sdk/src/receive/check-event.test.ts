import { describe, expect, it } from "vitest";
import { HeraldError } from "../errors.js";
import { decodeBatch, decodeBinary, decodeStructured } from "./decode-event.js";
import { MalformedMessage } from "./receive-errors.js";

const bytes = (s: string) => new TextEncoder().encode(s);
const REQUIRED = { specversion: "1.0", id: "1", source: "/s", type: "t" };
const structured = (extra: Record<string, unknown>) =>
  decodeStructured(bytes(JSON.stringify({ ...REQUIRED, ...extra })));
const binary = (extra: Record<string, string>, contentType?: string) =>
  decodeBinary(
    new Headers({
      "ce-specversion": "1.0",
      "ce-id": "1",
      "ce-source": "/s",
      "ce-type": "t",
      ...extra,
      ...(contentType === undefined ? {} : { "content-type": contentType }),
    }),
    new Uint8Array(),
  );

describe("attribute values a CloudEvent cannot hold are malformed, in every mode", () => {
  // Before, any string and any number were taken: a subject with a line break reached the
  // handler (and its logs), an extension 1.5 or 2^40, a time "yesterday".
  it("a String with a control character, a noncharacter or an unpaired surrogate (Type System)", () => {
    expect(() => binary({ "ce-subject": "a%0Ab" })).toThrow(
      "subject holds a control character (U+000A), which a CloudEvents String cannot hold",
    );
    expect(() => binary({ "ce-partition": "%EF%B7%90" })).toThrow("a noncharacter (U+FDD0)");
    expect(() => structured({ subject: "a\u0085" })).toThrow(MalformedMessage);
    expect(() => structured({ id: "\ud800" })).toThrow("id holds an unpaired surrogate (U+D800)");
    expect(() => decodeBatch(bytes(JSON.stringify([{ ...REQUIRED, x: "\u0000" }])))).toThrow(
      "event 0 of the batch: x holds a control character (U+0000)",
    );
    expect(structured({ subject: "café \u00a0😀" }).subject).toBe("café \u00a0😀");
  });

  it("a value too long for the checks' regular expressions is MalformedMessage, not a RangeError", () => {
    // Within the 64 MiB maxBytes, a datacontenttype with a quoted parameter of 5 million
    // characters (or a source of 20 million) overflowed the regular expression's backtrack stack:
    // "Maximum call stack size exceeded" escaped receive(), and heraldReceiver answered 500,
    // which the gateway retries, instead of a 400.
    const quoted = `text/plain; x="${"a".repeat(5_000_000)}"`;
    expect(() => structured({ datacontenttype: quoted, data: "x" })).toThrow(MalformedMessage);
    expect(() => structured({ datacontenttype: quoted, data: "x" })).toThrow(
      "datacontenttype is too long to check (5000016 characters)",
    );
  });

  it("a number that is no Integer from -2^31 to 2^31-1 (JSON format 2.2)", () => {
    for (const n of [1.5, 2 ** 31, -(2 ** 31) - 1, 1e12]) {
      expect(() => structured({ n }), String(n)).toThrow(
        "n must be an integer from -2^31 to 2^31-1",
      );
    }
    expect(structured({ n: -(2 ** 31), m: 2 ** 31 - 1, b: true })).toMatchObject({
      n: -(2 ** 31),
      m: 2 ** 31 - 1,
      b: true,
    });
  });

  it("source, dataschema, dataref, time and datacontenttype of the wrong form (spec 3.1, 3.2)", () => {
    expect(() => binary({ "ce-source": "a%20b" })).toThrow(
      "source must be a non-empty URI-reference",
    );
    expect(() => structured({ dataschema: "schemas/a.json" })).toThrow(
      "dataschema must be an absolute URI",
    );
    expect(() => structured({ dataref: "http://a b" })).toThrow("dataref must be a URI-reference");
    // The day in its month and second 60 at 23:59 UTC only, as the gateway checks them.
    for (const time of [
      "yesterday",
      "2025-01-01 12:00:00Z",
      "2025-13-01T00:00:00Z",
      "2025-02-29T00:00:00Z",
      "2025-01-01T12:00:60Z",
    ]) {
      expect(() => structured({ time }), time).toThrow("time must be an RFC 3339 timestamp");
    }
    expect(() => binary({}, "text plain")).toThrow("datacontenttype must be a media type");
    expect(() => binary({}, "text/plain; charset=latin1; charset=utf-8")).toThrow(
      "datacontenttype gives the parameter charset twice",
    );
    expect(() => structured({ subject: "" })).toThrow("subject must be a non-empty string");
    expect(
      structured({
        time: "1990-12-31T23:59:60Z",
        dataschema: "urn:example:s",
        dataref: "/things/1",
        datacontenttype: "text/plain; charset=utf-8",
      }),
    ).toMatchObject({ time: "1990-12-31T23:59:60Z", dataschema: "urn:example:s" });
    expect(binary({ "ce-time": "2025-01-31T12:00:00.123+01:00" }).time).toBe(
      "2025-01-31T12:00:00.123+01:00",
    );
  });
});

describe("extensions whose documents fix a type are checked as the gateway checks them", () => {
  // Before, any value was taken: an expirytime "tomorrow" (a sink's new Date() of it is Invalid
  // Date), a sampledrate 0, a deprecated "yes", all of which the gateway refuses at ingest.
  it("Timestamps, a URI and non-empty Strings, in every mode", () => {
    for (const name of ["expirytime", "deprecationfrom", "deprecationsunset"]) {
      expect(() => binary({ [`ce-${name}`]: "tomorrow" })).toThrow(
        `${name} must be an RFC 3339 timestamp`,
      );
      expect(() => structured({ [name]: 1_700_000_000 })).toThrow(`${name} must be a string`);
      expect(structured({ [name]: "2026-01-01T00:00:00Z" })[name]).toBe("2026-01-01T00:00:00Z");
    }
    expect(() => structured({ deprecationmigration: "docs/v2" })).toThrow(
      "deprecationmigration must be an absolute URI (extensions/deprecation.md)",
    );
    expect(binary({ "ce-deprecationmigration": "https://x.example/v2" }).deprecationmigration).toBe(
      "https://x.example/v2",
    );
    for (const name of ["partitionkey", "sequence", "sequencetype", "severitytext"]) {
      expect(() => structured({ [name]: "" })).toThrow(`${name} must be a non-empty string`);
      expect(() => structured({ [name]: 7 })).toThrow(`${name} must be a string`);
      expect(binary({ [`ce-${name}`]: "a" })[name]).toBe("a");
    }
  });

  it("Integers and Booleans, as JSON values or (binary mode) their canonical strings", () => {
    expect(
      binary({ "ce-sampledrate": "30", "ce-severitynumber": "0", "ce-deprecated": "true" }),
    ).toMatchObject({ sampledrate: "30", severitynumber: "0", deprecated: "true" });
    expect(structured({ sampledrate: 30, severitynumber: 0, deprecated: false })).toMatchObject({
      sampledrate: 30,
      severitynumber: 0,
      deprecated: false,
    });
    expect(structured({ deprecated: "false" }).deprecated).toBe("false");
    expect(() => binary({ "ce-sampledrate": "0" })).toThrow(
      "sampledrate must be an Integer of at least 1 (extensions/sampledrate.md)",
    );
    expect(() => structured({ sampledrate: 1.5 })).toThrow("sampledrate must be an Integer");
    expect(() => binary({ "ce-sampledrate": "030" })).toThrow("sampledrate must be an Integer");
    expect(() => structured({ severitynumber: -1 })).toThrow(
      "severitynumber must be an Integer of at least 0 (extensions/severity.md)",
    );
    expect(() => structured({ severitynumber: 2 ** 31 })).toThrow("severitynumber must be");
    expect(() => binary({ "ce-deprecated": "yes" })).toThrow(
      "deprecated must be a Boolean: true or false (extensions/deprecation.md)",
    );
    expect(() => structured({ deprecated: 1 })).toThrow("deprecated must be a Boolean");
  });
});

describe("a message shows at most 100 characters of the sender's text", () => {
  // Before, a specversion, an attribute name or a datacontenttype charset of 5 million
  // characters (within maxBytes) was repeated whole in the message: the problem document's
  // detail and a sink's log line of 5 MB.
  const big = "x".repeat(5_000_000);
  const messageOf = (event: Record<string, unknown>): string => {
    try {
      decodeStructured(bytes(JSON.stringify({ ...REQUIRED, ...event })));
    } catch (err) {
      expect(err).toBeInstanceOf(HeraldError);
      return (err as Error).message;
    }
    throw new Error("not refused");
  };

  it.each([
    ["specversion", { specversion: big }, 'specversion "xxx'],
    ["an attribute name", { [`A${big}`]: 1 }, '"Axx'],
    [
      "a charset of JSON data",
      { datacontenttype: `application/json; charset=${big}`, data_base64: "AA==" },
      "charset xxx",
    ],
    [
      "a charset of a data string",
      { datacontenttype: `application/xml; charset=${big}`, data: "a" },
      "charset xxx",
    ],
    [
      "a datacontenttype of non-string data",
      { datacontenttype: `application/xml; a=${big}`, data: 1 },
      "datacontenttype application/xml; a=xxx",
    ],
  ])("%s", (_, event, start) => {
    const message = messageOf(event);
    expect(message).toContain(start);
    expect(message).toContain("… (");
    expect(message.length).toBeLessThan(300);
  });

  it("a repeated member name of a batch event", () => {
    const text = `[{"specversion":"1.0","id":"1","source":"/s","type":"t","${big}":1,"${big}":2}]`;
    const err = (() => {
      try {
        decodeBatch(bytes(text));
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(
      /^event 0 of the batch: x{100}… \(5000000 characters\) is given twice/,
    );
  });
});
