import { describe, expect, it, vi } from "vitest";
import { Unavailable } from "../errors/errors.js";
import { createPublishGate } from "./publish-gate.js";

/** A promise and the means to settle it from outside. */
function later<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((ok) => {
    resolve = ok;
  });
  return { promise, resolve };
}

describe("createPublishGate", () => {
  it("refuses new requests once closing, with 503", async () => {
    const gate = createPublishGate();
    await gate.close(0);
    expect(gate.open).toBe(false);
    expect(() => gate.admit()).toThrow(Unavailable);
  });

  it("lets a request admitted before close finish, and close waits for it", async () => {
    const gate = createPublishGate();
    const admission = gate.admit();
    const body = later<string>();
    const prepared = admission.prepare(body.promise);
    let closed = false;
    const closing = gate.close(60_000).then(() => {
      closed = true;
    });
    body.resolve("event");
    expect(await prepared).toBe("event");
    admission.storing();
    expect(closed).toBe(false);
    admission.leave();
    await closing;
    expect(closed).toBe(true);
  });

  it("at the deadline cuts a request still preparing (503) and never lets it store", async () => {
    const gate = createPublishGate();
    const admission = gate.admit();
    const body = later<string>();
    const prepared = admission.prepare(body.promise);
    const closing = gate.close(1);
    await expect(prepared).rejects.toBeInstanceOf(Unavailable);
    await expect(prepared).rejects.toMatchObject({ headers: { "retry-after": "1" } });
    body.resolve("too late");
    expect(() => admission.storing()).toThrow(Unavailable);
    admission.leave();
    await closing;
  });

  it("at the deadline waits for a request already storing instead of cutting it", async () => {
    vi.useFakeTimers();
    try {
      const gate = createPublishGate();
      const admission = gate.admit();
      await admission.prepare(Promise.resolve("event"));
      admission.storing();
      let closed = false;
      const closing = gate.close(1_000).then(() => {
        closed = true;
      });
      await vi.advanceTimersByTimeAsync(5_000);
      expect(closed).toBe(false);
      admission.leave();
      await closing;
      expect(closed).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
