import { describe, expect, it } from "vitest";
import { createDeadlineSignals } from "./deadline-signals.js";

describe("createDeadlineSignals", () => {
  it("shares one signal within a window of timeout / 100, and makes a new one after it", () => {
    let now = 1_000;
    const signalFor = createDeadlineSignals(10_000, () => now);
    const first = signalFor();
    now += 99;
    expect(signalFor()).toBe(first);
    now += 1;
    expect(signalFor()).not.toBe(first);
  });

  it("never fires before the timeout for a request of its window", async () => {
    const signalFor = createDeadlineSignals(50, Date.now);
    const start = Date.now();
    const signal = signalFor();
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    expect(Date.now() - start).toBeGreaterThanOrEqual(50);
    expect((signal.reason as Error).name).toBe("TimeoutError");
  });
});
