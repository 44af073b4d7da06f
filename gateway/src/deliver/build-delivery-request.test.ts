import { HTTP } from "cloudevents";
import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../event/cloud-event.js";
import { serializeEvent } from "../event/json-format.js";
import { decodeHeaderValue } from "../ingest/header-value.js";
import { DEFAULT_DELIVERY, type Subscription } from "../subscriptions/subscription.js";
import { STRUCTURED_CONTENT_TYPE } from "./build-delivery-message.js";
import { buildDeliveryRequest } from "./build-delivery-request.js";

const subscription = (overrides: Partial<Subscription> = {}): Subscription => ({
  id: "sub",
  filters: [],
  sink: "http://127.0.0.1:9000/hook?x=1",
  protocol: "HTTP",
  protocolsettings: { headers: {} },
  delivery: DEFAULT_DELIVERY,
  ...overrides,
});
const structured = subscription({ delivery: { mode: "structured", timeoutMs: 1000 } });

const event: CloudEvent = {
  attributes: {
    specversion: "1.0",
    id: "A234-1234-1234",
    source: "/mycontext",
    type: "com.example.someevent",
    time: "2018-04-05T17:31:00Z",
    subject: 'Euro € "quoted" 100% 😀',
    comexampleothervalue: 5,
    comexampleflag: true,
    datacontenttype: "application/json",
  },
  data: { kind: "json", value: { appinfoA: "abc", appinfoB: 123 } },
};

const headerList = (request: Request) => [...request.headers.entries()];

describe("buildDeliveryRequest in binary mode (HTTP binding 3.1)", () => {
  it("POSTs to the sink with one percent-encoded ce- header per attribute and the data as body", async () => {
    const request = buildDeliveryRequest(event, subscription());
    expect(request.method).toBe("POST");
    expect(request.url).toBe("http://127.0.0.1:9000/hook?x=1");
    expect(request.redirect).toBe("manual");
    expect(headerList(request)).toEqual([
      ["ce-comexampleflag", "true"],
      ["ce-comexampleothervalue", "5"],
      ["ce-id", "A234-1234-1234"],
      ["ce-source", "/mycontext"],
      ["ce-specversion", "1.0"],
      ["ce-subject", "Euro%20%E2%82%AC%20%22quoted%22%20100%25%20%F0%9F%98%80"],
      ["ce-time", "2018-04-05T17:31:00Z"],
      ["ce-type", "com.example.someevent"],
      ["content-type", "application/json"],
    ]);
    expect(await request.text()).toBe('{"appinfoA":"abc","appinfoB":123}');
  });

  it("encodes header values that the ingest decoder turns back into the attributes", () => {
    const request = buildDeliveryRequest(event, subscription());
    for (const [name, value] of Object.entries(event.attributes)) {
      if (name === "datacontenttype") continue;
      expect(decodeHeaderValue(request.headers.get(`ce-${name}`) ?? "")).toEqual({
        ok: true,
        value: String(value),
      });
    }
  });

  it("maps datacontenttype to Content-Type only, never to ce-datacontenttype (3.1.1)", () => {
    const request = buildDeliveryRequest(
      {
        attributes: {
          ...event.attributes,
          datacontenttype: "application/vnd.apache.thrift.binary",
        },
        data: { kind: "binary", value: new Uint8Array([0, 1, 255]) },
      },
      subscription(),
    );
    expect(request.headers.get("content-type")).toBe("application/vnd.apache.thrift.binary");
    expect(request.headers.has("ce-datacontenttype")).toBe(false);
  });

  it("sends binary data byte for byte", async () => {
    const value = new Uint8Array([0, 1, 128, 255]);
    const request = buildDeliveryRequest(
      {
        attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
        data: { kind: "binary", value },
      },
      subscription(),
    );
    expect(new Uint8Array(await request.arrayBuffer())).toEqual(value);
    expect(request.headers.has("content-type")).toBe(false);
  });

  it("makes the implied application/json explicit for json data (JSON format 3.1.2)", async () => {
    const request = buildDeliveryRequest(
      {
        attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
        data: { kind: "json", value: "I'm just a string" },
      },
      subscription(),
    );
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(await request.text()).toBe('"I\'m just a string"');
  });

  it("sends no body for an event without data", async () => {
    const request = buildDeliveryRequest(
      { attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" } },
      subscription(),
    );
    expect(request.body).toBeNull();
    expect(await request.text()).toBe("");
  });

  it("is understood by the cloudevents SDK", async () => {
    const request = buildDeliveryRequest(event, subscription());
    const parsed = HTTP.toEvent({
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
    });
    expect(Array.isArray(parsed)).toBe(false);
    expect(parsed).toMatchObject({
      id: "A234-1234-1234",
      source: "/mycontext",
      type: "com.example.someevent",
      datacontenttype: "application/json",
      comexampleothervalue: "5",
      data: { appinfoA: "abc", appinfoB: 123 },
    });
  });
});

describe("buildDeliveryRequest in structured mode (HTTP binding 3.2)", () => {
  it("sends the JSON event format with the cloudevents media type and no ce- headers", async () => {
    const request = buildDeliveryRequest(event, structured);
    expect(headerList(request)).toEqual([["content-type", STRUCTURED_CONTENT_TYPE]]);
    expect(STRUCTURED_CONTENT_TYPE).toBe("application/cloudevents+json; charset=utf-8");
    expect(await request.text()).toBe(serializeEvent(event));
  });

  it("is understood by the cloudevents SDK", async () => {
    const request = buildDeliveryRequest(event, structured);
    const parsed = HTTP.toEvent({
      headers: Object.fromEntries(request.headers),
      body: await request.text(),
    });
    expect(parsed).toMatchObject({
      id: "A234-1234-1234",
      subject: 'Euro € "quoted" 100% 😀',
      comexampleothervalue: 5,
      comexampleflag: true,
      data: { appinfoA: "abc", appinfoB: 123 },
    });
  });
});

describe("buildDeliveryRequest with protocolsettings headers", () => {
  const headers = {
    "X-Team": "media",
    authorization: "Bearer sink-token",
    "CE-ID": "forged",
    "ce-extra": "forged",
    "Content-Type": "text/forged",
    "content-length": "1",
    "Transfer-Encoding": "chunked",
  };

  it("adds them in binary mode without letting them touch ce-*, Content-Type or framing", () => {
    const request = buildDeliveryRequest(event, subscription({ protocolsettings: { headers } }));
    expect(request.headers.get("x-team")).toBe("media");
    expect(request.headers.get("authorization")).toBe("Bearer sink-token");
    expect(request.headers.get("ce-id")).toBe("A234-1234-1234");
    expect(request.headers.has("ce-extra")).toBe(false);
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(request.headers.has("content-length")).toBe(false);
    expect(request.headers.has("transfer-encoding")).toBe(false);
  });

  it("adds them in structured mode the same way", () => {
    const request = buildDeliveryRequest(event, { ...structured, protocolsettings: { headers } });
    expect(headerList(request)).toEqual([
      ["authorization", "Bearer sink-token"],
      ["content-type", STRUCTURED_CONTENT_TYPE],
      ["x-team", "media"],
    ]);
  });
});

describe("buildDeliveryRequest failures and signal", () => {
  it("passes the abort signal on to the request", () => {
    const controller = new AbortController();
    const request = buildDeliveryRequest(event, subscription(), { signal: controller.signal });
    expect(request.signal.aborted).toBe(false);
    controller.abort(new Error("timeout"));
    expect(request.signal.aborted).toBe(true);
  });

  it("throws a TypeError for a datacontenttype that is no valid header value", () => {
    const broken: CloudEvent = {
      attributes: { ...event.attributes, datacontenttype: "text/plain\r\nx-injected: 1" },
    };
    expect(() => buildDeliveryRequest(broken, subscription())).toThrow(TypeError);
  });

  it("throws a TypeError for json data without a JSON form", () => {
    const broken: CloudEvent = { attributes: event.attributes, data: { kind: "json", value: 1n } };
    expect(() => buildDeliveryRequest(broken, structured)).toThrow(TypeError);
    expect(() => buildDeliveryRequest(broken, subscription())).toThrow(TypeError);
  });
});
