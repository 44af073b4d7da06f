import { describe, expect, it } from "vitest";
import { problemParts } from "../http/problem.js";
import { InvalidRequest, MissingToken, Unauthorized } from "./auth-errors.js";
import { extractBearerToken, requestBearerToken, successHeaders } from "./bearer-token.js";

const TOKEN = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a refusal");
}

describe("extractBearerToken", () => {
  it("reads the Authorization header, whatever the case of the scheme", () => {
    for (const scheme of ["Bearer", "bearer", "BEARER", "bEaReR"]) {
      expect(extractBearerToken({ authorization: `${scheme} ${TOKEN}` })).toBe(TOKEN);
    }
    expect(extractBearerToken({ authorization: `Bearer   ${TOKEN}`, url: "/events" })).toBe(TOKEN);
  });

  it("reads the access_token query parameter (CloudEvents http-webhook 3.3)", () => {
    expect(extractBearerToken({ url: `/events?x=1&access_token=${TOKEN}` })).toBe(TOKEN);
    expect(extractBearerToken({ url: `https://h.test/?access_token=${TOKEN}#frag` })).toBe(TOKEN);
    expect(extractBearerToken({ url: "/events?access_token=a%2Bb%3D" })).toBe("a+b=");
  });

  it("answers MissingToken without a token or with another scheme", () => {
    for (const carrier of [
      {},
      { url: "/events" },
      { url: "/events?token=x" },
      { authorization: "Basic dXNlcjpwYXNz" },
      { authorization: "Bearerish abc" },
    ]) {
      const err = refusal(() => extractBearerToken(carrier));
      expect(err).toBeInstanceOf(MissingToken);
      expect(err).toMatchObject({ status: 401, code: "missing_token" });
      expect((err as MissingToken).headers).toEqual({ "www-authenticate": "Bearer" });
    }
  });

  it("answers InvalidRequest (400) for both methods at once (RFC 6750 section 2)", () => {
    const err = refusal(() =>
      extractBearerToken({
        authorization: `Bearer ${TOKEN}`,
        url: `/events?access_token=${TOKEN}`,
      }),
    );
    expect(err).toBeInstanceOf(InvalidRequest);
    const { status, headers, body } = problemParts(err);
    expect(status).toBe(400);
    expect(headers["www-authenticate"]).toMatch(
      /^Bearer error="invalid_request", error_description="/,
    );
    expect(body).toContain('"code":"invalid_request"');
    expect(body + JSON.stringify(headers)).not.toContain(TOKEN);
  });

  it("answers InvalidRequest for a malformed header or query", () => {
    for (const carrier of [
      { authorization: "Bearer" },
      { authorization: "Bearer " },
      { authorization: `Bearer\t${TOKEN}` },
      { authorization: `bearer\t ${TOKEN}` },
      { url: "/events?access_token=" },
      { url: `/events?access_token=${TOKEN}&access_token=${TOKEN}` },
    ]) {
      const err = refusal(() => extractBearerToken(carrier));
      expect(err).toBeInstanceOf(InvalidRequest);
      expect((err as Error).message).not.toContain(TOKEN);
    }
  });

  it("answers InvalidRequest for a repeated Authorization header (RFC 6750 3.1), picking none", () => {
    // Repeats reach the core joined with ", " (RFC 9110 5.3); which line is first does not matter.
    for (const authorization of [
      `Bearer ${TOKEN}, Bearer ${TOKEN}`,
      `Bearer ${TOKEN}, Bearer garbage`,
      `bearer garbage,bearer ${TOKEN}`,
      `Basic dXNlcjpwYXNz, Bearer ${TOKEN}`,
      `Bearer ${TOKEN}, Basic dXNlcjpwYXNz`,
    ]) {
      const err = refusal(() => extractBearerToken({ authorization }));
      expect(err, authorization).toBeInstanceOf(InvalidRequest);
      expect(err).toMatchObject({
        status: 400,
        message:
          "the Authorization header is sent more than once or holds several credentials; send one",
      });
    }
    // Commas inside another scheme's parameters are that scheme's business.
    const digest = 'Digest username="a", realm="b", nonce="c"';
    expect(refusal(() => extractBearerToken({ authorization: digest }))).toBeInstanceOf(
      MissingToken,
    );
  });

  it("answers Unauthorized (401 invalid_token) for a token with characters no token has", () => {
    for (const authorization of ["Bearer a b", "Bearer a.b.c!"]) {
      const err = refusal(() => extractBearerToken({ authorization }));
      expect(err).toBeInstanceOf(Unauthorized);
      expect((err as Unauthorized).status).toBe(401);
      expect((err as Error).message).not.toContain(TOKEN);
    }
  });

  it("refuses a token over the size limit before anything else looks at it", () => {
    const big = "a".repeat(8193);
    for (const carrier of [{ authorization: `Bearer ${big}` }, { url: `/?access_token=${big}` }]) {
      const err = refusal(() => extractBearerToken(carrier));
      expect(err).toBeInstanceOf(Unauthorized);
      expect(err).toMatchObject({
        reason: "too_large",
        message: "the token is larger than 8192 bytes",
      });
    }
    expect(extractBearerToken({ authorization: `Bearer ${"a".repeat(8192)}` })).toHaveLength(8192);
    expect(() =>
      extractBearerToken({ authorization: `Bearer ${TOKEN}` }, { maxTokenBytes: 10 }),
    ).toThrow("the token is larger than 10 bytes");
  });
});

describe("requestBearerToken", () => {
  it("reads a Web Request", () => {
    const header = new Request("http://h.test/events", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(requestBearerToken(header)).toBe(TOKEN);
    expect(requestBearerToken(new Request(`http://h.test/events?access_token=${TOKEN}`))).toBe(
      TOKEN,
    );
    expect(() => requestBearerToken(new Request("http://h.test/events"))).toThrow(MissingToken);
  });
});

describe("successHeaders", () => {
  it("marks answers to a URL carrying access_token private (http-webhook 3.2), nothing else", () => {
    expect(successHeaders(`/events?x=1&access_token=${TOKEN}`)).toEqual({
      "cache-control": "private",
    });
    expect(successHeaders(`https://h.test/webhooks/a?access_token=${TOKEN}#f`)).toEqual({
      "cache-control": "private",
    });
    expect(successHeaders("/events")).toEqual({});
    expect(successHeaders("/events?not_access_token_really=1")).toEqual({});
    expect(successHeaders("/events#access_token=x")).toEqual({});
  });
});
