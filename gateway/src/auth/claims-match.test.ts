import { describe, expect, test } from "vitest";
import { claimsMatch, compileClaimsMatcher } from "./claims-match.js";

describe("compileClaimsMatcher: strings", () => {
  test("every listed claim must equal", () => {
    const matches = compileClaimsMatcher({ sub: "orders-service", iss: "https://id.example.com" });
    expect(matches({ sub: "orders-service", iss: "https://id.example.com", aud: "x" })).toBe(true);
    expect(matches({ sub: "orders-service" })).toBe(false);
    expect(matches({ sub: "orders-service2", iss: "https://id.example.com" })).toBe(false);
    expect(matches({ sub: "Orders-Service", iss: "https://id.example.com" })).toBe(false);
  });

  test("numbers and booleans are compared in their string form", () => {
    const matches = compileClaimsMatcher({ tier: "2", email_verified: "true" });
    expect(matches({ tier: 2, email_verified: true })).toBe(true);
    expect(matches({ tier: "2", email_verified: "true" })).toBe(true);
    expect(matches({ tier: 2.5, email_verified: true })).toBe(false);
    expect(matches({ tier: 2, email_verified: false })).toBe(false);
  });

  test("absent, null and object claims never match", () => {
    const matches = compileClaimsMatcher({ org: "acme" });
    expect(matches({})).toBe(false);
    expect(matches({ org: null })).toBe(false);
    expect(matches({ org: { name: "acme" } })).toBe(false);
    expect(matches({ org: undefined })).toBe(false);
  });

  test("only the token's own claims count", () => {
    expect(compileClaimsMatcher({ constructor: "function Object() { [native code] }" })({})).toBe(
      false,
    );
    const inherited = Object.create({ role: "admin" }) as Record<string, unknown>;
    expect(compileClaimsMatcher({ role: "admin" })(inherited)).toBe(false);
  });
});

describe("compileClaimsMatcher: arrays", () => {
  test("an array claim matches when it contains the listed value", () => {
    const matches = compileClaimsMatcher({ aud: "herald" });
    expect(matches({ aud: ["other", "herald"] })).toBe(true);
    expect(matches({ aud: "herald" })).toBe(true);
    expect(matches({ aud: ["other"] })).toBe(false);
    expect(matches({ aud: [] })).toBe(false);
  });

  test("array elements are compared in their string form; objects in them are skipped", () => {
    const matches = compileClaimsMatcher({ levels: "3" });
    expect(matches({ levels: [1, 3] })).toBe(true);
    expect(matches({ levels: [{ 3: 3 }, null, [3]] })).toBe(false);
  });

  test("a listed list means every listed value must be present", () => {
    const matches = compileClaimsMatcher({ groups: ["eu", "billing"] });
    expect(matches({ groups: ["ops", "billing", "eu"] })).toBe(true);
    expect(matches({ groups: ["eu"] })).toBe(false);
    expect(matches({ groups: "eu" })).toBe(false);
    expect(compileClaimsMatcher({ groups: ["eu"] })({ groups: "eu" })).toBe(true);
  });
});

describe("compileClaimsMatcher: scope", () => {
  test("a space-separated scope string is split into words", () => {
    const matches = compileClaimsMatcher({ scope: "herald:admin" });
    expect(matches({ scope: "openid herald:admin profile" })).toBe(true);
    expect(matches({ scope: "herald:admin" })).toBe(true);
    expect(matches({ scope: "openid  herald:admin " })).toBe(true);
    expect(matches({ scope: "herald:admin2 openid" })).toBe(false);
    expect(matches({ scope: "herald" })).toBe(false);
  });

  test("scp is split too, and an array scope is used as it is", () => {
    expect(compileClaimsMatcher({ scp: "events.write" })({ scp: "events.read events.write" })).toBe(
      true,
    );
    expect(compileClaimsMatcher({ scp: "events.write" })({ scp: ["events.write"] })).toBe(true);
    expect(compileClaimsMatcher({ scope: "a" })({ scope: ["a b"] })).toBe(false);
  });

  test("a listed scope with spaces, or a list, asks for every word", () => {
    const both = compileClaimsMatcher({ scope: "events:publish herald:admin" });
    expect(both({ scope: "herald:admin openid events:publish" })).toBe(true);
    expect(both({ scope: "herald:admin" })).toBe(false);
    const listed = compileClaimsMatcher({ scope: ["events:publish", "herald:admin"] });
    expect(listed({ scope: "herald:admin events:publish" })).toBe(true);
    expect(listed({ scope: "events:publish" })).toBe(false);
  });

  test("a rule asking for no value is a TypeError, never a match for any token with the claim", () => {
    // `scope: " "` has no words: it would have made every token with a scope an administrator.
    expect(() => compileClaimsMatcher({ scope: " " })).toThrow(TypeError);
    expect(() => compileClaimsMatcher({ scp: ["  ", " "] })).toThrow(TypeError);
    expect(() => compileClaimsMatcher({ groups: [] })).toThrow(TypeError);
    expect(compileClaimsMatcher({ scope: ["herald:admin", " "] })({ scope: "openid" })).toBe(false);
  });

  test("other claims are not split", () => {
    expect(compileClaimsMatcher({ name: "Ada" })({ name: "Ada Lovelace" })).toBe(false);
    expect(compileClaimsMatcher({ name: "Ada Lovelace" })({ name: "Ada Lovelace" })).toBe(true);
  });
});

describe("claimsMatch", () => {
  test("compiles each rule once and answers like the compiled matcher", () => {
    const rule = { scope: "herald:admin" };
    expect(claimsMatch(rule, { scope: "openid herald:admin" })).toBe(true);
    expect(claimsMatch(rule, { scope: "openid" })).toBe(false);
  });
});
