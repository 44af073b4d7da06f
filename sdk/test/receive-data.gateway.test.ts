import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProducer } from "../src/index.js";
import { type ReceivedEvent, receiveBatch } from "../src/receive/index.js";
import { type Herald, startHerald } from "./herald-process.js";
import { type SinkServer, startSink, toRequest } from "./sink-server.js";

const MODES = ["binary", "structured", "batch"] as const;
const utf8 = (s: string) => new TextEncoder().encode(s);

/** What the producer sends (by subject), and the data every sink must get for it. */
const EVENTS = [
  { subject: "xml", data: "<a/>", datacontenttype: "application/xml", expected: utf8("<a/>") },
  {
    subject: "latin1",
    data: "café",
    datacontenttype: "text/plain; charset=iso-8859-1",
    expected: "café",
  },
  { subject: "gltf", data: '{"a":[1]}', datacontenttype: "model/gltf+json", expected: { a: [1] } },
  {
    subject: "bytes",
    data: new Uint8Array([0, 255]),
    datacontenttype: "application/octet-stream",
    expected: new Uint8Array([0, 255]),
  },
  {
    subject: "vendor",
    data: { a: 1 },
    datacontenttype: "application/vnd.order.v1",
    expected: utf8('{"a":1}'),
  },
];

let herald: Herald;
let sink: SinkServer;

beforeAll(async () => {
  sink = await startSink();
  herald = await startHerald({
    subscriptions: MODES.map((mode) => ({
      id: mode,
      sink: `${sink.url}/${mode}`,
      delivery: mode === "batch" ? { mode, maxBatchSize: 1 } : { mode },
    })),
  });
});
afterAll(async () => {
  await herald?.stop();
  await sink?.close();
});

describe("data a sink gets, whatever the producer's and the subscription's mode", () => {
  it("is decided by the media type: JSON parsed, text/* a string, other types the bytes", async () => {
    for (const mode of ["binary", "structured"] as const) {
      const producer = createProducer({ endpoint: herald.events, source: `/${mode}`, mode });
      for (const { expected: _, ...event } of EVENTS) {
        await producer.send({ type: "com.example.data", ...event });
      }
    }
    const sent = EVENTS.length * 2;
    const received = await sink.until((r) =>
      MODES.every((m) => r.filter((x) => x.path === `/${m}`).length >= sent),
    );
    const byPath = new Map<string, ReceivedEvent[]>();
    for (const r of received) {
      const events = await receiveBatch(toRequest(r));
      byPath.set(r.path, [...(byPath.get(r.path) ?? []), ...events]);
    }
    for (const mode of MODES) {
      const events = byPath.get(`/${mode}`)!;
      expect(events).toHaveLength(sent);
      for (const event of events) {
        const { expected } = EVENTS.find((e) => e.subject === event.subject)!;
        expect(event.data, `${mode} sink, ${event.source} producer, ${event.subject}`).toEqual(
          expected,
        );
      }
    }
  });
});
