import { describe, expect, test } from "vitest";
import { HeraldError } from "../errors/herald-error.js";
import { problemParts } from "../http/problem.js";
import { Forbidden, InsufficientScope, RateLimited } from "./policy-errors.js";

describe("Forbidden", () => {
  test("403 forbidden; coded on class and instance; no extensions without violations", () => {
    const error = new Forbidden("no publisher rule matches this token");
    expect(error).toBeInstanceOf(HeraldError);
    expect(Forbidden.code).toBe("forbidden");
    expect(error).toMatchObject({ code: "forbidden", status: 403, name: "Forbidden" });
    expect(JSON.parse(problemParts(error).body)).toEqual({
      type: "urn:herald:problem:forbidden",
      title: "Forbidden",
      status: 403,
      detail: "no publisher rule matches this token",
      code: "forbidden",
    });
  });

  test("violations become attributes and errors in the problem document", () => {
    const violations = [
      { attribute: "type", index: 2, message: "is not one this publisher may publish" },
      { attribute: "type", index: 4, message: "is not one this publisher may publish" },
    ];
    const problem = JSON.parse(problemParts(new Forbidden("d", violations)).body) as object;
    expect(problem).toMatchObject({ attributes: ["type"], errors: violations });
  });
});

describe("InsufficientScope", () => {
  test("a Forbidden whose answer names insufficient_scope in WWW-Authenticate (RFC 6750 3.1)", () => {
    const violations = [{ attribute: "type", index: 0, message: "is not one it may publish" }];
    const error = new InsufficientScope('event 0: type "x" is not one it may publish', violations);
    expect(error).toBeInstanceOf(Forbidden);
    expect(error).toMatchObject({ code: "forbidden", status: 403 });
    const parts = problemParts(error);
    expect(parts.headers["www-authenticate"]).toBe(
      'Bearer error="insufficient_scope", error_description="event 0: type \'x\' is not one it may publish"',
    );
    expect(JSON.parse(parts.body)).toMatchObject({ code: "forbidden", attributes: ["type"] });
  });

  test("a plain Forbidden (e.g. an SNS topic refused) carries no bearer challenge", () => {
    expect(problemParts(new Forbidden("no")).headers["www-authenticate"]).toBeUndefined();
  });
});

describe("RateLimited", () => {
  test("429 rate_limited with Retry-After in whole seconds, at least 1", () => {
    expect(RateLimited.code).toBe("rate_limited");
    const parts = problemParts(new RateLimited(2));
    expect(parts.status).toBe(429);
    expect(parts.headers).toEqual({
      "content-type": "application/problem+json",
      "retry-after": "2",
    });
    expect(new RateLimited(0.2).headers).toEqual({ "retry-after": "1" });
    expect(new RateLimited(2.1)).toMatchObject({ retryAfterSeconds: 3, code: "rate_limited" });
    expect(new RateLimited(0).message).toBe(
      "this publisher's rate limit is used up; retry after 1 s",
    );
  });
});
