import { expect, test } from "vitest";
import { isAbsoluteHttpUrl } from "./http-url.js";

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
