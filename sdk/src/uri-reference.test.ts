import { describe, expect, it } from "vitest";
import { isAbsoluteUri, isUriReference } from "./uri-reference.js";

describe("isUriReference", () => {
  it.each([
    "/images",
    "images/cat.png",
    "urn:example:images",
    "https://example.com/a?b=c#d",
    "//[::1]:8080/x",
    "/caf%C3%A9",
    "mailto:a@example.com",
    "https://user:pw@example.com:8443/a?b=c:d@e#f/g?h",
  ])("takes %j", (value) => {
    expect(isUriReference(value)).toBe(true);
  });

  it.each([
    "",
    " /images",
    "/images ",
    "/a b",
    "/a\tb",
    "/a\nb",
    "/a\u0000b",
    "/café",
    "/a%zz",
    "/a%2",
    '/"quoted"',
    "/a{b}",
    "/a\\b",
    "1a:b",
    ":x",
    "/a[b]",
    "http://host:port/",
    "http://a@b@c/",
    "//a:1:2",
    "/a#b#c",
  ])("refuses %j", (value) => {
    expect(isUriReference(value)).toBe(false);
  });
});

describe("isAbsoluteUri", () => {
  it.each(["https://example.com/s.json", "urn:example:schema", "mailto:a@example.com"])(
    "takes %j",
    (value) => {
      expect(isAbsoluteUri(value)).toBe(true);
    },
  );

  it.each([
    "schemas/order.json",
    "/schemas/order.json",
    "//example.com/s",
    "",
    "https://ex.com/a b",
  ])("refuses %j", (value) => {
    expect(isAbsoluteUri(value)).toBe(false);
  });
});
