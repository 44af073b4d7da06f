import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GatewayOverHttp,
  startGatewayOverHttp,
} from "../../test/support/gateway-over-http.js";
import { type ScriptedSink, startScriptedSink } from "../../test/support/scripted-sink.js";
import { MalformedRequest } from "../errors/errors.js";
import { queryParameter } from "./query-parameter.js";

// `?limit=1&limit=500` was read as limit=1 (the first value): a repeated query parameter names
// no one value, so every route that reads one refuses it with 400 problem+json naming it.

describe("queryParameter", () => {
  it("takes the one value, undefined for none, refuses a repeat naming it", () => {
    expect(queryParameter(new URL("http://gw/x?limit=10"), "limit")).toBe("10");
    expect(queryParameter(new URL("http://gw/x?after="), "after")).toBe("");
    expect(queryParameter(new URL("http://gw/x?other=1&other=2"), "limit")).toBeUndefined();
    expect(() => queryParameter(new URL("http://gw/x?limit=1&limit=500"), "limit")).toThrow(
      new MalformedRequest("the query parameter limit is given 2 times; give it once"),
    );
  });
});

let sink: ScriptedSink;
let http: GatewayOverHttp;
beforeAll(async () => {
  sink = await startScriptedSink([{ status: 400 }]);
  http = await startGatewayOverHttp(
    {
      store: { kind: "memory" },
      subscriptions: [{ id: "orders", sink: sink.url, delivery: { retry: 0 } }],
      adapters: [{ id: "couch-any", kind: "couchdb", server: "https://couch.example.com" }],
    },
    "q.json",
  );
});
afterAll(async () => {
  await http.close();
  await sink.close();
});

async function expectRepeated(res: Response, name: string) {
  expect(res.status).toBe(400);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(await res.json()).toMatchObject({
    status: 400,
    code: "malformed_request",
    detail: `the query parameter ${name} is given 2 times; give it once`,
  });
}

describe("a repeated query parameter over HTTP", () => {
  it.each([
    ["limit=1&limit=500", "limit"],
    ["limit=1&limit=1", "limit"],
    ["after=1&after=2", "after"],
    ["limit=5&after=1&after=1", "after"],
  ])("GET /subscriptions/{id}/dead?%s: 400 malformed_request naming %s", async (query, name) => {
    await expectRepeated(await fetch(`${http.base}/subscriptions/orders/dead?${query}`), name);
  });

  it("GET /subscriptions/{id}/dead with each parameter once still pages", async () => {
    const res = await fetch(`${http.base}/subscriptions/orders/dead?limit=1&after=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ items: [] });
  });

  it("POST /webhooks/{couchdb}?db=a&db=b: 400 malformed_request naming db, nothing stored", async () => {
    const row = JSON.stringify({ seq: 7, id: "invoice-9", changes: [{ rev: "3-abc" }] });
    const post = (query: string) =>
      fetch(`${http.base}/webhooks/couch-any?${query}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: row,
      });
    await expectRepeated(await post("db=billing&db=other"), "db");
    expect(sink.received).toHaveLength(0);
    expect((await post("db=billing")).status).toBe(202);
  });
});
