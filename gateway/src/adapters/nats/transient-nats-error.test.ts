import { describe, expect, it } from "vitest";
import { isTransientNatsError } from "./transient-nats-error.js";

/** An error shaped as @nats-io/jetstream's `JetStreamApiError` (name, message, HTTP-like status). */
function apiError(message: string, status: number): Error {
  return Object.assign(new Error(message), { name: "JetStreamApiError", status });
}

describe("isTransientNatsError", () => {
  it("tries again while a new cluster has not placed a stream's replicas yet", () => {
    // nats-server 2.9 answers this while the servers of a cluster started together are still
    // joining the meta group: `herald serve` exited 1 at once when it came.
    const noPeers = apiError("no suitable peers for placement", 400);
    expect(isTransientNatsError(noPeers)).toBe(true);
    expect(isTransientNatsError(new Error("cannot set up JetStream", { cause: noPeers }))).toBe(
      true,
    );
  });

  it("tries again for a server not up yet, a timeout, no responders and a 503", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    expect(isTransientNatsError(refused)).toBe(true);
    expect(isTransientNatsError(Object.assign(new Error("x"), { name: "TimeoutError" }))).toBe(
      true,
    );
    expect(isTransientNatsError(new Error("no responders"))).toBe(true);
    expect(isTransientNatsError(apiError("JetStream system temporarily unavailable", 503))).toBe(
      true,
    );
  });

  it("does not try again for what waiting cannot cure", () => {
    expect(isTransientNatsError(new Error("Authorization Violation"))).toBe(false);
    expect(isTransientNatsError(apiError("stream name already in use", 400))).toBe(false);
    expect(isTransientNatsError(apiError("insufficient resources", 500))).toBe(false);
    expect(isTransientNatsError("no suitable peers for placement")).toBe(false);
  });
});
