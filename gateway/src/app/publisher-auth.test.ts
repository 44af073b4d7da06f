import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordingSink, startRecordingSink } from "../../test/support/recording-sink.js";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  signToken,
  type TestKey,
  unsignedToken,
} from "../../test/support/test-issuer.js";
import { parseConfig } from "../config/load-config.js";
import { createGateway, type Gateway } from "./create-gateway.js";

let sink: RecordingSink;
let gateway: Gateway;
let key: TestKey;
let foreign: TestKey;
const nowSec = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  sink = await startRecordingSink();
  key = await makeKey("ES256", "k1");
  foreign = await makeKey("ES256", "k1");
  const config = {
    auth: {
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key), algorithms: ["ES256"] }],
      publishers: [
        {
          claims: { sub: "orders-service" },
          sources: ["/orders", "/orders/*"],
          types: ["com.example.order.*"],
        },
        { claims: { scope: "publish:limited" }, types: ["com.example.limited"], rate: "2/s" },
      ],
    },
    subscriptions: [{ id: "all", sink: sink.url }],
  };
  gateway = createGateway({ config: parseConfig(JSON.stringify(config), "auth.json") });
  gateway.start();
});
afterAll(async () => {
  await gateway.stop();
  await sink.close();
});

const binary = (id: string, source = "/orders/1", type = "com.example.order.created") => ({
  "ce-specversion": "1.0",
  "ce-id": id,
  "ce-source": source,
  "ce-type": type,
});

async function post(headers: Record<string, string>, token?: string, query = "") {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return gateway.fetch(
    new Request(`http://gw/events${query}`, { method: "POST", headers: { ...headers, ...auth } }),
  );
}

async function deliveredIds(): Promise<string[]> {
  await gateway.idle();
  return sink.received.map((r) => String(r.headers["ce-id"]));
}

describe("publisher authentication on ingest", () => {
  it("accepts a valid token and stamps provenance, replacing what the publisher sent", async () => {
    const token = await signToken(key, claimsAt(nowSec()));
    const res = await post(
      {
        ...binary("ok-1"),
        "ce-authid": "spoofed",
        "ce-authtype": "app_user",
        "ce-recordedtime": "1999-01-01T00:00:00Z",
      },
      token,
    );
    expect(res.status).toBe(202);
    await gateway.idle();
    const got = sink.received.find((r) => r.headers["ce-id"] === "ok-1");
    expect(got?.headers["ce-authid"]).toBe("orders-service");
    expect(got?.headers["ce-authtype"]).toBe("service_account");
    expect(got?.headers["ce-recordedtime"]).not.toBe("1999-01-01T00:00:00Z");
    expect(decodeURIComponent(String(got?.headers["ce-authclaims"]))).toContain(
      '"iss":"https://id.example.test"',
    );
    expect(got?.headers["ce-authclaims"]).not.toContain(token.slice(0, 20));
  });

  it("takes the token from the access_token query parameter too", async () => {
    const token = await signToken(key, claimsAt(nowSec()));
    expect((await post(binary("query-1"), undefined, `?access_token=${token}`)).status).toBe(202);
  });

  it("401 with WWW-Authenticate: Bearer when there is no token, and nothing is delivered", async () => {
    const res = await post(binary("anon-1"));
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await deliveredIds()).not.toContain("anon-1");
  });

  it.each([
    ["alg none", async () => unsignedToken(claimsAt(nowSec()))],
    ["a foreign key with the same kid", async () => signToken(foreign, claimsAt(nowSec()))],
    ["expired", async () => signToken(key, claimsAt(nowSec() - 7200))],
    ["wrong audience", async () => signToken(key, claimsAt(nowSec(), { aud: "other" }))],
    ["wrong issuer", async () => signToken(key, claimsAt(nowSec(), { iss: "https://evil.test" }))],
    ["garbage", async () => "not.a.jwt"],
  ])("401 invalid_token for %s, token never echoed", async (_name, make) => {
    const token = await make();
    const res = await post(binary(`bad-${_name}`), token);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const body = await res.text();
    expect(body).not.toContain(token);
    expect(JSON.parse(body)).toMatchObject({ code: "invalid_token", status: 401 });
  });

  it("403 naming the attribute when an event is outside the publisher's rule; a batch is all or nothing", async () => {
    const token = await signToken(key, claimsAt(nowSec()));
    const res = await post(binary("src-1", "/billing"), token);
    expect(res.status).toBe(403);
    // RFC 6750 3.1: the token is good but lacks the privilege, and the challenge says so.
    expect(res.headers.get("www-authenticate")).toBe(
      'Bearer error="insufficient_scope", error_description="source is not one this publisher may publish"',
    );
    expect(await res.json()).toMatchObject({ code: "forbidden", attributes: ["source"] });
    const batch = [
      { specversion: "1.0", id: "batch-ok", source: "/orders", type: "com.example.order.created" },
      {
        specversion: "1.0",
        id: "batch-bad",
        source: "/orders",
        type: "com.example.invoice.created",
      },
    ];
    const batchRes = await gateway.fetch(
      new Request("http://gw/events", {
        method: "POST",
        headers: {
          "content-type": "application/cloudevents-batch+json",
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify(batch),
      }),
    );
    expect(batchRes.status).toBe(403);
    const ids = await deliveredIds();
    expect(ids).not.toContain("batch-ok");
    expect(ids).not.toContain("src-1");
  });

  it("403 when no publisher rule matches the token", async () => {
    const token = await signToken(key, claimsAt(nowSec(), { sub: "someone-else" }));
    const res = await post(binary("norule-1"), token);
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer error="insufficient_scope", /);
  });

  it("403 before the body is read when no publisher rule matches: an invalid event is not checked", async () => {
    const token = await signToken(key, claimsAt(nowSec(), { sub: "someone-else" }));
    const invalid = { "ce-specversion": "1.0", "ce-id": "x" }; // no source, no type
    const res = await post(invalid, token);
    expect(res.status).toBe(403);
    const problem = (await res.json()) as { code: string; errors?: unknown };
    expect(problem.code).toBe("forbidden");
    expect(problem.errors).toBeUndefined();
  });

  it("429 with Retry-After past the rule's rate", async () => {
    const token = await signToken(
      key,
      claimsAt(nowSec(), { sub: "limited", scope: "read publish:limited" }),
    );
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await post(binary(`rate-${i}`, "/anything", "com.example.limited"), token);
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get("retry-after");
    }
    expect(statuses.slice(0, 2)).toEqual([202, 202]);
    expect(statuses).toContain(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});

describe("--no-auth", () => {
  it("accepts without a token and marks events unauthenticated", async () => {
    const own = await startRecordingSink();
    const config = {
      auth: {
        issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key) }],
        publishers: [{ claims: { sub: "x" } }],
      },
      subscriptions: [{ id: "all", sink: own.url }],
    };
    const gw = createGateway({
      config: parseConfig(JSON.stringify(config), "noauth.json"),
      noAuth: true,
    });
    gw.start();
    const res = await gw.fetch(
      new Request("http://gw/events", {
        method: "POST",
        headers: { ...binary("na-1"), "ce-authid": "spoofed" },
      }),
    );
    expect(res.status).toBe(202);
    await gw.stop();
    expect(own.received[0]?.headers["ce-authtype"]).toBe("unauthenticated");
    expect(own.received[0]?.headers["ce-authid"]).toBeUndefined();
    await own.close();
  });
});

describe("admin routes", () => {
  it("401 without a token, 403 for a publisher token, through for an admin token", async () => {
    const own = createGateway({
      config: parseConfig(
        JSON.stringify({
          auth: {
            issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key) }],
            publishers: [{ claims: { sub: "orders-service" } }],
            admins: [{ claims: { scope: "herald:admin" } }],
          },
        }),
        "admin.json",
      ),
    });
    const get = (token?: string) =>
      own.fetch(
        new Request("http://gw/subscriptions", {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        }),
      );
    const anonymous = await get();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const publisher = await get(await signToken(key, claimsAt(nowSec())));
    expect(publisher.status).toBe(403);
    expect(publisher.headers.get("www-authenticate")).toMatch(/^Bearer error="insufficient_scope"/);
    const admin = await signToken(
      key,
      claimsAt(nowSec(), { sub: "ops", scope: "openid herald:admin" }),
    );
    const listed = await get(admin);
    expect(listed.status).toBe(200);
    expect(await listed.json()).toStrictEqual([]);
    // Every method on every admin path is behind the guard, not only GET.
    for (const [method, path] of [
      ["POST", "/subscriptions"],
      ["PUT", "/subscriptions/a"],
      ["DELETE", "/subscriptions/a"],
      ["OPTIONS", "/subscriptions"],
    ] as const) {
      const res = await own.fetch(new Request(`http://gw${path}`, { method }));
      expect(res.status, `${method} ${path}`).toBe(401);
    }
    // The API description is public: it holds no subscription and no secret.
    expect((await own.fetch(new Request("http://gw/openapi.json"))).status).toBe(200);
    // Health probes stay open.
    expect((await own.fetch(new Request("http://gw/healthz"))).status).toBe(200);
  });
});
