import { CloudEvent, HTTP } from "cloudevents";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProducer } from "../src/index.js";
import { type Herald, startHerald } from "./herald-process.js";
import { type Received, type SinkServer, startSink } from "./sink-server.js";

let capture: SinkServer;
let sink: SinkServer;
let herald: Herald;

beforeAll(async () => {
  capture = await startSink(() => ({ status: 202 }));
  sink = await startSink();
  herald = await startHerald({
    subscriptions: [{ id: "all", sink: `${sink.url}/all`, delivery: { mode: "structured" } }],
  });
});
afterAll(async () => {
  await herald?.stop();
  await sink?.close();
  await capture?.close();
});

/** What the `cloudevents` package makes of a request the SDK sent. */
function parsed(r: Received): CloudEvent<unknown> | CloudEvent<unknown>[] {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers)) {
    if (typeof value === "string") headers[name] = value;
  }
  return HTTP.toEvent({ headers, body: r.body.toString() }) as
    | CloudEvent<unknown>
    | CloudEvent<unknown>[];
}

describe("the cloudevents package reads what the SDK sends (HTTP.toEvent)", () => {
  for (const mode of ["binary", "structured"] as const) {
    it(`${mode} mode`, async () => {
      const before = capture.received.length;
      const producer = createProducer({
        endpoint: `${capture.url}/events`,
        source: "/interop",
        mode,
      });
      const sent = await producer.stateTransfer({
        type: "com.example.interop",
        subject: "order 42",
        data: { orderId: 42, items: ["a", "b"] },
        dataschema: "https://schemas.example.com/order.json",
        extensions: { partitionkey: "p-1", priority: 3 },
      });
      const event = parsed(capture.received[before]!) as CloudEvent<unknown>;
      expect(event).toBeInstanceOf(CloudEvent);
      expect(event.validate()).toBe(true);
      expect(event).toMatchObject({
        id: sent.id,
        source: "/interop",
        type: "com.example.interop",
        specversion: "1.0",
        dataschema: "https://schemas.example.com/order.json",
        partitionkey: "p-1",
        data: { orderId: 42, items: ["a", "b"] },
      });
      // Binary mode percent-encodes the space (HTTP binding 3.1.3.2); cloudevents 10 does not
      // decode headers, structured mode carries the value as JSON.
      expect(event.subject).toBe(mode === "binary" ? "order%2042" : "order 42");
      expect(Date.parse(event.time!)).not.toBeNaN();
    });
  }

  it("batch mode", async () => {
    const before = capture.received.length;
    const producer = createProducer({ endpoint: `${capture.url}/events`, source: "/interop" });
    const sent = await producer.send([
      { type: "com.example.a", data: { n: 1 } },
      { type: "com.example.b", data: "plain", datacontenttype: "text/plain" },
    ]);
    const events = parsed(capture.received[before]!) as CloudEvent<unknown>[];
    expect(events.map((e) => [e.id, e.type, e.data])).toEqual([
      [sent[0]!.id, "com.example.a", { n: 1 }],
      [sent[1]!.id, "com.example.b", "plain"],
    ]);
  });
});

describe("cloudevents CloudEvent instances go through producer.send", () => {
  it("one instance, JSON data and an extension, arrives at the sink through herald serve", async () => {
    const before = sink.received.length;
    const producer = createProducer({ endpoint: herald.events, source: "/unused" });
    const event = new CloudEvent({
      source: "/ce-package",
      type: "com.example.ce",
      subject: "s-1",
      data: { hello: "world" },
      myext: "value",
    });
    const sent = await producer.send(event);
    expect(sent).toEqual({ id: event.id, source: "/ce-package" });
    const [delivery] = (await sink.waitFor(before + 1)).slice(before);
    expect(JSON.parse(delivery!.body.toString())).toMatchObject({
      id: event.id,
      source: "/ce-package",
      type: "com.example.ce",
      subject: "s-1",
      time: event.time,
      myext: "value",
      data: { hello: "world" },
    });
  });

  it("a batch of instances, one with binary data", async () => {
    const before = sink.received.length;
    const producer = createProducer({ endpoint: herald.events, source: "/unused" });
    const bytes = new CloudEvent({
      source: "/ce-package",
      type: "com.example.bytes",
      datacontenttype: "application/octet-stream",
      data: new Uint8Array([9, 8, 7]),
    });
    const json = new CloudEvent({ source: "/ce-package", type: "com.example.json", data: [1, 2] });
    await producer.send([bytes, json]);
    const got = (await sink.waitFor(before + 2))
      .slice(before)
      .map((r) => JSON.parse(r.body.toString()));
    const byId = Object.fromEntries(got.map((e) => [e.id, e]));
    expect(byId[bytes.id]).toMatchObject({
      data_base64: "CQgH",
      datacontenttype: "application/octet-stream",
    });
    expect(byId[json.id]).toMatchObject({ data: [1, 2] });
  });
});
