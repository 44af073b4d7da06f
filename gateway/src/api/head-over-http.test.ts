import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GatewayOverHttp,
  startGatewayOverHttp,
} from "../../test/support/gateway-over-http.js";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  signToken,
} from "../../test/support/test-issuer.js";

// HEAD over a real connection: Node's server must send no body, and every admin rule must apply.
let http: GatewayOverHttp;
let admin: string;

beforeAll(async () => {
  const key = await makeKey("ES256", "k1");
  const now = Math.floor(Date.now() / 1000);
  admin = await signToken(key, claimsAt(now, { sub: "ops", scope: "herald:admin" }));
  http = await startGatewayOverHttp(
    {
      store: { kind: "memory" },
      auth: {
        issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key), algorithms: ["ES256"] }],
        publishers: [{ claims: { sub: "orders-service" } }],
        admins: [{ claims: { scope: "herald:admin" } }],
      },
      subscriptions: [{ id: "from-file", sink: "http://127.0.0.1:9/in" }],
    },
    "head.json",
  );
});
afterAll(() => http.close());

function send(method: string, path: string, token: string | null = admin) {
  const headers: Record<string, string> =
    token === null ? {} : { authorization: `Bearer ${token}` };
  return fetch(`${http.base}${path}`, { method, headers });
}

describe("HEAD wherever GET is served", () => {
  it.each([
    ["/subscriptions", "GET, HEAD, POST, OPTIONS"],
    ["/subscriptions/from-file", "GET, HEAD, OPTIONS"],
    ["/subscriptions/from-file/dead", "GET, HEAD, DELETE, OPTIONS"],
  ])("%s: HEAD answers as GET without a body, and Allow lists it", async (path, allow) => {
    const get = await send("GET", path);
    const head = await send("HEAD", path);
    expect(head.status).toBe(200);
    expect(head.status).toBe(get.status);
    expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
    expect(await head.text()).toBe("");
    expect((await get.text()).length).toBeGreaterThan(0);
    const options = await send("OPTIONS", path);
    expect(options.status).toBe(200);
    expect(options.headers.get("allow")).toBe(allow);
    // RFC 9110 9.3.7: no content, so Content-Length: 0 (not chunked).
    expect(options.headers.get("content-length")).toBe("0");
    expect(options.headers.get("transfer-encoding")).toBeNull();
    expect(await options.text()).toBe("");
    const patch = await send("PATCH", path);
    expect(patch.status).toBe(405);
    expect(patch.headers.get("allow")).toBe(allow);
  });

  it.each(["/events", "/"])(
    "OPTIONS %s (the webhook handshake) has no content: Content-Length: 0, not chunked",
    async (path) => {
      const res = await fetch(`${http.base}${path}`, {
        method: "OPTIONS",
        headers: { "webhook-request-origin": "emitter.example.com" },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("webhook-allowed-origin")).toBe("emitter.example.com");
      expect(res.headers.get("content-length")).toBe("0");
      expect(res.headers.get("transfer-encoding")).toBeNull();
      expect(await res.text()).toBe("");
    },
  );

  it("an API-created subscription allows HEAD beside GET, PUT and DELETE", async () => {
    const res = await fetch(`${http.base}/subscriptions`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ sink: "http://127.0.0.1:9/api" }),
    });
    const location = res.headers.get("location") ?? "";
    expect(res.status).toBe(201);
    expect((await send("HEAD", location)).status).toBe(200);
    expect((await send("OPTIONS", location)).headers.get("allow")).toBe(
      "GET, HEAD, PUT, DELETE, OPTIONS",
    );
  });

  it.each(["/healthz", "/readyz", "/openapi.json", "/metrics"])(
    "%s: HEAD answers 200 without a body; OPTIONS 200 and 405 list GET, HEAD, OPTIONS",
    async (path) => {
      const head = await send("HEAD", path);
      expect(head.status).toBe(200);
      expect(await head.text()).toBe("");
      const options = await send("OPTIONS", path);
      expect(options.status).toBe(200);
      expect(options.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(options.headers.get("content-length")).toBe("0");
      expect(options.headers.get("transfer-encoding")).toBeNull();
      expect(await options.text()).toBe("");
      const post = await send("POST", path);
      expect(post.status).toBe(405);
      expect(post.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(post.headers.get("content-type")).toBe("application/problem+json");
    },
  );

  it("one dead delivery: HEAD of none is 404 without a body, Allow lists GET and HEAD, a long jobId no 5xx", async () => {
    const path = "/subscriptions/from-file/dead/999999";
    const get = await send("GET", path);
    expect(get.status).toBe(404);
    expect(get.headers.get("content-type")).toBe("application/problem+json");
    const head = await send("HEAD", path);
    expect(head.status).toBe(404);
    expect(head.headers.get("content-type")).toBe("application/problem+json");
    expect(await head.text()).toBe("");
    const options = await send("OPTIONS", path);
    expect(options.status).toBe(200);
    expect(options.headers.get("allow")).toBe("GET, HEAD, DELETE, OPTIONS");
    expect((await send("HEAD", path, null)).status).toBe(401);
    const long = await send("GET", `/subscriptions/from-file/dead/${"9".repeat(8_000)}`);
    expect(long.status).toBe(404);
    expect(long.headers.get("content-type")).toBe("application/problem+json");
  });

  it("HEAD keeps the admin rule and the errors GET gives: 401 without a token, 404 unknown", async () => {
    const anonymous = await send("HEAD", "/subscriptions", null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(await anonymous.text()).toBe("");
    const unknown = await send("HEAD", "/subscriptions/nope");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toBe("application/problem+json");
    expect(await unknown.text()).toBe("");
    expect((await send("HEAD", "/subscriptions/nope/dead")).status).toBe(404);
  });
});
