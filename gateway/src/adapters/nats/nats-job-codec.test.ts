import { headers as natsHeaders } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../../event/cloud-event.js";
import { decodeEventMessage, encodeEventMessage } from "./nats-job-codec.js";

const withType = (datacontenttype: string): CloudEvent => ({
  attributes: { specversion: "1.0", id: "1", source: "/s", type: "t", datacontenttype },
  data: { kind: "text", value: "hello" },
});

describe("the NATS message's content-type", () => {
  it("is the media type as it is, as NATS and HTTP tools read it (no percent-encoding)", () => {
    const { headers } = encodeEventMessage(withType('text/plain; charset="utf-8"'));
    expect(headers.get("content-type")).toBe('text/plain; charset="utf-8"');
    expect(headers.get("ce-id")).toBe("1");
  });

  it("round-trips media types with spaces, quotes and odd characters", () => {
    for (const type of [
      "application/json",
      'text/plain; charset="utf-8"; format=flowed',
      "text/plain; name=100%",
      "text/plain; name=caf\u00e9",
    ]) {
      const { headers, data } = encodeEventMessage(withType(type));
      expect(decodeEventMessage(headers, data).attributes.datacontenttype).toBe(type);
    }
  });

  it("reads the percent-encoded content-type that earlier versions wrote", () => {
    const { headers, data } = encodeEventMessage(withType("text/plain"));
    const old = natsHeaders();
    for (const key of headers.keys()) old.set(key, headers.get(key));
    old.set("content-type", "text/plain;%20charset=utf-8");
    expect(decodeEventMessage(old, data).attributes.datacontenttype).toBe(
      "text/plain; charset=utf-8",
    );
  });
});

describe("the NATS message's payload", () => {
  it("keeps text data that starts with a byte order mark as it is (U+FEFF is part of the data)", () => {
    const event: CloudEvent = {
      attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
      data: { kind: "text", value: "\ufeffhello" },
    };
    const { headers, data } = encodeEventMessage(event);
    expect(decodeEventMessage(headers, data).data).toEqual({ kind: "text", value: "\ufeffhello" });
  });
});
