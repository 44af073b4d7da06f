import { afterEach, describe, expect, it } from "vitest";
import { type ScriptedSink, startScriptedSink } from "../../test/support/scripted-sink.js";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  signToken,
} from "../../test/support/test-issuer.js";
import { parseConfig } from "../config/load-config.js";
import { createGateway, type Gateway } from "./create-gateway.js";

// GET /metrics: Prometheus text of what the gateway did, against real sinks on 127.0.0.1.

const sinks: ScriptedSink[] = [];
let gateway: Gateway | undefined;
afterEach(async () => {
  // This test's resources are taken before the first await: a hook that outlives its timeout
  // must not stop or close what the next test has started meanwhile.
  const [held, heldSinks] = [gateway, sinks.splice(0)];
  gateway = undefined;
  await held?.stop();
  for (const sink of heldSinks) await sink.close();
});

const event = (id: string) =>
  new Request("http://gw/events", {
    method: "POST",
    headers: {
      "ce-specversion": "1.0",
      "ce-id": id,
      "ce-source": "/shop",
      "ce-type": "com.example.order",
    },
  });

/** The value of one sample line, e.g. `herald_events_accepted_total 2`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(gw: Gateway, headers: Record<string, string> = {}) {
  const res = await gw.fetch(new Request("http://gw/metrics", { headers }));
  return { res, text: await res.text() };
}

describe("GET /metrics", () => {
  it("counts accepted, duplicate and refused events, attempts by outcome, and dead jobs", async () => {
    const ok = await startScriptedSink([{ status: 204 }]);
    const bad = await startScriptedSink([{ status: 500 }]);
    sinks.push(ok, bad);
    const config = {
      store: { kind: "memory" },
      subscriptions: [
        { id: "good", sink: ok.url },
        {
          id: "broken",
          sink: bad.url,
          delivery: { retry: 1, backoffDelay: "1ms", backoffMax: "1ms" },
        },
      ],
    };
    gateway = createGateway({ config: parseConfig(JSON.stringify(config), "m.json") });
    gateway.start();
    const before = await scrape(gateway);
    expect(before.res.status).toBe(200);
    expect(before.res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(before.text, "herald_events_accepted_total")).toBe(0);
    expect(sample(before.text, "herald_queue_depth")).toBe(0);

    expect((await gateway.fetch(event("m-1"))).status).toBe(202);
    expect((await gateway.fetch(event("m-1"))).status).toBe(202);
    expect((await gateway.fetch(event("m-2"))).status).toBe(202);
    const refused = await gateway.fetch(
      new Request("http://gw/events", { method: "POST", headers: { "ce-id": "x" } }),
    );
    expect(refused.status).toBe(400);
    await gateway.idle();

    const { text } = await scrape(gateway);
    expect(sample(text, "herald_events_accepted_total")).toBe(2);
    expect(sample(text, "herald_events_duplicate_total")).toBe(1);
    expect(sample(text, 'herald_events_rejected_total{reason="invalid_event"}')).toBe(1);
    expect(
      sample(
        text,
        'herald_deliveries_total{subscription="good",target="sink",outcome="delivered"}',
      ),
    ).toBe(2);
    // Two events, each tried twice (retry: 1), every attempt a 500: the first attempts are
    // retried, the last ones end the deliveries.
    expect(
      sample(text, 'herald_deliveries_total{subscription="broken",target="sink",outcome="retry"}'),
    ).toBe(2);
    expect(
      sample(text, 'herald_deliveries_total{subscription="broken",target="sink",outcome="dead"}'),
    ).toBe(2);
    expect(sample(text, 'herald_dead_events_total{subscription="broken",ending="store"}')).toBe(2);
    expect(
      sample(text, 'herald_delivery_duration_seconds_count{target="sink",outcome="delivered"}'),
    ).toBe(2);
    expect(text).toMatch(/# TYPE herald_delivery_duration_seconds histogram/);
    // Dead jobs are kept, not queued.
    expect(sample(text, "herald_queue_depth")).toBe(0);
  });

  it("counts the replies and receipts the gateway stores, and a reply it already had", async () => {
    // The sink answers every delivery with the same reply event: stored once, then a duplicate.
    const reply = {
      status: 200,
      headers: {
        "ce-specversion": "1.0",
        "ce-id": "invoice-1",
        "ce-source": "/billing",
        "ce-type": "com.example.invoice",
      },
    };
    const billing = await startScriptedSink([reply]);
    const audit = await startScriptedSink([{ status: 204 }]);
    sinks.push(billing, audit);
    const config = {
      store: { kind: "memory" },
      subscriptions: [
        {
          id: "billing",
          types: ["com.example.order"],
          sink: billing.url,
          delivery: { reply: true, receipts: true },
        },
        {
          id: "audit",
          types: ["com.example.invoice", "dev.herald.delivery.succeeded"],
          sink: audit.url,
        },
      ],
    };
    gateway = createGateway({ config: parseConfig(JSON.stringify(config), "m.json") });
    gateway.start();
    expect((await gateway.fetch(event("o-1"))).status).toBe(202);
    await gateway.idle();
    expect((await gateway.fetch(event("o-2"))).status).toBe(202);
    await gateway.idle();

    const { text } = await scrape(gateway);
    // Two orders, one invoice (the second reply is a duplicate), two receipts.
    expect(audit.received).toHaveLength(3);
    expect(sample(text, "herald_events_accepted_total")).toBe(5);
    expect(sample(text, "herald_events_duplicate_total")).toBe(1);
  });

  it("is part of the admin API when the config has auth", async () => {
    const key = await makeKey("ES256", "k1");
    const config = {
      store: { kind: "memory" },
      auth: {
        issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key), algorithms: ["ES256"] }],
        publishers: [{ claims: { sub: "orders-service" } }],
        admins: [{ claims: { scope: "herald:admin" } }],
      },
      subscriptions: [],
    };
    gateway = createGateway({ config: parseConfig(JSON.stringify(config), "m.json") });
    const now = Math.floor(Date.now() / 1000);
    const publisher = await signToken(key, claimsAt(now));
    const admin = await signToken(key, claimsAt(now, { scope: "herald:admin" }));

    const anonymous = await scrape(gateway);
    expect(anonymous.res.status).toBe(401);
    expect(anonymous.res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect((await scrape(gateway, { authorization: `Bearer ${publisher}` })).res.status).toBe(403);
    const allowed = await scrape(gateway, { authorization: `Bearer ${admin}` });
    expect(allowed.res.status).toBe(200);
    expect(allowed.text).toContain("# TYPE herald_events_accepted_total counter");
  });

  it("answers other methods with 405 and Allow: GET", async () => {
    gateway = createGateway({
      config: parseConfig(JSON.stringify({ store: { kind: "memory" } }), "m.json"),
    });
    const res = await gateway.fetch(new Request("http://gw/metrics", { method: "POST" }));
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
  });

  it("answers OPTIONS with 200 and Allow (it was 405), behind the admin rule as GET is", async () => {
    const key = await makeKey("ES256", "k1");
    const now = Math.floor(Date.now() / 1000);
    const admin = await signToken(key, claimsAt(now, { sub: "ops", scope: "herald:admin" }));
    const gw = createGateway({
      config: parseConfig(
        JSON.stringify({
          store: { kind: "memory" },
          auth: {
            issuers: [
              { issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key), algorithms: ["ES256"] },
            ],
            publishers: [{ claims: { sub: "orders-service" } }],
            admins: [{ claims: { scope: "herald:admin" } }],
          },
        }),
        "m.json",
      ),
    });
    gateway = gw;
    const options = (headers: Record<string, string>) =>
      gw.fetch(new Request("http://gw/metrics", { method: "OPTIONS", headers }));
    expect((await options({})).status).toBe(401);
    const res = await options({ authorization: `Bearer ${admin}` });
    expect(res.status).toBe(200);
    expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    expect(res.headers.get("content-length")).toBe("0");
  });
});
