import { describe, expect, it } from "vitest";
import { answerWebhookHandshake } from "./answer-handshake.js";

const options = (headers: Record<string, string>) =>
  new Request("http://sink.test/hook", { method: "OPTIONS", headers });

describe("answerWebhookHandshake (http-webhook.md 4.2)", () => {
  it("consents to Herald's origin, granting the rate asked for, or * when none is", () => {
    const asked = answerWebhookHandshake(
      options({ "WebHook-Request-Origin": "herald", "WebHook-Request-Rate": "120" }),
    );
    expect(asked.headers.get("webhook-allowed-origin")).toBe("herald");
    expect(asked.headers.get("webhook-allowed-rate")).toBe("120");
    expect(asked.headers.get("allow")).toBe("POST, OPTIONS");
    const free = answerWebhookHandshake(options({ "WebHook-Request-Origin": "herald" }));
    expect(free.headers.get("webhook-allowed-rate")).toBe("*");
  });

  it("grants at most maxRate", () => {
    const limited = (rate?: string) =>
      answerWebhookHandshake(
        options({
          "WebHook-Request-Origin": "herald",
          ...(rate && { "WebHook-Request-Rate": rate }),
        }),
        { maxRate: 60 },
      ).headers.get("webhook-allowed-rate");
    expect(limited("120")).toBe("60");
    expect(limited("30")).toBe("30");
    expect(limited()).toBe("60");
  });

  it("gives no consent to another origin, no origin, or another method, whatever the status", () => {
    for (const request of [
      options({ "WebHook-Request-Origin": "evil.example.com" }),
      options({}),
      new Request("http://sink.test/hook", {
        method: "POST",
        headers: { "WebHook-Request-Origin": "herald" },
      }),
    ]) {
      const answer = answerWebhookHandshake(request);
      expect(answer.headers.get("webhook-allowed-origin")).toBeNull();
      expect(answer.headers.get("webhook-allowed-rate")).toBeNull();
    }
    const any = answerWebhookHandshake(options({ "WebHook-Request-Origin": "x.example.com" }), {
      origins: "*",
    });
    expect(any.headers.get("webhook-allowed-origin")).toBe("x.example.com");
  });

  it("answers a delivery routed to it by mistake (not OPTIONS) 405, never a 2xx that loses it", () => {
    const answer = answerWebhookHandshake(
      new Request("http://sink.test/hook", {
        method: "POST",
        headers: { "WebHook-Request-Origin": "herald", "ce-id": "1" },
        body: "{}",
      }),
    );
    expect(answer.status).toBe(405);
    expect(answer.headers.get("allow")).toBe("OPTIONS");
    expect(answerWebhookHandshake(options({ "WebHook-Request-Origin": "herald" })).status).toBe(
      204,
    );
  });

  it("matches the origin as DNS names match, without case, and echoes it as sent", () => {
    const answer = answerWebhookHandshake(
      options({ "WebHook-Request-Origin": "Events.Example.COM" }),
      { origins: ["events.example.com"] },
    );
    expect(answer.headers.get("webhook-allowed-origin")).toBe("Events.Example.COM");
    const herald = answerWebhookHandshake(options({ "WebHook-Request-Origin": "herald" }), {
      origins: ["Herald"],
    });
    expect(herald.headers.get("webhook-allowed-origin")).toBe("herald");
  });

  it("a maxRate that is not a positive integer is a TypeError", () => {
    expect(() => answerWebhookHandshake(options({}), { maxRate: 0 })).toThrow(TypeError);
  });

  it("origins that are neither a list of names nor * are a TypeError that says so", () => {
    for (const origins of ["herald", ["herald", 7], null]) {
      expect(() =>
        answerWebhookHandshake(options({ "webhook-request-origin": "herald" }), {
          origins: origins as unknown as readonly string[],
        }),
      ).toThrow('origins must be an array of origin names (["herald"]) or "*"');
    }
  });
});
