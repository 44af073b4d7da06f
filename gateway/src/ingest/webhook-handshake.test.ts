import { describe, expect, it } from "vitest";
import { webhookHandshake } from "./webhook-handshake.js";

const ALLOW = ["POST", "OPTIONS"];

function handshake(headers: [string, string][]): Response {
  return webhookHandshake(new Request("http://gw/events", { method: "OPTIONS", headers }), ALLOW);
}

describe("webhookHandshake (http-webhook.md 4.2)", () => {
  it("grants the requested origin and rate", () => {
    const res = handshake([
      ["WebHook-Request-Origin", "eventemitter.example.com"],
      ["WebHook-Request-Rate", "120"],
    ]);
    expect(res.status).toBe(200);
    expect(res.headers.get("webhook-allowed-origin")).toBe("eventemitter.example.com");
    expect(res.headers.get("webhook-allowed-rate")).toBe("120");
    expect(res.headers.get("allow")).toBe("POST, OPTIONS");
  });

  it("answers * for a rate that is not a positive integer (4.1.4)", () => {
    for (const rate of ["0", "+5", "1.5", "fast"]) {
      const res = handshake([
        ["WebHook-Request-Origin", "a.example"],
        ["WebHook-Request-Rate", rate],
      ]);
      expect(res.headers.get("webhook-allowed-rate")).toBe("*");
    }
  });

  // 4.2.1: the value is the one origin supplied or "*"; a joined "a, b" is neither.
  it("answers * for a repeated WebHook-Request-Origin, never the joined value", () => {
    const res = handshake([
      ["WebHook-Request-Origin", "a.example"],
      ["WebHook-Request-Origin", "b.example"],
    ]);
    expect(res.headers.get("webhook-allowed-origin")).toBe("*");
  });

  // A Latin-1 character is how a runtime hands over a raw byte over 0x7F; echoed, it went back
  // as its UTF-8 (c3 a9 became c3 83 c2 a9 on Node): not the origin sent.
  it("answers * for an origin that is not printable ASCII, never other bytes than were sent", () => {
    for (const origin of ["caf\u00c3\u00a9.example", "caf\u00e9.example"]) {
      const res = handshake([["WebHook-Request-Origin", origin]]);
      expect(res.headers.get("webhook-allowed-origin")).toBe("*");
    }
    const spaced = handshake([["WebHook-Request-Origin", "a b.example"]]);
    expect(spaced.headers.get("webhook-allowed-origin")).toBe("*");
  });

  it("answers * for a repeated WebHook-Request-Rate rather than granting either", () => {
    const res = handshake([
      ["WebHook-Request-Origin", "a.example"],
      ["WebHook-Request-Rate", "10"],
      ["WebHook-Request-Rate", "20"],
    ]);
    expect(res.headers.get("webhook-allowed-rate")).toBe("*");
  });
});
