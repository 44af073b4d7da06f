import { describe, expect, test } from "vitest";
import { checkString } from "../event/attribute-rules.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { validateAttributes } from "../event/validate-attributes.js";
import {
  formatRecordedTime,
  sharedClaimsJson,
  withProvenance,
  withUnauthenticatedProvenance,
} from "./provenance.js";

const recordedAt = Date.UTC(2025, 0, 2, 3, 4, 5, 6);
const base = { specversion: "1.0", id: "42", source: "/orders", type: "com.example.order.created" };
const claims = {
  iss: "https://id.example.com",
  sub: "orders-service",
  aud: ["herald", "billing"],
  azp: "orders-client",
  client_id: "orders-client",
  scope: "events:publish openid",
  exp: 1_900_000_000,
  iat: 1_800_000_000,
  jti: "token-id",
  email: "orders@example.com",
  groups: ["ops"],
};

describe("withProvenance", () => {
  test("sets recordedtime and the authcontext attributes from the verified claims", () => {
    const event: CloudEvent = { attributes: base, data: { kind: "json", value: { n: 1 } } };
    const result = withProvenance(event, { claims, recordedAt });
    expect(result.attributes).toEqual({
      ...base,
      recordedtime: "2025-01-02T03:04:05.006Z",
      authtype: "service_account",
      authid: "orders-service",
      authclaims:
        '{"iss":"https://id.example.com","sub":"orders-service","aud":["herald","billing"],' +
        '"azp":"orders-client","client_id":"orders-client","scope":"events:publish openid"}',
    });
    expect(result.data).toBe(event.data);
    // The input is not changed.
    expect(event.attributes).toEqual(base);
  });

  test("spoofed provenance sent by the publisher is replaced", () => {
    const spoofed: CloudEvent = {
      attributes: {
        ...base,
        recordedtime: "1999-01-01T00:00:00Z",
        authtype: "system",
        authid: "admin",
        authclaims: '{"sub":"admin"}',
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      },
    };
    const result = withProvenance(spoofed, { claims: { sub: "mallory" }, recordedAt });
    expect(result.attributes).toEqual({
      ...base,
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      recordedtime: "2025-01-02T03:04:05.006Z",
      authtype: "service_account",
      authid: "mallory",
      authclaims: '{"sub":"mallory"}',
    });
  });

  test("spoofed authid and authclaims are removed when the token has nothing for them", () => {
    const spoofed: CloudEvent = { attributes: { ...base, authid: "admin", authclaims: "{}" } };
    const result = withProvenance(spoofed, { claims: { exp: 1 }, recordedAt });
    expect(result.attributes).toEqual({
      ...base,
      recordedtime: "2025-01-02T03:04:05.006Z",
      authtype: "service_account",
    });
    expect(result).not.toHaveProperty("data");
  });

  test("never copies other claims, and never a claim that is not a string or list of strings", () => {
    const json = sharedClaimsJson({
      sub: "a",
      aud: "herald",
      scope: ["a", "b"],
      azp: 7,
      client_id: { id: "x" },
      iss: ["a", 1],
      access_token: "secret",
      password: "hunter2",
    });
    expect(json).toBe('{"sub":"a","aud":"herald","scope":["a","b"]}');
  });

  test("a sub that is not a valid CloudEvents String is not an authid, but stays escaped in authclaims", () => {
    const result = withProvenance(
      { attributes: base },
      { claims: { sub: "bad\u0000sub\u0085\uffff" }, recordedAt },
    );
    expect(result.attributes).not.toHaveProperty("authid");
    const authclaims = String(result.attributes.authclaims);
    expect(checkString(authclaims)).toBeUndefined();
    expect(JSON.parse(authclaims)).toEqual({ sub: "bad\u0000sub\u0085\uffff" });
    expect(
      withProvenance({ attributes: base }, { claims: { sub: 42 }, recordedAt }),
    ).not.toHaveProperty("attributes.authid");
  });

  test("astral noncharacters and lone surrogates are escaped too", () => {
    const json = sharedClaimsJson({ sub: "x\u{1fffe}y\ud800z" }) ?? "";
    expect(checkString(json)).toBeUndefined();
    expect(json).toBe('{"sub":"x\\ud83f\\udffey\\ud800z"}');
    expect(JSON.parse(json)).toEqual({ sub: "x\u{1fffe}y\ud800z" });
  });

  test("the result is a valid CloudEvent", () => {
    const result = withProvenance({ attributes: base }, { claims, recordedAt });
    expect(validateAttributes(result.attributes)).toEqual([]);
  });

  test("authtype can be given for end-user tokens", () => {
    const result = withProvenance(
      { attributes: base },
      { claims: { sub: "u1" }, recordedAt, authtype: "app_user" },
    );
    expect(result.attributes.authtype).toBe("app_user");
  });
});

describe("withUnauthenticatedProvenance", () => {
  test("recordedtime and authtype unauthenticated; publisher-sent authid and authclaims go", () => {
    const spoofed: CloudEvent = {
      attributes: {
        ...base,
        authtype: "user",
        authid: "admin",
        authclaims: "{}",
        recordedtime: "x",
      },
    };
    expect(withUnauthenticatedProvenance(spoofed, { recordedAt }).attributes).toEqual({
      ...base,
      recordedtime: "2025-01-02T03:04:05.006Z",
      authtype: "unauthenticated",
    });
  });
});

describe("a publisher's heraldhops", () => {
  test("is dropped by both: only the gateway counts reply hops", () => {
    const forged: CloudEvent = { attributes: { ...base, heraldhops: 7 } };
    expect(withUnauthenticatedProvenance(forged, { recordedAt }).attributes).not.toHaveProperty(
      "heraldhops",
    );
    expect(
      withProvenance(forged, { claims: { sub: "u1" }, recordedAt }).attributes,
    ).not.toHaveProperty("heraldhops");
  });
});

describe("formatRecordedTime", () => {
  test("RFC 3339 in UTC with milliseconds", () => {
    expect(formatRecordedTime(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(formatRecordedTime(recordedAt)).toBe("2025-01-02T03:04:05.006Z");
  });

  test("times RFC 3339 cannot write are a programming mistake", () => {
    expect(() => formatRecordedTime(Number.NaN)).toThrow(TypeError);
    expect(() => formatRecordedTime(-1)).toThrow(TypeError);
    expect(() => formatRecordedTime(253_402_300_800_000)).toThrow(TypeError);
    expect(formatRecordedTime(253_402_300_799_999)).toBe("9999-12-31T23:59:59.999Z");
  });
});

describe("the dead-letter attributes a publisher sent", () => {
  const forged: CloudEvent = {
    attributes: {
      ...base,
      heralderrordest: "https://bank.example.com/hook",
      heralderrorcode: 500,
      heralderrordata: "payment failed, call +1 555 0100",
      heraldattempts: 9,
      heraldnote: "not a gateway attribute",
    },
  };
  const kept = { ...base, heraldnote: "not a gateway attribute" };

  test("are dropped with a verified token: only the gateway dead-letters", () => {
    expect(withProvenance(forged, { claims: { sub: "s" }, recordedAt }).attributes).toEqual({
      ...kept,
      recordedtime: "2025-01-02T03:04:05.006Z",
      authtype: "service_account",
      authid: "s",
      authclaims: '{"sub":"s"}',
    });
  });

  test("are dropped without authentication too", () => {
    expect(withUnauthenticatedProvenance(forged, { recordedAt }).attributes).toEqual({
      ...kept,
      recordedtime: "2025-01-02T03:04:05.006Z",
      authtype: "unauthenticated",
    });
  });
});
