import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GatewayOverHttp,
  startGatewayOverHttp,
} from "../../../test/support/gateway-over-http.js";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  signToken,
} from "../../../test/support/test-issuer.js";

let http: GatewayOverHttp;
let base: string;
let token: string;

beforeAll(async () => {
  const key = await makeKey("ES256", "k1");
  token = await signToken(key, claimsAt(Math.floor(Date.now() / 1000)));
  const config = {
    store: { kind: "memory" },
    auth: {
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key), algorithms: ["ES256"] }],
      publishers: [{ claims: { sub: "orders-service" } }],
      admins: [{ claims: { sub: "orders-service" } }],
    },
    adapters: [
      { id: "shop", kind: "mapping", attributes: { source: "/orders", type: "com.example.t" } },
    ],
  };
  http = await startGatewayOverHttp(config, "listener-auth.json");
  base = http.base;
});
afterAll(() => http.close());

/** Posts a binary event with header lines exactly as given (repeats kept apart). */
function postRaw(path: string, headers: string[]) {
  return new Promise<{ status: number; body: string; cacheControl?: string }>((ok, fail) => {
    const ce = ["ce-specversion", "1.0", "ce-source", "/orders", "ce-type", "com.example.t"];
    const all = ["host", new URL(base).host, ...ce, "ce-id", crypto.randomUUID(), ...headers];
    const req = request(`${base}${path}`, { method: "POST", headers: all }, (res) => {
      let text = "";
      res.on("data", (c) => {
        text += c;
      });
      const cacheControl = res.headers["cache-control"];
      res.on("end", () =>
        ok({ status: res.statusCode ?? 0, body: text, ...(cacheControl ? { cacheControl } : {}) }),
      );
    });
    req.on("error", fail);
    req.end("{}");
  });
}

describe("a repeated Authorization header", () => {
  // Node keeps only the first Authorization line in `req.headers`; the Hono path (Fetch
  // `Headers`) joins them. Two credentials must be refused on both, never the first one trusted.
  it.each([
    ["the fast path", "/events"],
    ["the Hono path", "/%65vents"],
  ])(
    "is refused with 400 invalid_request on %s, whichever line holds the good token",
    async (_, path) => {
      // RFC 6750 3.1: a request that "repeats the same parameter" is invalid_request, not a bad token.
      for (const lines of [
        ["authorization", `Bearer ${token}`, "authorization", "Bearer garbage"],
        ["authorization", "Bearer garbage", "Authorization", `Bearer ${token}`],
        ["authorization", `Bearer ${token}`, "authorization", `Bearer ${token}`],
        ["authorization", "Basic dXNlcjpwYXNz", "authorization", `Bearer ${token}`],
      ]) {
        const res = await postRaw(path, lines);
        expect(res.status).toBe(400);
        expect(JSON.parse(res.body)).toMatchObject({ code: "invalid_request" });
        expect(res.body).not.toContain(token);
      }
      expect((await postRaw(path, ["authorization", `Bearer ${token}`])).status).toBe(202);
    },
  );
});

describe("a token in the access_token query parameter", () => {
  // http-webhook.md 3.2 (and RFC 6750 2.3): success answers to such requests SHOULD carry
  // Cache-Control: private, as the URL holds a credential.
  it.each([
    ["the fast path", "/events"],
    ["the Hono path", "/%65vents"],
    ["a webhook adapter", "/webhooks/shop"],
  ])("gets a 2xx with Cache-Control: private on %s", async (_, path) => {
    const type = path.startsWith("/webhooks") ? ["content-type", "application/json"] : [];
    const res = await postRaw(`${path}?access_token=${token}`, type);
    expect(res.status).toBe(202);
    expect(res.cacheControl).toBe("private");
    const viaHeader = await postRaw(path, [...type, "authorization", `Bearer ${token}`]);
    expect(viaHeader.status).toBe(202);
    expect(viaHeader.cacheControl).toBeUndefined();
  });
});

describe("an admin token in the access_token query parameter", () => {
  /** GETs `path` on the gateway; the status and the Cache-Control directives of the answer. */
  async function get(path: string, headers: Record<string, string> = {}) {
    const res = await fetch(`${base}${path}`, { headers });
    await res.arrayBuffer();
    const directives = (res.headers.get("cache-control") ?? "").split(/\s*,\s*/).filter(Boolean);
    return { status: res.status, directives };
  }

  // RFC 6750 2.3: success answers to a request with the token in the URI SHOULD carry
  // Cache-Control: private; what a route sets of its own (no-store on /metrics) stays.
  it.each([
    ["/metrics", ["no-store"]],
    ["/subscriptions", []],
  ])("opens %s and is answered Cache-Control: private", async (path, own) => {
    const viaQuery = await get(`${path}?access_token=${token}`);
    expect(viaQuery.status).toBe(200);
    expect(viaQuery.directives.sort()).toEqual([...own, "private"].sort());
    const viaHeader = await get(path, { authorization: `Bearer ${token}` });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.directives).toEqual(own);
    expect((await get(`${path}?access_token=garbage`)).status).toBe(401);
  });
});
