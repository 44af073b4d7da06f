import { describe, expect, it } from "vitest";
import { producerSettings } from "./producer-options.js";

const base = { endpoint: "http://127.0.0.1:8080/events", source: "/s" };

describe("producerSettings", () => {
  it("applies the defaults", () => {
    const s = producerSettings(base);
    expect(s).toMatchObject({
      endpoint: "http://127.0.0.1:8080/events",
      mode: "binary",
      timeoutMs: 10_000,
      retry: { retries: 3, baseDelayMs: 100, maxDelayMs: 5_000, maxRetryAfterMs: 60_000 },
      maxEventBytes: 262_144,
      maxNotificationDataBytes: 1024,
      tracing: true,
      token: undefined,
      coalesce: undefined,
    });
  });

  it("coalesce: true takes the gateway's default batch limits and four requests in flight", () => {
    expect(producerSettings({ ...base, coalesce: true }).coalesce).toEqual({
      maxEvents: 100,
      maxBatchBytes: 1_048_576,
      maxInFlight: 4,
    });
  });

  it("turns a string token into a function and keeps a function token", async () => {
    expect(await producerSettings({ ...base, token: "abc" }).token?.()).toBe("abc");
    const fn = async () => "xyz";
    expect(producerSettings({ ...base, token: fn }).token).toBe(fn);
  });

  it("takes a timeout up to setTimeout's limit", () => {
    expect(producerSettings({ ...base, timeout: 2 ** 31 - 1 }).timeoutMs).toBe(2 ** 31 - 1);
  });

  it("retry: false is a single attempt", () => {
    expect(producerSettings({ ...base, retry: false }).retry.retries).toBe(0);
  });

  it("lower-cases extra header names", () => {
    expect(producerSettings({ ...base, headers: { "X-Team": "media" } }).headers).toEqual({
      "x-team": "media",
    });
  });

  it.each([
    [{ endpoint: "not a url" }, /endpoint/],
    [{ endpoint: "ftp://example.com/" }, /endpoint/],
    [{ endpoint: "http://user:pw@127.0.0.1/events" }, /credentials/],
    [{ source: "" }, /source/],
    [{ source: "/a b" }, /source must be a non-empty URI-reference/],
    [{ source: " /images" }, /source/],
    [{ source: "/images\r\n" }, /source/],
    [{ source: "/café" }, /percent-encode/],
    [{ source: 42 }, /source/],
    [{ token: "" }, /token/],
    [{ token: "a b" }, /token/],
    [{ token: "a\u0000b" }, /token/],
    [{ token: "a\u007fb" }, /token/],
    [{ token: "caf\u00e9" }, /token/],
    [{ token: 42 }, /token/],
    [{ timeout: 0 }, /timeout/],
    [{ timeout: 50.5 }, /timeout must be an integer number of milliseconds from 1 to 2147483647/],
    [{ timeout: 2 ** 31 }, /timeout/],
    [{ timeout: 2 ** 40 }, /timeout/],
    [{ timeout: Number.POSITIVE_INFINITY }, /timeout/],
    [{ retry: { retries: -1 } }, /retries/],
    [{ retry: { maxDelay: Number.NaN } }, /maxDelay/],
    [{ mode: "batch" }, /mode/],
    [{ headers: { "ce-id": "x" } }, /ce-id/],
    [{ headers: { "Content-Type": "x" } }, /content-type/],
    [{ headers: { "bad name": "x" } }, /not valid/],
    [{ headers: { "x-a": "one\ntwo" } }, /one-line/],
    [{ maxEventBytes: 0 }, /maxEventBytes must be an integer number of bytes >= 1/],
    [{ maxEventBytes: 1.5 }, /maxEventBytes must be an integer number of bytes/],
    [
      { maxNotificationDataBytes: -1 },
      /maxNotificationDataBytes must be an integer number of bytes >= 0/,
    ],
    [{ coalesce: { maxInFlight: 0 } }, /maxInFlight/],
  ])("refuses %j with a TypeError", (override, message) => {
    expect(() => producerSettings({ ...base, ...(override as object) })).toThrow(TypeError);
    expect(() => producerSettings({ ...base, ...(override as object) })).toThrow(message);
  });
});
