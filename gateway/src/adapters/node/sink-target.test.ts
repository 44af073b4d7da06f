import { describe, expect, it } from "vitest";
import { parseSinkTarget } from "./sink-target.js";

describe("parseSinkTarget", () => {
  it("takes a sink URL apart: origin, path and query, Host as the URL has it", () => {
    expect(parseSinkTarget("http://127.0.0.1:9000/hook?x=1&y=%20")).toEqual({
      secure: false,
      origin: { host: "127.0.0.1", port: 9000, key: "127.0.0.1:9000" },
      port: 9000,
      path: "/hook?x=1&y=%20",
      host: "127.0.0.1:9000",
    });
  });

  it("connects to an IPv6 literal without brackets, and to the scheme's default port", () => {
    expect(parseSinkTarget("http://[::1]/")).toMatchObject({
      origin: { host: "::1", port: 80, key: "::1:80" },
      port: undefined,
      host: "[::1]",
    });
    expect(parseSinkTarget("https://example.com").origin.port).toBe(443);
    expect(parseSinkTarget("http://example.com:443/").origin.port).toBe(443);
  });

  it("leaves the fragment out and keeps the path percent-encoded", () => {
    expect(parseSinkTarget("http://h/a b/é?q=\r\n#frag").path).toBe("/a%20b/%C3%A9?q=");
  });

  it.each(["ftp://h/x", "http://h:0/", "http://h:70000/", "not a url"])("refuses %s", (url) => {
    expect(() => parseSinkTarget(url)).toThrow();
  });
});
