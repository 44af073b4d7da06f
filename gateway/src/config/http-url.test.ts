import { expect, test } from "vitest";
import { hasUserinfo, isAbsoluteHttpUrl } from "./http-url.js";

test.each([
  "http://127.0.0.1:9000/thumbnail",
  "https://example.com",
  "https://example.com/a?b=c#d",
  "HTTPS://EXAMPLE.COM/",
  "http://[::1]:8080/",
  "https://user:pass@example.com/",
])("accepts %s", (url) => {
  expect(isAbsoluteHttpUrl(url)).toBe(true);
});

test.each([
  "",
  "/thumbnail",
  "example.com/thumbnail",
  "ftp://example.com/",
  "ws://example.com/",
  "mailto:a@example.com",
  "http:example.com",
  "http:/example.com",
  "http://",
  "http:///path",
  " http://example.com",
  "http://example.com ",
  "http://exa mple.com/",
  "http://example.com/a b",
  "http://example.com/\n",
  "http://exa%mple.com/",
])("rejects %j", (url) => {
  expect(isAbsoluteHttpUrl(url)).toBe(false);
});

test.each([
  "https://user:pass@example.com/",
  "http://user@127.0.0.1:9000/hook",
  "http://:secret@example.com",
  "http://@example.com/",
  "HTTP://a%40b:c@example.com/",
  "http://a@b@example.com/",
])("finds the userinfo in %s", (url) => {
  expect(isAbsoluteHttpUrl(url)).toBe(true);
  expect(hasUserinfo(url)).toBe(true);
  expect(new URL(url).host).toMatch(/^(example\.com|127\.0\.0\.1:9000)$/);
});

test.each([
  "https://example.com/",
  "https://example.com/@team",
  "https://example.com?to=a@b",
  "https://example.com#a@b",
  "http://example.com\\@evil.example/",
  "http://[::1]:8080/a@b",
])("finds no userinfo in %s", (url) => {
  expect(hasUserinfo(url)).toBe(false);
  const parsed = new URL(url);
  expect([parsed.username, parsed.password]).toEqual(["", ""]);
});
