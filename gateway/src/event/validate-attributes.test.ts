import { describe, expect, it } from "vitest";
import type { AttributeValue } from "./cloud-event.js";
import { validateAttributes } from "./validate-attributes.js";

const base = { specversion: "1.0", id: "1", source: "/orders", type: "com.example.created" };
const problems = (extra: Record<string, AttributeValue>, omit: string[] = []) => {
  const attrs: Record<string, AttributeValue> = { ...base, ...extra };
  for (const name of omit) delete attrs[name];
  return validateAttributes(attrs).map((v) => v.attribute);
};

describe("validateAttributes (CloudEvents 1.0.2)", () => {
  it("accepts a minimal event", () => {
    expect(problems({})).toEqual([]);
  });

  it.each(["id", "source", "specversion", "type"])("requires %s", (name) => {
    expect(problems({}, [name])).toEqual([name]);
  });

  it.each(["id", "source", "type", "subject", "dataschema", "datacontenttype"])(
    "rejects an empty %s",
    (name) => {
      expect(problems({ [name]: "" })).toEqual([name]);
    },
  );

  it("accepts only specversion 1.0", () => {
    expect(problems({ specversion: "0.3" })).toEqual(["specversion"]);
    expect(problems({ specversion: 1 })).toEqual(["specversion"]);
  });

  it("requires core attributes to be strings", () => {
    expect(problems({ id: 5 })).toEqual(["id"]);
    expect(problems({ time: true })).toEqual(["time"]);
  });

  it.each([
    ["2018-04-05T17:31:00Z", true],
    ["2018-04-05T17:31:00.123456+02:00", true],
    ["2016-12-31T23:59:60Z", true],
    ["1990-12-31T15:59:60-08:00", true],
    ["2017-01-01T05:29:60+05:30", true],
    ["2018-04-05T17:31:60Z", false],
    ["2016-12-31T23:59:60+01:00", false],
    ["2024-02-29t00:00:00z", true],
    ["2023-02-29T00:00:00Z", false],
    ["2018-04-05 17:31:00Z", false],
    ["2018-04-05T17:31:00", false],
    ["2018-13-05T17:31:00Z", false],
    ["2018-04-31T17:31:00Z", false],
    ["2018-04-05T24:00:00Z", false],
    ["1712345678", false],
  ])("time %s valid=%s (RFC 3339)", (time, valid) => {
    expect(problems({ time })).toEqual(valid ? [] : ["time"]);
  });

  it.each([
    ["/orders", true],
    ["https://example.com/orders?x=1#frag", true],
    ["urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", true],
    ["mailto:ops@example.com", true],
    ["orders", true],
    ["http://[::1]:8080/x", true],
    ["has space", false],
    ["1http://bad-scheme", false],
    ["/bad%zzpercent", false],
    ["/bad[bracket]", false],
    ['/quote"', false],
    ["//host.example:8080/path", true],
    ["https://user:pw@host.example/p", true],
    ["http://[::1]/a#b", true],
    ["/a?b=c:d@e#f/g?h", true],
    ["http://host:port/", false],
    ["http://a@b@c/", false],
    ["http://a:1:2/", false],
    ["//a:b", false],
    ["/a#b#c", false],
  ])("source %s valid=%s (URI-reference)", (source, valid) => {
    expect(problems({ source })).toEqual(valid ? [] : ["source"]);
  });

  it.each([
    ["https://example.com/schema.json", true],
    ["urn:example:schema", true],
    ["/relative/schema", false],
    ["schema.json", false],
    ["https://schemas.example.com:x/s", false],
    ["https://schemas.example.com/s#a#b", false],
  ])("dataschema %s valid=%s (absolute URI)", (dataschema, valid) => {
    expect(problems({ dataschema })).toEqual(valid ? [] : ["dataschema"]);
  });

  it("checks extension names", () => {
    expect(problems({ myext: "x", ext2: "y" })).toEqual([]);
    expect(problems({ MyExt: "x" })).toEqual(["MyExt"]);
    expect(problems({ "my-ext": "x" })).toEqual(["my-ext"]);
    expect(problems({ my_ext: "x" })).toEqual(["my_ext"]);
  });

  it("checks extension values against the type system", () => {
    expect(problems({ count: 2_147_483_647, neg: -2_147_483_648, flag: false })).toEqual([]);
    expect(problems({ count: 2_147_483_648 })).toEqual(["count"]);
    expect(problems({ count: 1.5 })).toEqual(["count"]);
  });

  it("rejects control characters, lone surrogates and noncharacters in Strings", () => {
    expect(problems({ subject: "a\nb" })).toEqual(["subject"]);
    expect(problems({ id: "a\u0000" })).toEqual(["id"]);
    expect(problems({ ext: "x\u0085" })).toEqual(["ext"]);
    expect(problems({ ext: "\ud800" })).toEqual(["ext"]);
    expect(problems({ ext: "\ufffe" })).toEqual(["ext"]);
    expect(problems({ ext: "emoji 😀 ok" })).toEqual([]);
  });

  it.each([
    ["U+FFFE", "a\ufffe"],
    ["U+FFFF", "\uffff"],
    ["U+FDD0", "\ufdd0"],
    ["U+FDEF", "x\ufdefy"],
    ["U+1FFFE", "\ud83f\udffe"],
    ["U+10FFFF", "\udbff\udfff"],
  ])("says a noncharacter (%s) is a noncharacter, not a control character", (_, ext) => {
    expect(validateAttributes({ ...base, ext })).toEqual([
      { attribute: "ext", message: "must not contain Unicode noncharacters" },
    ]);
  });

  it("names control characters first when a String holds both", () => {
    expect(validateAttributes({ ...base, ext: "\ufffe\n" })).toEqual([
      { attribute: "ext", message: "must not contain control characters" },
    ]);
  });

  it("rejects a datacontenttype that is not a media type", () => {
    expect(problems({ datacontenttype: "json" })).toEqual(["datacontenttype"]);
    expect(problems({ datacontenttype: "application/json; charset=utf-8" })).toEqual([]);
  });

  it("rejects a datacontenttype that gives a parameter twice (readers disagree on which counts)", () => {
    const twice = validateAttributes({
      ...base,
      datacontenttype: "text/plain; charset=iso-8859-1; CHARSET=utf-8",
    });
    expect(twice).toEqual([
      {
        attribute: "datacontenttype",
        message: expect.stringContaining("gives the parameter charset twice"),
      },
    ]);
    expect(problems({ datacontenttype: 'text/plain; x="a; x=b"; charset=utf-8' })).toEqual([]);
  });
});

describe("validateAttributes: media types and inherited names", () => {
  it.each([
    ["application/json", true],
    ["text/plain; charset=utf-8", true],
    ['multipart/mixed; boundary="a b;c"', true],
    ["application/vnd.api+json;v=1;;", true],
    ["text / plain", false],
    ["text/plain, application/json", false],
    ["text/plain; x=€", false],
    ["text/plain; x", false],
    ["/json", false],
  ])("datacontenttype %s valid=%s (RFC 9110 8.3.1)", (datacontenttype, valid) => {
    expect(problems({ datacontenttype })).toEqual(valid ? [] : ["datacontenttype"]);
  });

  it("treats names like constructor as ordinary extensions", () => {
    expect(problems({ constructor: "abc", tostring: "x", hasownproperty: 1 })).toEqual([]);
  });
});
