import { describe, expect, test } from "vitest";
import { DEFAULT_DELIVERY } from "../subscriptions/subscription.js";
import { formatFieldPath } from "./field-path.js";
import { MAX_DELIVERY_TIMEOUT_MS, parseDelivery } from "./parse-delivery.js";
import type { Report } from "./report.js";
import { readingConfigText } from "./value-checks.js";

function check(raw: unknown) {
  const reports: string[] = [];
  const report: Report = (path, message, options) => {
    reports.push(`${formatFieldPath(path)}: ${message}${options?.at === "key" ? " (key)" : ""}`);
  };
  return { delivery: parseDelivery(raw, ["delivery"], report), reports };
}

function reportsOf(raw: unknown): string[] {
  const { delivery, reports } = check(raw);
  expect(delivery).toBeUndefined();
  return reports;
}

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

describe("parseDelivery: valid settings", () => {
  test("absent or empty is the default", () => {
    expect(check(undefined)).toEqual({ delivery: DEFAULT_DELIVERY, reports: [] });
    expect(check(null)).toEqual({ delivery: DEFAULT_DELIVERY, reports: [] });
    expect(check({})).toEqual({ delivery: { mode: "binary", timeoutMs: 5_000 }, reports: [] });
  });

  test("every setting, normalised to milliseconds", () => {
    expect(
      check({
        mode: "structured",
        timeout: "PT1M30S",
        retry: 0,
        backoffPolicy: "linear",
        backoffDelay: "1ms",
        backoffMax: "1h",
        deadLetterSink: "https://example.com/dlq",
        signingSecret: secret,
      }),
    ).toEqual({
      delivery: {
        mode: "structured",
        timeoutMs: 90_000,
        retry: 0,
        backoffPolicy: "linear",
        backoffDelayMs: 1,
        backoffMaxMs: 3_600_000,
        deadLetterSink: "https://example.com/dlq",
        signingSecret: secret,
      },
      reports: [],
    });
  });

  test("retry settings left out stay absent for the deliverer to default", () => {
    const { delivery } = check({ retry: 3 });
    expect(delivery).toEqual({ mode: "binary", timeoutMs: 5_000, retry: 3 });
    expect(delivery).not.toHaveProperty("backoffPolicy");
  });

  test.each(["0ms", "0s", "PT0S", "P0D", "0m"])(
    "a zero backoffDelay or backoffMax (%s) is refused, naming the field: no backoff at all",
    (zero) => {
      const message =
        "must be longer than zero: with 0 every retry is sent at once, without backoff";
      expect(reportsOf({ backoffDelay: zero })).toEqual([`delivery.backoffDelay: ${message}`]);
      expect(reportsOf({ backoffMax: zero })).toEqual([`delivery.backoffMax: ${message}`]);
      expect(reportsOf({ backoffDelay: zero, backoffMax: zero })).toHaveLength(2);
    },
  );

  test("backoffMax may equal backoffDelay", () => {
    expect(check({ backoffDelay: "1s", backoffMax: "PT1S" }).reports).toEqual([]);
  });
});

describe("parseDelivery: rejected settings", () => {
  test("must be an object with known keys", () => {
    expect(reportsOf("binary")).toEqual(["delivery: must be an object"]);
    expect(reportsOf({ mode: "binary", retries: 3, dlq: "x" })).toEqual([
      "delivery.retries: unknown key; expected one of: mode, maxBatchSize, maxBatchWait, concurrency, rate, handshake, timeout, retry, backoffPolicy, backoffDelay, backoffMax, deadLetterSink, signingSecret, reply, receipts (key)",
      "delivery.dlq: unknown key; expected one of: mode, maxBatchSize, maxBatchWait, concurrency, rate, handshake, timeout, retry, backoffPolicy, backoffDelay, backoffMax, deadLetterSink, signingSecret, reply, receipts (key)",
    ]);
  });

  test("mode: binary, structured or batch", () => {
    expect(check({ mode: "batch" }).delivery?.mode).toBe("batch");
    expect(reportsOf({ mode: "Binary" })).toEqual([
      "delivery.mode: must be one of: binary, structured, batch",
    ]);
    expect(reportsOf({ mode: 1 })).toEqual([
      "delivery.mode: must be one of: binary, structured, batch",
    ]);
  });

  test("maxBatchSize and maxBatchWait: bounded, and only in batch mode", () => {
    expect(check({ mode: "batch", maxBatchSize: 50, maxBatchWait: "250ms" }).delivery).toEqual({
      mode: "batch",
      timeoutMs: 5_000,
      maxBatchSize: 50,
      maxBatchWaitMs: 250,
    });
    expect(reportsOf({ mode: "batch", maxBatchSize: 0, maxBatchWait: "2m" })).toEqual([
      "delivery.maxBatchSize: must be from 1 to 1000",
      "delivery.maxBatchWait: must be at most 1m",
    ]);
    expect(reportsOf({ maxBatchSize: 10, maxBatchWait: "1s" })).toEqual([
      "delivery.maxBatchSize: applies only to mode: batch",
      "delivery.maxBatchWait: applies only to mode: batch",
    ]);
  });

  test("concurrency, rate and handshake", () => {
    expect(check({ concurrency: 4, rate: "10/s", handshake: true }).delivery).toEqual({
      mode: "binary",
      timeoutMs: 5_000,
      concurrency: 4,
      rate: { count: 10, perMs: 1_000 },
      handshake: true,
    });
    expect(reportsOf({ concurrency: 0, rate: "10/h", handshake: "yes" })).toEqual([
      "delivery.concurrency: must be from 1 to 1000",
      "delivery.rate: must be a rate such as 500/s or 30000/m (events per second or per minute)",
      "delivery.handshake: must be true or false",
    ]);
  });

  test("timeout: a positive duration", () => {
    const duration = "must be a duration such as 250ms, 5s, 1m, 1h or PT5S";
    expect(reportsOf({ timeout: 5 })).toEqual([`delivery.timeout: ${duration}`]);
    expect(reportsOf({ timeout: "5 seconds" })).toEqual([`delivery.timeout: ${duration}`]);
    expect(reportsOf({ timeout: "0s" })).toEqual(["delivery.timeout: must be longer than zero"]);
    expect(reportsOf({ timeout: "PT0S" })).toEqual(["delivery.timeout: must be longer than zero"]);
  });

  test("timeout: at most 5 minutes, so the dispatcher's lease can outlast every attempt", () => {
    expect(MAX_DELIVERY_TIMEOUT_MS).toBe(300_000);
    for (const longest of ["5m", "300s", "PT5M", "300000ms"]) {
      expect(check({ timeout: longest }).delivery?.timeoutMs).toBe(300_000);
    }
    for (const tooLong of ["300001ms", "5.5m", "1h", "PT5M1S", "P1D"]) {
      expect(reportsOf({ timeout: tooLong })).toEqual(["delivery.timeout: must be at most 5m"]);
    }
  });

  test("retry: an integer of at least 0", () => {
    expect(reportsOf({ retry: -1 })).toEqual(["delivery.retry: must be from 0 to 100"]);
    expect(reportsOf({ retry: 101 })).toEqual(["delivery.retry: must be from 0 to 100"]);
    expect(reportsOf({ retry: 1.5 })).toEqual(["delivery.retry: must be an integer"]);
    // A string is an integer only in a config file (readingConfigText), not in an API body.
    expect(reportsOf({ retry: "3" })).toEqual(["delivery.retry: must be an integer"]);
    expect(readingConfigText(() => check({ retry: "3" })).delivery).toMatchObject({ retry: 3 });
    expect(readingConfigText(() => reportsOf({ retry: "3x" }))).toEqual([
      "delivery.retry: must be an integer",
    ]);
    expect(readingConfigText(() => reportsOf({ retry: "-1" }))).toEqual([
      "delivery.retry: must be from 0 to 100",
    ]);
  });

  test("backoffPolicy: exponential or linear", () => {
    expect(reportsOf({ backoffPolicy: "constant" })).toEqual([
      "delivery.backoffPolicy: must be one of: exponential, linear",
    ]);
  });

  test("backoffDelay and backoffMax: durations, max not below delay", () => {
    expect(reportsOf({ backoffDelay: "-1s", backoffMax: 60 })).toEqual([
      "delivery.backoffDelay: must be a duration such as 250ms, 5s, 1m, 1h or PT5S",
      "delivery.backoffMax: must be a duration such as 250ms, 5s, 1m, 1h or PT5S",
    ]);
    expect(reportsOf({ backoffDelay: "2s", backoffMax: "1s" })).toEqual([
      "delivery.backoffMax: must not be shorter than backoffDelay",
    ]);
    expect(reportsOf({ backoffMax: "100ms" })).toEqual([
      "delivery.backoffMax: must not be shorter than backoffDelay, which is 500ms when not set (set backoffDelay too)",
    ]);
    expect(check({ backoffMax: "500ms" }).reports).toEqual([]);
    expect(check({ backoffDelay: "50ms", backoffMax: "100ms" }).delivery).toMatchObject({
      backoffDelayMs: 50,
      backoffMaxMs: 100,
    });
  });

  test("deadLetterSink: an absolute http(s) URL", () => {
    expect(reportsOf({ deadLetterSink: "/dlq" })).toEqual([
      "delivery.deadLetterSink: must be an absolute http(s) URL",
    ]);
  });

  test("deadLetterSink: not port 0", () => {
    expect(reportsOf({ deadLetterSink: "http://127.0.0.1:0/dlq" })).toEqual([
      "delivery.deadLetterSink: must not have port 0: name the port the server listens on (1 to 65535)",
    ]);
  });

  test("deadLetterSink: no credentials in it, and none repeated in the report", () => {
    const reports = reportsOf({ deadLetterSink: "https://dlq:s3cret@example.com/dlq" });
    expect(reports).toEqual([
      "delivery.deadLetterSink: must not contain credentials; use protocolsettings.headers with an Authorization header",
    ]);
    expect(reports.join()).not.toMatch(/s3cret|example\.com/);
  });

  test.each([
    ["plain text", "s3cr3t"],
    ["prefix only", "whsec_"],
    ["not base64", "whsec_not base64!"],
    ["bad padding", "whsec_abc"],
    ["a number", 12345],
  ])("signingSecret: %s is rejected without echoing the value", (_, value) => {
    const reports = reportsOf({ signingSecret: value });
    expect(reports).toEqual([
      "delivery.signingSecret: must be a Standard Webhooks secret: whsec_ followed by base64 (several separated by spaces)",
    ]);
    expect(reports.join()).not.toContain(String(value).slice(6) || "@@");
  });

  test("signingSecret: several, separated by spaces, for rotation", () => {
    const two = check({ signingSecret: " whsec_YWJjZA==   whsec_YWJjZGU= " });
    expect(two.reports).toEqual([]);
    expect(two.delivery?.signingSecret).toBe("whsec_YWJjZA== whsec_YWJjZGU=");
    expect(reportsOf({ signingSecret: "whsec_YWJjZA== s3cr3t" })).toHaveLength(1);
  });

  test("signingSecret: base64 with padding is accepted", () => {
    expect(check({ signingSecret: "whsec_YWJjZA==" }).reports).toEqual([]);
    expect(check({ signingSecret: "whsec_YWJjZGU=" }).reports).toEqual([]);
  });

  test("every problem is reported at once", () => {
    expect(reportsOf({ mode: "bulk", timeout: "x", retry: -2, deadLetterSink: 1 })).toEqual([
      "delivery.mode: must be one of: binary, structured, batch",
      "delivery.timeout: must be a duration such as 250ms, 5s, 1m, 1h or PT5S",
      "delivery.retry: must be from 0 to 100",
      "delivery.deadLetterSink: must be an absolute http(s) URL",
    ]);
  });
});

describe("parseDelivery: on-success settings", () => {
  test("reply: true is any source and type, an object lists globs, false is off", () => {
    expect(check({ reply: true }).delivery?.reply).toStrictEqual({});
    expect(
      check({ reply: { sources: ["/billing"], types: ["com.example.*"] } }).delivery?.reply,
    ).toStrictEqual({ sources: ["/billing"], types: ["com.example.*"] });
    expect(check({ reply: false }).delivery).not.toHaveProperty("reply");
    expect(check({ receipts: true }).delivery?.receipts).toBe(true);
  });

  test("refuses a reply policy it cannot use", () => {
    expect(reportsOf({ reply: "yes" })).toStrictEqual([
      "delivery.reply: must be true, false or { sources, types }",
    ]);
    expect(reportsOf({ reply: { types: [] } })[0]).toMatch(/^delivery\.reply\.types: /);
    expect(reportsOf({ reply: { kinds: ["x"] } })[0]).toMatch(
      /^delivery\.reply\.kinds: unknown key/,
    );
    expect(reportsOf({ mode: "batch", reply: true })).toStrictEqual([
      "delivery.reply: needs mode binary or structured: a batch has no one event to reply to",
    ]);
    expect(reportsOf({ receipts: "yes" })[0]).toMatch(/^delivery\.receipts: /);
  });

  test("refuses a reply glob no source or type can match (a control character)", () => {
    expect(reportsOf({ reply: { sources: ["/ok", "/a\nb"], types: ["com.x.*\u0007"] } })).toEqual([
      "delivery.reply.sources[1]: must not contain control characters: no CloudEvents attribute can hold it, so it would never match",
      "delivery.reply.types[0]: must not contain control characters: no CloudEvents attribute can hold it, so it would never match",
    ]);
  });
});
