import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { publishOrder } from "../../test/support/publish-order.js";
import type { Received } from "../../test/support/recording-sink.js";
import {
  type Reply,
  type ScriptedSink,
  startScriptedSink,
} from "../../test/support/scripted-sink.js";
import { createNodeSinkClient } from "../adapters/node/node-sink-client.js";
import { parseConfig } from "../config/load-config.js";
import type { SinkClient } from "../deliver/sink-client.js";
import { createGateway, type Gateway } from "./create-gateway.js";

// On-success semantics through the whole gateway, against real sinks on 127.0.0.1: reply events
// (Prefer: reply), delivery receipts routed by ordinary subscriptions, and the hop limit.

const sinks: ScriptedSink[] = [];
const clients: { close(): void }[] = [];
let gateway: Gateway | undefined;
afterEach(async () => {
  // This test's resources are taken before the first await: a hook that outlives its timeout
  // must not stop or close what the next test has started meanwhile.
  const [held, heldClients, heldSinks] = [gateway, clients.splice(0), sinks.splice(0)];
  gateway = undefined;
  await held?.stop();
  for (const client of heldClients) client.close();
  for (const sink of heldSinks) await sink.close();
});

type Step = Reply | ((request: Received, n: number) => Reply);
async function sinkOf(...script: Step[]) {
  const sink = await startScriptedSink(script);
  sinks.push(sink);
  return sink;
}

function start(subscriptions: object[], limits: object = {}, sinkClient?: SinkClient) {
  const config = { store: { kind: "memory" }, limits, subscriptions };
  gateway = createGateway({
    config: parseConfig(JSON.stringify(config), "t.json"),
    random: () => 0.5,
    ...(sinkClient === undefined ? {} : { sinkClient }),
  });
  gateway.start();
  return gateway;
}

const publish = (gw: Gateway, id: string, headers: Record<string, string> = {}) =>
  publishOrder(gw, id, { "content-type": "application/json", ...headers }, '{"order":1}');

/** A binary-mode reply event. */
const invoiceReply = (id: string, type = "com.example.invoice"): Reply => ({
  status: 200,
  headers: {
    "ce-specversion": "1.0",
    "ce-id": id,
    "ce-source": "/billing",
    "ce-type": type,
    "content-type": "application/json",
  },
  body: '{"invoice":7}',
});

const header = (r: Received | undefined, name: string) => r?.headers[name];

describe("reply events", () => {
  it("ingests a sink's reply and routes it, with correlation, provenance and hop count", async () => {
    const billing = await sinkOf(invoiceReply("inv-1"));
    const accounting = await sinkOf({ status: 204 });
    const gw = start([
      {
        id: "billing",
        types: ["com.example.order"],
        sink: billing.url,
        delivery: { reply: { sources: ["/billing"], types: ["com.example.*"] } },
      },
      { id: "accounting", types: ["com.example.invoice"], sink: accounting.url },
    ]);
    await publish(gw, "order-1", {
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    });
    const [invoice] = await accounting.waitFor(1);
    await gw.idle();
    const [order] = billing.received;
    expect(header(order, "prefer")).toBe("reply");
    expect(invoice?.headers).toMatchObject({
      "ce-id": "inv-1",
      "ce-source": "/billing",
      "ce-type": "com.example.invoice",
      "ce-causationid": "order-1",
      "ce-correlationid": "order-1",
      "ce-heraldhops": "1",
      "ce-authtype": "system",
      "ce-authid": "subscription:billing",
    });
    expect(JSON.parse(String(invoice?.body))).toStrictEqual({ invoice: 7 });
    // The reply stays in the order's trace.
    expect(header(invoice, "ce-traceparent")).toBe(header(order, "ce-traceparent"));
    // The subscription that replies is delivered to once; the reply is not sent back to it.
    expect(billing.received).toHaveLength(1);
    const dead = await (await gw.fetch(new Request("http://gw/subscriptions/billing/dead"))).json();
    expect(dead).toStrictEqual({ items: [] });
  });

  it("keeps a chain's correlationid and takes a structured-mode reply", async () => {
    const billing = await sinkOf({
      status: 201,
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify({
        specversion: "1.0",
        id: "inv-2",
        source: "/billing",
        type: "com.example.invoice",
        authtype: "user",
        authid: "forged",
        data: { invoice: 8 },
      }),
    });
    const accounting = await sinkOf({ status: 204 });
    const gw = start([
      { id: "billing", types: ["com.example.order"], sink: billing.url, delivery: { reply: true } },
      { id: "accounting", types: ["com.example.invoice"], sink: accounting.url },
    ]);
    await publish(gw, "order-2", { "ce-correlationid": "checkout-9" });
    const [invoice] = await accounting.waitFor(1);
    expect(invoice?.headers).toMatchObject({
      "ce-causationid": "order-2",
      "ce-correlationid": "checkout-9",
      // What the sink claimed is replaced by the gateway's provenance.
      "ce-authtype": "system",
      "ce-authid": "subscription:billing",
    });
  });

  it("does not ask for a reply, nor take one, without delivery.reply", async () => {
    const billing = await sinkOf(invoiceReply("inv-3"));
    const accounting = await sinkOf({ status: 204 });
    const gw = start([
      { id: "billing", types: ["com.example.order"], sink: billing.url },
      { id: "accounting", types: ["com.example.invoice"], sink: accounting.url },
    ]);
    await publish(gw, "order-3");
    await billing.waitFor(1);
    await gw.idle();
    expect(header(billing.received[0], "prefer")).toBeUndefined();
    expect(accounting.received).toHaveLength(0);
  });

  it("treats a 200 without an event, and a 204, as plain success", async () => {
    const billing = await sinkOf(
      { status: 200, headers: { "content-type": "text/plain" }, body: "ok" },
      { status: 204 },
    );
    const dlq = await sinkOf({ status: 204 });
    const gw = start([
      {
        id: "billing",
        types: ["com.example.order"],
        sink: billing.url,
        delivery: { reply: true, deadLetterSink: dlq.url },
      },
    ]);
    await publish(gw, "order-4a");
    await publish(gw, "order-4b");
    await billing.waitFor(2);
    await gw.idle();
    expect(dlq.received).toHaveLength(0);
  });

  it.each([
    [
      "a type the policy does not allow",
      invoiceReply("inv-5", "com.other.invoice"),
      /not allowed by delivery\.reply\.types/,
    ],
    [
      "an invalid event (no ce-type)",
      {
        status: 200,
        headers: { "ce-specversion": "1.0", "ce-id": "x", "ce-source": "/billing" },
      } as Reply,
      /invalid reply \(invalid_event\).*type/,
    ],
    [
      "unparseable JSON",
      { status: 200, headers: { "content-type": "application/cloudevents+json" }, body: "{" },
      /invalid reply \(malformed_request\)/,
    ],
    [
      "a batch",
      {
        status: 200,
        headers: { "content-type": "application/cloudevents-batch+json" },
        body: "[]",
      },
      /one event/,
    ],
  ])("refuses %s: not ingested, the order dead-lettered with the reason", async (_, reply, why) => {
    const billing = await sinkOf(reply);
    const accounting = await sinkOf({ status: 204 });
    const dlq = await sinkOf({ status: 204 });
    const gw = start([
      {
        id: "billing",
        types: ["com.example.order"],
        sink: billing.url,
        delivery: {
          reply: { types: ["com.example.invoice"] },
          deadLetterSink: dlq.url,
          retry: 0,
        },
      },
      {
        id: "accounting",
        types: ["com.example.invoice", "com.other.invoice"],
        sink: accounting.url,
      },
    ]);
    await publish(gw, "order-5");
    const [dead] = await dlq.waitFor(1);
    await gw.idle();
    expect(accounting.received).toHaveLength(0);
    expect(header(dead, "ce-id")).toBe("order-5");
    expect(header(dead, "ce-heraldErrorCode".toLowerCase())).toBe("200");
    const data = decodeURIComponent(String(header(dead, "ce-heralderrordata")));
    expect(data).toMatch(/^delivered \(HTTP 200\), but its reply was not ingested: /);
    expect(data).toMatch(why);
    // One delivery: the refusal does not make the gateway send the order again.
    expect(billing.received).toHaveLength(1);
  });

  // A sink may compress its answer although the delivery asked for `Accept-Encoding: identity`
  // (or the subscription asked for gzip itself): the Node client hands the gzip bytes on as they
  // came, and they must not become the reply's data; a fetch client decodes them, and the reply
  // is refused there too, so the outcome is the same on every adapter.
  it.each([
    [
      "the Node sink client",
      () => {
        const client = createNodeSinkClient();
        clients.push(client);
        return client;
      },
    ],
    ["a fetch sink client", () => undefined],
  ])(
    "refuses a content-coded (gzip) reply with %s: not ingested, the order dead-lettered",
    async (_, client) => {
      const billing = await sinkOf({
        status: 200,
        headers: {
          "ce-specversion": "1.0",
          "ce-id": "inv-gz",
          "ce-source": "/billing",
          "ce-type": "com.example.invoice",
          "content-type": "application/json",
          "content-encoding": "gzip",
        },
        body: gzipSync('{"invoice":7}'),
      });
      const accounting = await sinkOf({ status: 204 });
      const dlq = await sinkOf({ status: 204 });
      const gw = start(
        [
          {
            id: "billing",
            types: ["com.example.order"],
            sink: billing.url,
            delivery: { reply: true, deadLetterSink: dlq.url, retry: 0 },
          },
          { id: "accounting", types: ["com.example.invoice"], sink: accounting.url },
        ],
        {},
        client(),
      );
      await publish(gw, "order-gz");
      // Whichever comes first: the reply at accounting (the bug) or the order at the dead letters.
      await Promise.race([dlq.waitFor(1), accounting.waitFor(1)]);
      await gw.idle();
      expect(accounting.received).toHaveLength(0);
      const [dead] = dlq.received;
      const data = decodeURIComponent(String(header(dead, "ce-heralderrordata")));
      expect(data).toMatch(/^delivered \(HTTP 200\), but its reply was not ingested: /);
      expect(data).toMatch(/Content-Encoding gzip is not supported/);
    },
  );

  /** A sink that answers every order with another order: a reply loop, dead-lettered to `dlq`. */
  async function echoLoop(prefix: string, maxReplyHops: number) {
    let n = 0;
    const echo = await sinkOf(() => invoiceReply(`${prefix}-${++n}`, "com.example.order"));
    const dlq = await sinkOf({ status: 204 });
    const gw = start(
      [
        {
          id: "echo",
          types: ["com.example.order"],
          sink: echo.url,
          delivery: { reply: true, deadLetterSink: dlq.url },
        },
      ],
      { maxReplyHops },
    );
    const hops = () => echo.received.map((r) => header(r, "ce-heraldhops") ?? "0");
    return { gw, dlq, hops };
  }

  it("drops a heraldhops the publisher sent: a published event starts the chain at 0", async () => {
    const { gw, dlq, hops } = await echoLoop("hop", 2);
    // A forged count at the limit would have had the first reply refused.
    await publish(gw, "hop-0", { "ce-heraldhops": "2" });
    await dlq.waitFor(1);
    await gw.idle();
    expect(hops()).toStrictEqual(["0", "1", "2"]);
  });

  it("stops a reply loop at limits.maxReplyHops and dead-letters the event that would pass it", async () => {
    const { gw, dlq, hops } = await echoLoop("ping", 3);
    await publish(gw, "ping-0");
    const [dead] = await dlq.waitFor(1);
    await gw.idle();
    // The published event (hop 0) and three replies (hops 1..3) were delivered; the reply to the
    // third would be hop 4.
    expect(hops()).toStrictEqual(["0", "1", "2", "3"]);
    expect(header(dead, "ce-heraldhops")).toBe("3");
    expect(decodeURIComponent(String(header(dead, "ce-heralderrordata")))).toMatch(
      /reply loop: the reply would be hop 4, past limits\.maxReplyHops \(3\)/,
    );
  });
});

describe("delivery receipts", () => {
  const receiptsOf = (id: string) => ({
    id: `receipts-of-${id}`,
    source: `/herald/subscriptions/${id}`,
    filters: [{ prefix: { type: "dev.herald." } }],
    delivery: { receipts: true },
  });

  it("emits succeeded, failed and disabled receipts, routed by an ordinary subscription", async () => {
    const ok = await sinkOf({ status: 204 });
    const bad = await sinkOf({ status: 400, body: "nope" });
    const gone = await sinkOf({ status: 410 });
    const alerts = await sinkOf({ status: 204 });
    const gw = start([
      { id: "ok", types: ["com.example.order"], sink: ok.url, delivery: { receipts: true } },
      {
        id: "bad",
        types: ["com.example.order"],
        sink: bad.url,
        delivery: { receipts: true, retry: 0 },
      },
      { id: "gone", types: ["com.example.order"], sink: gone.url, delivery: { receipts: true } },
      // Receipts of every subscription, themselves with receipts on: they must not produce more.
      { ...receiptsOf("ok"), sink: alerts.url },
      { ...receiptsOf("bad"), sink: alerts.url },
      { ...receiptsOf("gone"), sink: alerts.url },
    ]);
    await publish(gw, "order-r1");
    await alerts.waitFor(4);
    // Receipts are queued before the job they report on ends: idle means all are delivered.
    await gw.idle();
    const byType = new Map<string, Received[]>();
    for (const r of alerts.received) {
      const type = String(header(r, "ce-type"));
      byType.set(type, [...(byType.get(type) ?? []), r]);
    }
    expect([...byType.keys()].sort()).toStrictEqual([
      "dev.herald.delivery.failed",
      "dev.herald.delivery.succeeded",
      "dev.herald.subscription.disabled",
    ]);
    const [succeeded] = byType.get("dev.herald.delivery.succeeded") ?? [];
    expect(succeeded?.headers).toMatchObject({
      "ce-source": "/herald/subscriptions/ok",
      "ce-authtype": "system",
      "ce-authid": "herald",
      "ce-causationid": "order-r1",
      "content-type": "application/json",
    });
    expect(JSON.parse(String(succeeded?.body))).toMatchObject({
      subscription: "ok",
      sink: ok.url,
      event: { source: "/shop", id: "order-r1", type: "com.example.order" },
      attempts: 1,
      status: 204,
      latencyMs: expect.any(Number),
    });
    // 410 is a permanent failure too: one failed receipt for "bad", one for "gone".
    const failed = (byType.get("dev.herald.delivery.failed") ?? []).map((r) =>
      JSON.parse(String(r.body)),
    );
    expect(failed.map((f) => f.subscription).sort()).toStrictEqual(["bad", "gone"]);
    expect(failed.find((f) => f.subscription === "bad")).toMatchObject({
      status: 400,
      error: "nope",
      ending: "store",
      attempts: 1,
    });
    const [disabled] = byType.get("dev.herald.subscription.disabled") ?? [];
    expect(JSON.parse(String(disabled?.body))).toMatchObject({ subscription: "gone", status: 410 });
    // Four receipts in all: none for the deliveries of receipts.
    expect(alerts.received).toHaveLength(4);
  });

  it("emits a new receipt for each outcome of a redriven job", async () => {
    const bad = await sinkOf({ status: 400, body: "nope" });
    const alerts = await sinkOf({ status: 204 });
    const gw = start([
      {
        id: "bad",
        types: ["com.example.order"],
        sink: bad.url,
        delivery: { receipts: true, retry: 0 },
      },
      { ...receiptsOf("bad"), sink: alerts.url },
    ]);
    await publish(gw, "order-r3");
    for (let round = 1; round <= 3; round++) {
      await alerts.waitFor(round);
      await gw.idle();
      if (round < 3) {
        const redrive = await gw.fetch(
          new Request("http://gw/subscriptions/bad/redrive", { method: "POST" }),
        );
        expect(await redrive.json()).toEqual({ redriven: 1 });
      }
    }
    expect(bad.received).toHaveLength(3);
    const ids = alerts.received.map((r) => header(r, "ce-id"));
    expect(new Set(ids).size).toBe(3);
    for (const r of alerts.received) {
      expect(header(r, "ce-type")).toBe("dev.herald.delivery.failed");
      expect(JSON.parse(String(r.body))).toMatchObject({ event: { id: "order-r3" } });
    }
  });

  it("after a 410, queued jobs are not sent to the gone sink, and one disabled receipt is emitted", async () => {
    const gone = await sinkOf({ status: 410 });
    const alerts = await sinkOf({ status: 204 });
    const gw = start([
      {
        id: "gone",
        types: ["com.example.order"],
        sink: gone.url,
        delivery: { receipts: true, concurrency: 1 },
      },
      { ...receiptsOf("gone"), sink: alerts.url },
    ]);
    const batch = Array.from({ length: 5 }, (_, i) => ({
      specversion: "1.0",
      id: `order-g${i}`,
      source: "/shop",
      type: "com.example.order",
    }));
    const res = await gw.fetch(
      new Request("http://gw/events", {
        method: "POST",
        headers: { "content-type": "application/cloudevents-batch+json" },
        body: JSON.stringify(batch),
      }),
    );
    expect(res.status).toBe(202);
    await alerts.waitFor(6);
    await gw.idle();
    expect(gone.received).toHaveLength(1);
    const types = alerts.received.map((r) => String(header(r, "ce-type")));
    expect(types.filter((t) => t === "dev.herald.subscription.disabled")).toHaveLength(1);
    expect(types.filter((t) => t === "dev.herald.delivery.failed")).toHaveLength(5);
    const dead = (await (
      await gw.fetch(new Request("http://gw/subscriptions/gone/dead"))
    ).json()) as {
      items: { error?: string; failure?: { error: string } }[];
    };
    expect(dead.items).toHaveLength(5);
    const notSent = JSON.stringify(dead.items).match(/not sent: the subscription is disabled/g);
    expect(notSent).toHaveLength(4);
  });

  it("emits no receipts without delivery.receipts", async () => {
    const ok = await sinkOf({ status: 204 });
    const alerts = await sinkOf({ status: 204 });
    const gw = start([
      { id: "ok", types: ["com.example.order"], sink: ok.url },
      { ...receiptsOf("ok"), sink: alerts.url },
    ]);
    await publish(gw, "order-r2");
    await ok.waitFor(1);
    await gw.idle();
    expect(alerts.received).toHaveLength(0);
  });
});

describe("replies and receipts on a full or draining memory queue", () => {
  /** billing answers each order with an invoice; its receipts go to audit, invoices to accounting. */
  async function chain(limits: object = {}) {
    let n = 0;
    const billing = await sinkOf(() => invoiceReply(`inv-q${++n}`));
    const audit = await sinkOf({ status: 204 });
    const accounting = await sinkOf({ status: 204 });
    const config = {
      store: { kind: "memory" },
      limits,
      subscriptions: [
        {
          id: "billing",
          types: ["com.example.order"],
          sink: billing.url,
          delivery: { reply: true, receipts: true },
        },
        { id: "audit", source: "/herald/subscriptions/billing", sink: audit.url },
        { id: "accounting", types: ["com.example.invoice"], sink: accounting.url },
      ],
    };
    gateway = createGateway({
      config: parseConfig(JSON.stringify(config), "t.json"),
      drainMs: 3000,
    });
    gateway.start();
    return { gw: gateway, audit, accounting };
  }

  it("takes them past limits.maxQueuedDeliveries: a queue full of such jobs still drains", async () => {
    // Each job holds its room until its reply and receipt are in; had they waited for room, no
    // job could ever end (and each would be sent again when its lease ran out).
    const { gw, audit, accounting } = await chain({ maxQueuedDeliveries: 2 });
    await publish(gw, "order-q1");
    await publish(gw, "order-q2");
    await audit.waitFor(2);
    await accounting.waitFor(2);
    await gw.idle();
  });

  it("takes them while stop() drains, so the deliveries draining end and theirs are delivered", async () => {
    const { gw, audit, accounting } = await chain();
    await publish(gw, "order-q3");
    const started = Date.now();
    await gw.stop();
    gateway = undefined;
    expect(audit.received).toHaveLength(1);
    expect(accounting.received).toHaveLength(1);
    // Drained, not cut at the deadline.
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe("on-success settings through the Subscriptions API", () => {
  it("creates, shows and uses reply and receipts settings of an API subscription", async () => {
    const billing = await sinkOf(invoiceReply("inv-api"));
    const accounting = await sinkOf({ status: 204 });
    const gw = start([{ id: "accounting", types: ["com.example.invoice"], sink: accounting.url }]);
    const created = await gw.fetch(
      new Request("http://gw/subscriptions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          types: ["com.example.order"],
          sink: billing.url,
          protocol: "HTTP",
          delivery: { reply: { types: ["com.example.invoice"] }, receipts: true },
        }),
      }),
    );
    expect(created.status).toBe(201);
    const resource = await created.json();
    expect(resource.delivery).toMatchObject({
      reply: { types: ["com.example.invoice"] },
      receipts: true,
    });
    const refused = await gw.fetch(
      new Request("http://gw/subscriptions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          sink: billing.url,
          protocol: "HTTP",
          delivery: { mode: "batch", reply: true },
        }),
      }),
    );
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toMatch(/delivery\.reply/);
    await publish(gw, "order-api");
    const [invoice] = await accounting.waitFor(1);
    expect(invoice?.headers["ce-authid"]).toBe(`subscription:${resource.id}`);
  });
});
