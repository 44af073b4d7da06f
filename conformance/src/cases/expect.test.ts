import { describe, expect, it } from "vitest";
import { startSink } from "../sink/sink-server.js";
import type { GatewayResponse } from "../target.js";
import type { CaseContext } from "./case.js";
import { CaseFailure } from "./case.js";
import { expectNeverDelivered, expectProblem, offendingAttributes } from "./expect.js";

const response = (
  status: number,
  body: unknown,
  type = "application/problem+json",
): GatewayResponse => ({
  status,
  headers: new Headers({ "content-type": type }),
  body: new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body)),
});
const problem = (extra: Record<string, unknown> = {}) => ({
  type: "urn:herald:problem:invalid_event",
  title: "Invalid CloudEvent",
  status: 400,
  detail: "time: must be RFC 3339",
  code: "invalid_event",
  ...extra,
});

describe("expectProblem", () => {
  it("accepts a complete problem naming the offending attribute and batch index", () => {
    const res = response(400, problem({ attributes: ["time"], index: 2 }));
    expect(expectProblem(res, 400, { attributes: ["time"], index: 2 })).toMatchObject({
      code: "invalid_event",
    });
  });

  it.each([
    ["a 5xx", response(500, problem({ status: 500 })), /server error/],
    ["another status", response(415, problem({ status: 415 })), /expected 400, got 415/],
    [
      "a non-problem media type",
      response(400, problem(), "application/json"),
      /application\/problem\+json/,
    ],
    ["a missing member", response(400, { ...problem(), code: undefined }), /lacks "code"/],
    ["a status mismatch", response(400, problem({ status: 422 })), /problem status 422/],
    [
      "an unnamed attribute",
      response(400, problem({ attributes: ["id"] })),
      /does not list "time"/,
    ],
  ])("fails on %s", (_, res, message) => {
    expect(() => expectProblem(res, 400, { attributes: ["time"] })).toThrow(CaseFailure);
    expect(() => expectProblem(res, 400, { attributes: ["time"] })).toThrow(message);
  });

  it("fails when the batch index is not named", () => {
    expect(() => expectProblem(response(400, problem({ index: 0 })), 400, { index: 1 })).toThrow(
      /index 1/,
    );
  });

  it("accepts any one of several attributes", () => {
    expect(() =>
      expectProblem(response(400, problem({ attributes: ["data_base64"] })), 400, {
        anyOf: ["data", "data_base64"],
      }),
    ).not.toThrow();
  });
});

describe("offendingAttributes", () => {
  it("reads the common shapes", () => {
    expect(
      offendingAttributes({
        attributes: ["a"],
        errors: [{ attribute: "b", index: 0 }],
        "invalid-params": [{ name: "c" }],
      }),
    ).toEqual(["a", "b", "c"]);
  });
});

describe("expectNeverDelivered", () => {
  it("fails when anything carrying the case token reached a sink, after the sentinel", async () => {
    const sink = await startSink();
    let sentinels = 0;
    const ctx = {
      sink,
      token: "hc-run-c3.",
      sentinel: async () => {
        sentinels++;
      },
    } as unknown as CaseContext;
    try {
      await expect(expectNeverDelivered(ctx)).resolves.toBeUndefined();
      await fetch(`${sink.url}/structured`, {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify({ id: "x", source: "/herald/conformance/run/hc-run-c3." }),
      });
      await expect(expectNeverDelivered(ctx)).rejects.toThrow("delivered anyway: /structured id=x");
      expect(sentinels).toBe(2);
    } finally {
      await sink.close();
    }
  });
});
