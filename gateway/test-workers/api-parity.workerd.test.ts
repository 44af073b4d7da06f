import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase, testWorker } from "./harness.js";

beforeEach(async () => {
  await resetDatabase();
});

const json = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

describe("the read-only endpoints on Workers", () => {
  it("OPTIONS on /healthz, /readyz, /openapi.json and /metrics is 200 with Allow, as on Node", async () => {
    const gw = testWorker({ subscriptions: [] });
    for (const path of ["/healthz", "/readyz", "/openapi.json", "/metrics"]) {
      const res = await gw.request(path, { method: "OPTIONS" });
      expect(res.status, path).toBe(200);
      expect(res.headers.get("allow"), path).toBe("GET, HEAD, OPTIONS");
      expect(await res.text(), path).toBe("");
      const put = await gw.request(path, { method: "PUT" });
      expect(put.status, path).toBe(405);
      expect(put.headers.get("allow"), path).toBe("GET, HEAD, OPTIONS");
    }
  });
});

describe("GET /store/backup on Workers", () => {
  it("is 501 backup_unsupported pointing at D1 Time Travel and export; HEAD too, 405 elsewhere", async () => {
    const gw = testWorker({ subscriptions: [] });
    const res = await gw.request("/store/backup");
    expect(res.status).toBe(501);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe("backup_unsupported");
    expect(problem.detail).toContain("wrangler d1 time-travel restore");
    expect(problem.detail).toContain("wrangler d1 export");
    expect((await gw.request("/store/backup", { method: "HEAD" })).status).toBe(501);
    const post = await gw.request("/store/backup", { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });
});

describe("the Subscriptions API on Workers, as on Node", () => {
  const sink = "http://sink.test/events";

  it("refuses a sql filter that is a core attribute alone, never true", async () => {
    const gw = testWorker({ subscriptions: [] });
    const res = await gw.request(
      "/subscriptions",
      json("POST", { sink, filters: [{ sql: "type" }] }),
    );
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; errors: { field: string }[] };
    expect(problem.code).toBe("invalid_subscription");
    expect(problem.errors[0]?.field).toMatch(/^filters\[0\]\.sql/);
  });

  it("points 'filter' at 'filters', a list", async () => {
    const gw = testWorker({ subscriptions: [] });
    const res = await gw.request(
      "/subscriptions",
      json("POST", { sink, filter: { exact: { type: "a" } } }),
    );
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain("spell it filters");
  });

  it("takes a PUT body's id: null as an absent id", async () => {
    const gw = testWorker({ subscriptions: [] });
    const created = await gw.request("/subscriptions", json("POST", { sink }));
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    for (const body of [{ id }, {}, { id: null }]) {
      const put = await gw.request(`/subscriptions/${id}`, json("PUT", { ...body, sink }));
      expect(put.status, JSON.stringify(body)).toBe(200);
      expect(((await put.json()) as { id: string }).id).toBe(id);
    }
    const other = await gw.request(`/subscriptions/${id}`, json("PUT", { id: "other", sink }));
    expect(other.status).toBe(400);
  });

  it("refuses another protocol once, by protocol, not again through its protocolsettings", async () => {
    const gw = testWorker({ subscriptions: [] });
    const res = await gw.request(
      "/subscriptions",
      json("POST", { sink, protocol: "MQTT5", protocolsettings: { topicname: "t", qos: 1 } }),
    );
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { errors: { field: string; message: string }[] };
    expect(problem.errors).toEqual([
      {
        field: "protocol",
        message: 'must be "HTTP" (the only delivery protocol supported; case-sensitive)',
      },
    ]);
  });
});
