import { afterEach, describe, expect, it } from "vitest";
import { type ScriptedSink, startScriptedSink } from "../../test/support/scripted-sink.js";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseConfig } from "../config/load-config.js";
import { MAX_PAGE_CHARS } from "./dead-letter-routes.js";

// The dead set lists stored events as the JSON event format: it must show them as they were
// accepted, whatever their data, against a real sink on 127.0.0.1 that refuses every delivery.

let gateway: Gateway | undefined;
let sink: ScriptedSink | undefined;
afterEach(async () => {
  await gateway?.stop();
  await sink?.close();
  gateway = sink = undefined;
});

async function refusingGateway(): Promise<Gateway> {
  sink = await startScriptedSink([{ status: 400 }]);
  const config = {
    store: { kind: "memory" },
    subscriptions: [{ id: "orders", sink: sink.url, delivery: { retry: 0 } }],
  };
  gateway = createGateway({ config: parseConfig(JSON.stringify(config), "t.json") });
  gateway.start();
  return gateway;
}

async function publish(gw: Gateway, headers: Record<string, string>, body: string) {
  const res = await gw.fetch(new Request("http://gw/events", { method: "POST", headers, body }));
  expect(res.status).toBe(202);
}

const binary = (id: string) => ({
  "ce-specversion": "1.0",
  "ce-id": id,
  "ce-source": "/shop",
  "ce-type": "com.example.order",
});

describe("GET /subscriptions/{id}/dead", () => {
  it("shows JSON data as received: a number past 2^53 keeps its digits", async () => {
    const gw = await refusingGateway();
    const event =
      '{"specversion":"1.0","id":"big","source":"/shop","type":"t","data":{"n":12345678901234567890}}';
    await publish(gw, { "content-type": "application/cloudevents+json" }, event);
    await sink?.waitFor(1);
    await gw.idle();
    const res = await gw.fetch(new Request("http://gw/subscriptions/orders/dead"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const text = await res.text();
    expect(text).toContain('"data":{"n":12345678901234567890}');
    expect(JSON.parse(text).items[0].event).toMatchObject({ id: "big", source: "/shop" });
  });

  it("lists an event whose binary-mode JSON body nests 100,000 levels deep (was 500)", async () => {
    const gw = await refusingGateway();
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    await publish(gw, { ...binary("deep"), "content-type": "application/json" }, deep);
    await sink?.waitFor(1);
    await gw.idle();
    const res = await gw.fetch(new Request("http://gw/subscriptions/orders/dead"));
    expect(res.status).toBe(200);
    const listed = JSON.parse(await res.text()) as { items: { event: { id: string } }[] };
    expect(listed.items.map((item) => item.event.id)).toStrictEqual(["deep"]);
  });

  it("cuts a page of large events short by size, and next goes on from there (1,000 was a 500)", async () => {
    const gw = await refusingGateway();
    // 250,000 control characters: JSON writes each as `\u0001`, 1.5 MB of page per event; a
    // page of 1,000 such events was past V8's longest string and answered 500.
    const body = "\u0001".repeat(250_000);
    const count = 25;
    for (let i = 0; i < count; i++) {
      await publish(gw, { ...binary(`big-${i}`), "content-type": "text/plain" }, body);
    }
    await sink?.waitFor(count);
    await gw.idle();
    const seen: string[] = [];
    let after = "";
    let pages = 0;
    for (;;) {
      const res = await gw.fetch(
        new Request(`http://gw/subscriptions/orders/dead?limit=1000${after && `&after=${after}`}`),
      );
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text.length).toBeLessThanOrEqual(MAX_PAGE_CHARS + 100);
      const page = JSON.parse(text) as {
        items: { event: { id: string; data: string } }[];
        next?: string;
      };
      pages++;
      for (const item of page.items) {
        expect(item.event.data).toBe(body);
        seen.push(item.event.id);
      }
      if (page.next === undefined) break;
      after = page.next;
    }
    expect(pages).toBeGreaterThan(1);
    expect(seen).toStrictEqual(Array.from({ length: count }, (_, i) => `big-${i}`));
  }, 60_000);

  it("pages as before: next names the last job of a full page", async () => {
    const gw = await refusingGateway();
    await publish(gw, binary("a"), "");
    await publish(gw, binary("b"), "");
    await sink?.waitFor(2);
    await gw.idle();
    const res = await gw.fetch(new Request("http://gw/subscriptions/orders/dead?limit=1"));
    const page = (await res.json()) as { items: { jobId: string }[]; next?: string };
    expect(page.items).toHaveLength(1);
    expect(page.next).toBe(page.items[0]?.jobId);
  });
});
