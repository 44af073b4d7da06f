import { HTTP } from "cloudevents";
import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../event/cloud-event.js";
import { serializeEvent } from "../event/json-format.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { BATCH_CONTENT_TYPE, buildBatchMessage } from "./build-batch-message.js";
import { buildDeliveryMessage } from "./build-delivery-message.js";

const subscription: Subscription = {
  id: "sub",
  filters: [],
  sink: "http://127.0.0.1:9000/hook",
  protocol: "HTTP",
  protocolsettings: { headers: { "X-Team": "media", "Content-Type": "text/forged" } },
  delivery: { mode: "batch", timeoutMs: 1000 },
};

const events: CloudEvent[] = [
  {
    attributes: {
      specversion: "1.0",
      id: "1",
      source: "/s",
      type: "t",
      datacontenttype: "application/json",
    },
    // A JSON payload keeps its exact text, big integers included.
    data: { kind: "json", value: { n: 1 }, text: '{"n": 12345678901234567890}' },
  },
  {
    attributes: {
      specversion: "1.0",
      id: "2",
      source: "/s",
      type: "t",
      datacontenttype: "text/plain",
    },
    data: { kind: "text", value: "héllo" },
  },
  {
    attributes: { specversion: "1.0", id: "3", source: "/s", type: "t", comexampleflag: true },
    data: { kind: "binary", value: new Uint8Array([0, 255]) },
  },
];

describe("buildBatchMessage (HTTP binding 3.3, JSON batch format)", () => {
  it("POSTs a JSON array of the events, in order, as application/cloudevents-batch+json", () => {
    const message = buildBatchMessage(events, subscription);
    expect(message.url).toBe("http://127.0.0.1:9000/hook");
    expect(message.headers).toEqual({ "x-team": "media", "content-type": BATCH_CONTENT_TYPE });
    expect(message.body).toBe(`[${events.map(serializeEvent).join(",")}]`);
    expect(String(message.body)).toContain('"data":{"n": 12345678901234567890}');
  });

  it("reads back with the cloudevents SDK as the same events, in order", () => {
    const message = buildBatchMessage(events, subscription);
    const parsed = HTTP.toEvent({ headers: message.headers, body: String(message.body) });
    expect(Array.isArray(parsed)).toBe(true);
    const batch = parsed as unknown as Array<Record<string, unknown>>;
    expect(batch.map((e) => e.id)).toEqual(["1", "2", "3"]);
    expect(batch[1]).toMatchObject({ datacontenttype: "text/plain", data: "héllo" });
    expect(batch[2]).toMatchObject({ comexampleflag: true, data_base64: "AP8=" });
  });

  it("is what buildDeliveryMessage gives for one event in batch mode", () => {
    const [first] = events as [CloudEvent];
    expect(buildDeliveryMessage(first, subscription)).toEqual(
      buildBatchMessage([first], subscription),
    );
  });

  it("throws a TypeError for an empty batch or an event without a JSON form", () => {
    expect(() => buildBatchMessage([], subscription)).toThrow(TypeError);
    const noJson: CloudEvent = {
      attributes: events[0]!.attributes,
      data: { kind: "json", value: undefined },
    };
    expect(() => buildBatchMessage([noJson], subscription)).toThrow(TypeError);
  });
});
