import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookGateway, type WebhookGateway } from "../../test/support/webhook-gateway.js";
import { evaluateJsonPointer, jsonPointerProblem } from "./json-pointer.js";

const NOW = Date.UTC(2027, 0, 15, 8, 0, 0);
let kit: WebhookGateway;

beforeAll(async () => {
  kit = await startWebhookGateway(
    {
      adapters: [
        {
          id: "shop",
          kind: "mapping",
          attributes: {
            source: "/shop",
            type: { pointer: "/event", prefix: "com.example.shop." },
            subject: { pointer: "/order/id" },
            time: { pointer: "/created" },
            tenant: { pointer: "/tenant", default: "public" },
            priority: { pointer: "/priority" },
          },
        },
        {
          id: "batch",
          kind: "mapping",
          records: "/items",
          attributes: {
            id: { pointer: "/delivery~1id" },
            source: { pointer: "/origin" },
            type: "com.example.item",
          },
        },
      ],
    },
    { clock: { now: () => NOW } },
  );
});
afterAll(() => kit.stop());

describe("mapping", () => {
  it("maps constants and pointers; id is the body's SHA-256, time the payload's", async () => {
    const body = JSON.stringify({
      event: "order.paid",
      order: { id: 4711, total: 99.5 },
      created: "2024-06-01T12:00:00Z",
      tenant: "acme",
      priority: 3,
    });
    const res = await kit.post("shop", body, { "content-type": "application/json" });
    expect(res.status).toBe(202);
    const event = (await kit.delivered()).at(-1);
    expect(event).toMatchObject({
      specversion: "1.0",
      id: createHash("sha256").update(body).digest("hex"),
      source: "/shop",
      type: "com.example.shop.order.paid",
      subject: "4711",
      time: "2024-06-01T12:00:00Z",
      tenant: "acme",
      priority: 3,
      datacontenttype: "application/json",
      data: JSON.parse(body),
    });
  });

  it("defaults: the receipt time, a rule's default; optional attributes are left out", async () => {
    const res = await kit.post("shop", { event: "order.created" });
    expect(res.status).toBe(202);
    const event = (await kit.delivered()).at(-1)!;
    expect(event.time).toBe("2027-01-15T08:00:00.000Z");
    expect(event.tenant).toBe("public");
    expect(event.subject).toBeUndefined();
    expect(event.priority).toBeUndefined();
  });

  it("the same body again is the same event: delivered once", async () => {
    const payload = { event: "order.shipped", order: { id: "dup" } };
    expect((await kit.post("shop", payload)).status).toBe(202);
    expect((await kit.post("shop", payload)).status).toBe(202);
    expect((await kit.delivered()).filter((e) => e.subject === "dup")).toHaveLength(1);
  });

  it("a required pointer that finds nothing, or a non-scalar value: 400 naming the pointer", async () => {
    const res = await kit.post("shop", { order: { id: 1 } });
    expect(res.status).toBe(400);
    expect((await res.json()).errors).toEqual([
      { field: "/event", message: "is missing (the type attribute)" },
    ]);
    const object = await kit.post("shop", { event: { nested: true } });
    expect((await object.json()).errors).toEqual([
      { field: "/event", message: "must be a string, a number or a boolean (the type attribute)" },
    ]);
  });

  it("reads JSON under a +json media type (application/vnd.api+json); other types are 415", async () => {
    const body = JSON.stringify({ event: "order.vnd", order: { id: 1 } });
    const res = await kit.post("shop", body, { "content-type": "application/vnd.api+json" });
    expect(res.status).toBe(202);
    expect((await kit.delivered()).at(-1)).toMatchObject({
      type: "com.example.shop.order.vnd",
      datacontenttype: "application/json",
    });
    for (const contentType of [
      "application/x-www-form-urlencoded",
      "text/plain",
      "application/+json",
    ]) {
      const refused = await kit.post("shop", body, { "content-type": contentType });
      expect(refused.status).toBe(415);
      // A valid media range list (RFC 9110): no "*/*+json" pattern of Herald's own.
      expect(refused.headers.get("accept-post")).toBe("application/json");
      expect((await refused.json()).code).toBe("unsupported_media_type");
    }
  });

  it("refuses a Content-Type that gives charset twice (415, RFC 6838 4.3), whichever comes last", async () => {
    const body = JSON.stringify({ event: "order.twice", order: { id: 2 } });
    for (const contentType of [
      "application/json; charset=iso-8859-1; charset=utf-8",
      "application/json; charset=utf-8; CHARSET=utf-8",
    ]) {
      const refused = await kit.post("shop", body, { "content-type": contentType });
      expect(refused.status).toBe(415);
      const problem = await refused.json();
      expect(problem.code).toBe("unsupported_media_type");
      expect(problem.detail).toContain("charset twice");
    }
  });

  it("a mapped value that breaks the CloudEvents rules is refused as an invalid event", async () => {
    const res = await kit.post("shop", { event: "order.paid", created: "yesterday" });
    expect(res.status).toBe(400);
    const problem = await res.json();
    expect(problem.code).toBe("invalid_event");
    expect(problem.attributes).toEqual(["time"]);
  });

  it("records: one event per element, all or nothing", async () => {
    const items = [
      { "delivery/id": "item-1", origin: "/warehouse/a" },
      { "delivery/id": "item-2", origin: "/warehouse/b" },
    ];
    expect((await kit.post("batch", { items })).status).toBe(202);
    const events = (await kit.delivered()).filter((e) => e.type === "com.example.item");
    expect(events.map((e) => [e.id, e.source])).toEqual([
      ["item-1", "/warehouse/a"],
      ["item-2", "/warehouse/b"],
    ]);
    expect(events[1]?.data).toEqual(items[1]);
    const broken = await kit.post("batch", {
      items: [{ "delivery/id": "item-3", origin: "/w" }, { origin: "/w" }],
    });
    expect(broken.status).toBe(400);
    expect((await broken.json()).errors).toEqual([
      { field: "/items/1/delivery~1id", message: "is missing (the id attribute)" },
    ]);
    expect((await kit.delivered()).some((e) => e.id === "item-3")).toBe(false);
    const none = await kit.post("batch", { items: [] });
    expect(none.status).toBe(204);
    const notList = await kit.post("batch", { items: {} });
    expect((await notList.json()).errors).toEqual([{ field: "/items", message: "must be a list" }]);
  });

  it("records: each element's data is its text as sent, big integers and all", async () => {
    // It was JSON.stringify of the parsed element: 12345678901234567891 arrived as
    // 12345678901234567000, 1.10 as 1.1, 1e400 as null.
    const body =
      '{"items":[{"delivery/id":"big-1","origin":"/o","n":12345678901234567891,"p":1.10,"x":1e400},\n' +
      '  { "delivery/id" : "big-2", "origin" : "/o", "n" : -0 }]}';
    const res = await kit.post("batch", body, { "content-type": "application/json" });
    expect(res.status).toBe(202);
    await kit.delivered();
    const raw = kit.sink.received.map((r) => r.body.toString("utf8"));
    const one = raw.find((text) => text.includes('"id":"big-1"'));
    const two = raw.find((text) => text.includes('"id":"big-2"'));
    expect(one).toContain(
      '"data":{"delivery/id":"big-1","origin":"/o","n":12345678901234567891,"p":1.10,"x":1e400}',
    );
    expect(two).toContain('"data":{ "delivery/id" : "big-2", "origin" : "/o", "n" : -0 }');
  });
});

describe("JSON Pointer (RFC 6901 section 5 examples)", () => {
  const doc = {
    foo: ["bar", "baz"],
    "": 0,
    "a/b": 1,
    "c%d": 2,
    "e^f": 3,
    "g|h": 4,
    "i\\j": 5,
    'k"l': 6,
    " ": 7,
    "m~n": 8,
  };
  it.each([
    ["", doc],
    ["/foo", ["bar", "baz"]],
    ["/foo/0", "bar"],
    ["/", 0],
    ["/a~1b", 1],
    ["/c%d", 2],
    ["/e^f", 3],
    ["/g|h", 4],
    ["/i\\j", 5],
    ['/k"l', 6],
    ["/ ", 7],
    ["/m~0n", 8],
  ])("%j", (pointer, expected) => {
    expect(evaluateJsonPointer(doc, pointer)).toEqual(expected);
  });

  it("finds nothing past the end, at -, at leading zeros, or inside a scalar", () => {
    expect(evaluateJsonPointer(doc, "/foo/2")).toBeUndefined();
    expect(evaluateJsonPointer(doc, "/foo/-")).toBeUndefined();
    expect(evaluateJsonPointer(doc, "/foo/01")).toBeUndefined();
    expect(evaluateJsonPointer(doc, "/foo/0/x")).toBeUndefined();
    expect(evaluateJsonPointer({}, "/constructor")).toBeUndefined();
  });

  it("rejects strings that are not pointers", () => {
    expect(jsonPointerProblem("foo")).toBe("must be empty or start with /");
    expect(jsonPointerProblem("/a~2")).toContain("~0 or ~1");
    expect(jsonPointerProblem("/a~01")).toBeUndefined();
  });
});
