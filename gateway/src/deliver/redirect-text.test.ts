import { describe, expect, it } from "vitest";
import { MAX_ERROR_BYTES } from "./failure-text.js";
import { redirectText } from "./redirect-text.js";

const sent = "https://hooks.example.com/in?team=a";
const FOLLOW = "(redirects are not followed)";

describe("redirectText", () => {
  it("names the Location, resolved against the URL sent to", () => {
    expect(redirectText(301, "/v2/in", sent, "")).toBe(
      `HTTP 301 redirect to https://hooks.example.com/v2/in ${FOLLOW}`,
    );
    expect(redirectText(308, "https://other.example.net/x", sent, "moved")).toBe(
      `HTTP 308 redirect to https://other.example.net/x ${FOLLOW}: moved`,
    );
  });

  it("hides credentials in the Location: credential-like query values, userinfo", () => {
    expect(
      redirectText(
        302,
        "https://u:pa55word@login.example.com/cb?code=abc&state=ok&api_key=k",
        sent,
        "",
      ),
    ).toBe(
      `HTTP 302 redirect to https://login.example.com/cb?code=redacted&state=ok&api_key=redacted ${FOLLOW}`,
    );
  });

  it("hides the same credentials where the body repeats the Location", () => {
    const location = "/login?token=tok-123456789&next=%2Fin";
    const text = redirectText(302, location, sent, `Found. Redirecting to ${location}`);
    expect(text).toBe(
      `HTTP 302 redirect to https://hooks.example.com/login?token=redacted&next=%2Fin ${FOLLOW}: Found. Redirecting to /login?token=[redacted]&next=%2Fin`,
    );
    expect(text).not.toContain("tok-123456789");
  });

  it("a long secret value is hidden in the body wherever it stands, not only after its name", () => {
    const text = redirectText(
      307,
      "/in?sig=0123456789abcdef",
      sent,
      "sig 0123456789abcdef expired",
    );
    expect(text).not.toContain("0123456789abcdef");
    expect(text).toContain("sig [redacted] expired");
  });

  it("a Location that is not a URL is not shown", () => {
    expect(redirectText(302, "http://[::1", sent, "")).toBe(
      "HTTP 302 redirect to a Location that is not a URL (redirects are not followed)",
    );
  });

  it("stays within the failure text limit", () => {
    const text = redirectText(301, `/${"x".repeat(5_000)}`, sent, "y".repeat(5_000));
    expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(MAX_ERROR_BYTES);
    expect(text.startsWith("HTTP 301 redirect to https://hooks.example.com/xxx")).toBe(true);
  });
});
