import { afterEach, describe, expect, it } from "vitest";
import { publishOrder } from "../../test/support/publish-order.js";
import { type ScriptedSink, startScriptedSink } from "../../test/support/scripted-sink.js";
import { parseConfig } from "../config/load-config.js";
import { createGateway, type Gateway } from "./create-gateway.js";

// The whole path in one process: ingest, the memory store, the dispatcher, settle and the admin
// API, against real sinks on 127.0.0.1. Retries use 1 ms backoffs so nothing waits long.

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

async function sinkOf(...script: Parameters<typeof startScriptedSink>[0]) {
  const sink = await startScriptedSink(script);
  sinks.push(sink);
  return sink;
}

function start(delivery: Record<string, unknown>, sink: string) {
  const config = {
    store: { kind: "memory" },
    subscriptions: [
      {
        id: "orders",
        types: ["com.example.order"],
        sink,
        delivery: { backoffDelay: "1ms", backoffMax: "2ms", ...delivery },
      },
    ],
  };
  gateway = createGateway({
    config: parseConfig(JSON.stringify(config), "t.json"),
    random: () => 0.5,
  });
  gateway.start();
  return gateway;
}

const admin = (gw: Gateway, method: string, path: string) =>
  gw.fetch(new Request(`http://gw${path}`, { method }));

describe("reliable delivery through the gateway", () => {
  it("retries a flaky sink until it takes the event", async () => {
    const sink = await sinkOf({ status: 503 }, { status: 502 }, { status: 204 });
    const gw = start({ retry: 3 }, sink.url);
    await publishOrder(gw, "flaky-1");
    await sink.waitFor(3);
    await gw.idle();
    expect(sink.received.map((r) => r.headers["ce-id"])).toStrictEqual([
      "flaky-1",
      "flaky-1",
      "flaky-1",
    ]);
    const dead = await (await admin(gw, "GET", "/subscriptions/orders/dead")).json();
    expect(dead).toStrictEqual({ items: [] });
  });

  it("keeps an event it cannot deliver as dead, lists it, and redrives it", async () => {
    const sink = await sinkOf({ status: 500, body: "boom" }, { status: 500 }, { status: 204 });
    const gw = start({ retry: 1 }, sink.url);
    await publishOrder(gw, "dead-1");
    await sink.waitFor(2);
    await gw.idle();
    const listed = (await (await admin(gw, "GET", "/subscriptions/orders/dead")).json()) as {
      items: {
        jobId: string;
        attempts: number;
        failure: { status: number };
        event: { id: string };
      }[];
    };
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({
      attempts: 2,
      failure: { status: 500 },
      event: { id: "dead-1" },
    });
    const redrive = await admin(gw, "POST", "/subscriptions/orders/redrive");
    expect(await redrive.json()).toStrictEqual({ redriven: 1 });
    await sink.waitFor(3);
    await gw.idle();
    expect(sink.received).toHaveLength(3);
    expect(await (await admin(gw, "GET", "/subscriptions/orders/dead")).json()).toStrictEqual({
      items: [],
    });
  });

  it("sends a permanently refused event to the dead-letter sink with the heralderror attributes", async () => {
    const sink = await sinkOf({ status: 400, body: "no such order" });
    const dlq = await sinkOf({ status: 204 });
    const gw = start({ retry: 5, deadLetterSink: dlq.url }, sink.url);
    await publishOrder(gw, "refused-1");
    const [letter] = await dlq.waitFor(1);
    await gw.idle();
    expect(sink.received).toHaveLength(1);
    expect(letter?.headers).toMatchObject({
      "ce-id": "refused-1",
      "ce-heralderrordest": sink.url,
      "ce-heralderrorcode": "400",
      "ce-heraldattempts": "1",
    });
    expect(String(letter?.headers["ce-heralderrordata"])).toContain("no%20such%20order");
  });

  it("a sink that redirects: heralderrordata and the log name the Location, its credentials hidden", async () => {
    const location = "https://moved.example.com/hooks/v2?token=t0k3n-abcdef123&team=orders";
    const sink = await sinkOf({
      status: 301,
      headers: { location },
      body: `Moved Permanently. Redirecting to ${location}`,
    });
    const dlq = await sinkOf({ status: 204 });
    const logged: Record<string, unknown>[] = [];
    const remember = (message: string, fields?: Record<string, unknown>) => {
      logged.push({ message, ...fields });
    };
    const config = {
      store: { kind: "memory" },
      subscriptions: [
        { id: "orders", sink: sink.url, delivery: { retry: 5, deadLetterSink: dlq.url } },
      ],
    };
    gateway = createGateway({
      config: parseConfig(JSON.stringify(config), "t.json"),
      logger: { debug: remember, info: remember, warn: remember, error: remember },
    });
    gateway.start();
    await publishOrder(gateway, "moved-1");
    const [letter] = await dlq.waitFor(1);
    await gateway.idle();
    expect(sink.received).toHaveLength(1);
    expect(letter?.headers).toMatchObject({
      "ce-heralderrorcode": "301",
      "ce-heraldattempts": "1",
    });
    const data = decodeURIComponent(String(letter?.headers["ce-heralderrordata"]));
    expect(data).toBe(
      "HTTP 301 redirect to https://moved.example.com/hooks/v2?token=redacted&team=orders (redirects are not followed): Moved Permanently. Redirecting to https://moved.example.com/hooks/v2?token=[redacted]&team=orders",
    );
    const failed = logged.find((entry) => String(entry.message).startsWith("delivery failed"));
    expect(failed).toMatchObject({ status: 301, error: data });
    expect(JSON.stringify(logged)).not.toContain("t0k3n-abcdef123");
  });

  it("410 Gone disables the subscription (visible in the API) until it is updated", async () => {
    const sink = await sinkOf({ status: 410 }, { status: 204 });
    const gw = start({}, sink.url);
    await publishOrder(gw, "gone-1");
    await sink.waitFor(1);
    await gw.idle();
    const shown = (await (await admin(gw, "GET", "/subscriptions/orders")).json()) as {
      disabled?: { reason: string };
    };
    expect(shown.disabled?.reason).toMatch(/410/);
    await publishOrder(gw, "gone-2");
    await gw.idle();
    expect(sink.received).toHaveLength(1);
  });

  it("acknowledges a duplicate source + id and does not deliver it again", async () => {
    const sink = await sinkOf({ status: 204 });
    const gw = start({}, sink.url);
    await publishOrder(gw, "dup-1");
    await publishOrder(gw, "dup-1");
    await publishOrder(gw, "dup-2");
    await sink.waitFor(2);
    await gw.idle();
    expect(sink.received.map((r) => r.headers["ce-id"])).toStrictEqual(["dup-1", "dup-2"]);
  });

  it("redrives only the jobs named in the body", async () => {
    const sink = await sinkOf({ status: 400 });
    const gw = start({ retry: 0 }, sink.url);
    await publishOrder(gw, "named-1");
    await publishOrder(gw, "named-2");
    await sink.waitFor(2);
    await gw.idle();
    const listed = (await (
      await admin(gw, "GET", "/subscriptions/orders/dead?limit=1")
    ).json()) as {
      items: { jobId: string }[];
      next?: string;
    };
    expect(listed.items).toHaveLength(1);
    expect(listed.next).toBe(listed.items[0]?.jobId);
    const body = JSON.stringify({ jobIds: [listed.items[0]?.jobId] });
    const res = await gw.fetch(
      new Request("http://gw/subscriptions/orders/redrive", {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(body.length) },
        body,
      }),
    );
    expect(await res.json()).toStrictEqual({ redriven: 1 });
    await sink.waitFor(3);
    await gw.idle();
    const left = (await (await admin(gw, "GET", "/subscriptions/orders/dead")).json()) as {
      items: { event: { id: string } }[];
    };
    expect(left.items.map((i) => i.event.id)).toHaveLength(2);
  });

  it("answers 404 for the dead set of an unknown subscription and 405 for other methods", async () => {
    const sink = await sinkOf({ status: 204 });
    const gw = start({}, sink.url);
    expect((await admin(gw, "GET", "/subscriptions/nope/dead")).status).toBe(404);
    expect((await admin(gw, "POST", "/subscriptions/nope/redrive")).status).toBe(404);
    expect((await admin(gw, "PUT", "/subscriptions/orders/dead")).status).toBe(405);
    expect((await admin(gw, "GET", "/subscriptions/orders/dead?limit=0")).status).toBe(400);
  });

  it("answers OPTIONS on the dead set and redrive with 200 and Allow, 404 for an unknown subscription", async () => {
    const sink = await sinkOf({ status: 204 });
    const gw = start({}, sink.url);
    const dead = await admin(gw, "OPTIONS", "/subscriptions/orders/dead");
    expect(dead.status).toBe(200);
    expect(dead.headers.get("allow")).toBe("GET, HEAD, DELETE, OPTIONS");
    const redrive = await admin(gw, "OPTIONS", "/subscriptions/orders/redrive");
    expect(redrive.status).toBe(200);
    expect(redrive.headers.get("allow")).toBe("POST, OPTIONS");
    expect((await admin(gw, "OPTIONS", "/subscriptions/nope/dead")).status).toBe(404);
    const wrong = await admin(gw, "PUT", "/subscriptions/orders/redrive");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST, OPTIONS");
  });

  it.each([
    ["GET", "/subscriptions/orders/dead?limit=0", undefined, /limit must be an integer/],
    ["GET", "/subscriptions/orders/dead?limit=abc", undefined, /limit must be an integer/],
    ["GET", "/subscriptions/orders/dead?after=not%20an%20id", undefined, /after must be a jobId/],
    ["GET", "/subscriptions/orders/dead?after=zzz", undefined, /after must be a jobId/],
    ["GET", "/subscriptions/orders/dead?after=-5", undefined, /after must be a jobId/],
    // A Worker's job id (a UUID), as test-workers/delivery.workerd.test.ts asks there.
    [
      "GET",
      "/subscriptions/orders/dead?after=0b7c2f0e-7d4e-4c1a-9a39-3f5a2f7d9e11",
      undefined,
      /after must be a jobId/,
    ],
    ["POST", "/subscriptions/orders/redrive", '{"jobIds":"x"}', /"jobIds"/],
  ])("400 malformed_request for %s %s %s", async (method, path, body, detail) => {
    const sink = await sinkOf({ status: 204 });
    const gw = start({}, sink.url);
    const res = await gw.fetch(
      new Request(`http://gw${path}`, {
        method,
        ...(body === undefined
          ? {}
          : {
              body,
              headers: {
                "content-type": "application/json",
                "content-length": String(body.length),
              },
            }),
      }),
    );
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe("malformed_request");
    expect(problem.detail).toMatch(detail);
  });
});
