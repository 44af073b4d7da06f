import { describe, expect, it } from "vitest";
import type { HeraldError } from "../errors/herald-error.js";
import { problemParts } from "../http/problem.js";
import {
  type AuthErrorCode,
  InvalidRequest,
  KeysUnavailable,
  MissingToken,
  Unauthorized,
} from "./auth-errors.js";

describe("auth errors", () => {
  it("render as problem+json with the RFC 6750 challenge", () => {
    const { status, headers, body } = problemParts(
      new Unauthorized("expired", "the token has expired"),
    );
    expect(status).toBe(401);
    expect(headers).toEqual({
      "content-type": "application/problem+json",
      "www-authenticate": 'Bearer error="invalid_token", error_description="the token has expired"',
    });
    expect(JSON.parse(body)).toEqual({
      type: "urn:herald:problem:invalid_token",
      title: "Unauthorized",
      status: 401,
      detail: "the token has expired",
      code: "invalid_token",
    });
  });

  it("keep the challenge's quoted string valid whatever the detail says", () => {
    const err = new Unauthorized("malformed", 'a "quoted" back\\slash and \u00e9\n');
    expect(err.headers["www-authenticate"]).toBe(
      `Bearer error="invalid_token", error_description="a 'quoted' back?slash and ??"`,
    );
  });

  it("answer 503 with Retry-After when keys are unavailable, at least one second", () => {
    expect(problemParts(new KeysUnavailable(29.2))).toMatchObject({
      status: 503,
      headers: { "retry-after": "30" },
    });
    expect(new KeysUnavailable(0).headers).toEqual({ "retry-after": "1" });
  });

  it("carry stable codes on class and instance", () => {
    const errors: HeraldError[] = [
      new MissingToken(),
      new Unauthorized("expired", "x"),
      new InvalidRequest("x"),
      new KeysUnavailable(1),
    ];
    const codes: AuthErrorCode[] = errors.map((err) => err.code as AuthErrorCode);
    expect(codes).toEqual([
      "missing_token",
      "invalid_token",
      "invalid_request",
      "keys_unavailable",
    ]);
    expect([
      MissingToken.code,
      Unauthorized.code,
      InvalidRequest.code,
      KeysUnavailable.code,
    ]).toEqual(codes);
    expect(errors.map((err) => err.status)).toEqual([401, 401, 400, 503]);
  });
});
