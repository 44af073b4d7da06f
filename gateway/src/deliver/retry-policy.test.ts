import { describe, expect, it } from "vitest";
import {
  DEFAULT_BACKOFF_DELAY_MS,
  DEFAULT_BACKOFF_MAX_MS,
  DEFAULT_RETRY,
  type DeliverySettings,
} from "../subscriptions/subscription.js";
import { backoffCeiling, canRetry, RETRY_AFTER_CAP_MS, retryDelay } from "./retry-policy.js";

const settings = (more: Partial<DeliverySettings> = {}): DeliverySettings => ({
  mode: "binary",
  timeoutMs: 5_000,
  ...more,
});
const exponential = settings({ backoffDelayMs: 100, backoffMaxMs: 1_000 });
const linear = settings({ backoffPolicy: "linear", backoffDelayMs: 100, backoffMaxMs: 1_000 });

describe("canRetry", () => {
  it("allows `retry` retries after the first attempt", () => {
    const twice = settings({ retry: 2 });
    expect([0, 1, 2, 3].map((attempts) => canRetry(attempts, twice))).toEqual([
      true,
      true,
      false,
      false,
    ]);
    expect(canRetry(0, settings({ retry: 0 }))).toBe(false);
  });

  it("uses DEFAULT_RETRY when the subscription does not say", () => {
    expect(canRetry(DEFAULT_RETRY - 1, settings())).toBe(true);
    expect(canRetry(DEFAULT_RETRY, settings())).toBe(false);
  });
});

describe("backoffCeiling", () => {
  it("doubles from backoffDelay under the exponential policy, up to backoffMax", () => {
    expect([0, 1, 2, 3, 4, 60, 5000].map((n) => backoffCeiling(n, exponential))).toEqual([
      100, 200, 400, 800, 1_000, 1_000, 1_000,
    ]);
  });

  it("grows by backoffDelay under the linear policy, up to backoffMax", () => {
    expect([0, 1, 2, 9, 10, 5000].map((n) => backoffCeiling(n, linear))).toEqual([
      100, 200, 300, 1_000, 1_000, 1_000,
    ]);
  });

  it("defaults to exponential from DEFAULT_BACKOFF_DELAY_MS up to DEFAULT_BACKOFF_MAX_MS", () => {
    expect(backoffCeiling(0, settings())).toBe(DEFAULT_BACKOFF_DELAY_MS);
    expect(backoffCeiling(1, settings())).toBe(2 * DEFAULT_BACKOFF_DELAY_MS);
    expect(backoffCeiling(100, settings())).toBe(DEFAULT_BACKOFF_MAX_MS);
  });
});

describe("retryDelay", () => {
  it("is full jitter: random in [0, ceiling)", () => {
    expect(retryDelay(2, exponential, () => 0)).toBe(0);
    expect(retryDelay(2, exponential, () => 0.5)).toBe(200);
    expect(retryDelay(2, exponential, () => 0.999999)).toBe(399);
    expect(retryDelay(2, linear, () => 0.5)).toBe(150);
  });

  it("waits at least what Retry-After asks", () => {
    expect(retryDelay(0, exponential, () => 0.5, 7_000)).toBe(7_000);
    // A Retry-After shorter than the jittered backoff does not shorten it.
    expect(retryDelay(3, exponential, () => 0.5, 0)).toBe(400);
  });

  it("caps Retry-After at an hour, or at backoffMax when that is longer", () => {
    expect(retryDelay(0, exponential, () => 0.5, 10 * RETRY_AFTER_CAP_MS)).toBe(RETRY_AFTER_CAP_MS);
    const patient = settings({ backoffMaxMs: 2 * RETRY_AFTER_CAP_MS });
    expect(retryDelay(0, patient, () => 0.5, 10 * RETRY_AFTER_CAP_MS)).toBe(2 * RETRY_AFTER_CAP_MS);
  });

  it("caps Retry-After at the backoffMax in force: backoffDelay's when that is longer, unset", () => {
    // No backoffMax, a backoffDelay of 2h: waits of up to 2h are allowed, so a sink may ask for as
    // much; the cap was an hour (the 1m default backoffMax was taken).
    const slow = settings({ backoffDelayMs: 2 * RETRY_AFTER_CAP_MS });
    expect(retryDelay(0, slow, () => 0, 10 * RETRY_AFTER_CAP_MS)).toBe(2 * RETRY_AFTER_CAP_MS);
  });
});
