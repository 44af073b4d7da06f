import { describe, expect, it } from "vitest";
import { expectedAuthId, resolveAuth, unverifiedClaims } from "./conformance-auth.js";

const b64 = (json: unknown) => Buffer.from(JSON.stringify(json)).toString("base64url");

describe("unverifiedClaims", () => {
  it("decodes a JWS compact payload without checking the signature", () => {
    expect(unverifiedClaims("eyJhbGciOiJub25lIn0.eyJzdWIiOiJjb25mb3JtYW5jZSJ9.")).toEqual({
      sub: "conformance",
    });
    expect(unverifiedClaims(`${b64({})}.${b64({ sub: "ü", n: 1 })}.sig`)).toEqual({
      sub: "ü",
      n: 1,
    });
  });

  it.each([
    ["an opaque token", "opaque-token"],
    ["five parts (JWE)", "a.b.c.d.e"],
    ["a payload that is not JSON", `h.${Buffer.from("nope").toString("base64url")}.s`],
    ["a JSON array payload", `h.${b64([1])}.s`],
    ["padding or standard Base64", `h.${b64({ sub: "x" })}=.s`],
  ])("is undefined for %s", (_name, token) => {
    expect(unverifiedClaims(token)).toBeUndefined();
  });
});

describe("expectedAuthId", () => {
  const token = `${b64({})}.${b64({ sub: "from-token" })}.s`;
  it("prefers the sub given, then the token's sub claim", () => {
    expect(expectedAuthId({ token, sub: "given" })).toBe("given");
    expect(expectedAuthId({ token })).toBe("from-token");
    expect(expectedAuthId({ token: `${b64({})}.${b64({ sub: 7 })}.s` })).toBeUndefined();
    expect(expectedAuthId({ token: "opaque" })).toBeUndefined();
  });
});

describe("resolveAuth", () => {
  it("reads token as shorthand for auth: { token }", () => {
    expect(resolveAuth({})).toBeUndefined();
    expect(resolveAuth({ token: "t" })).toEqual({ token: "t" });
    expect(resolveAuth({ token: "t", auth: { token: "t", sub: "s" } })).toEqual({
      token: "t",
      sub: "s",
    });
  });

  it.each([
    [{ token: "a", auth: { token: "b" } }, /differ/],
    [{ auth: { token: "" } }, /non-empty/],
    [{ auth: { token: "t", outsideRule: {} } }, /source or a type/],
    [{ auth: { token: "t", adminToken: "" } }, /adminToken must be a non-empty/],
  ])("refuses %j", (options, message) => {
    expect(() => resolveAuth(options)).toThrow(message);
  });
});
