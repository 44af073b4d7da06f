import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../event/cloud-event.js";
import { serializeEvent } from "../event/json-format.js";
import { DEFAULT_DELIVERY, type Subscription } from "../subscriptions/subscription.js";
import {
  buildDeliveryMessage,
  MAX_BINARY_HEADER_BYTES,
  MAX_SINK_AND_ATTRIBUTE_HEADER_BYTES,
  STRUCTURED_CONTENT_TYPE,
} from "./build-delivery-message.js";
import { buildDeliveryRequest } from "./build-delivery-request.js";

const subscription = (overrides: Partial<Subscription> = {}): Subscription => ({
  id: "sub",
  filters: [],
  sink: "http://127.0.0.1:9000/hook",
  protocol: "HTTP",
  protocolsettings: { headers: {} },
  delivery: DEFAULT_DELIVERY,
  ...overrides,
});

const event: CloudEvent = {
  attributes: {
    specversion: "1.0",
    id: "1",
    source: "/s",
    type: "t",
    subject: "a b",
    datacontenttype: "text/plain",
  },
  data: { kind: "text", value: "héllo" },
};

describe("buildDeliveryMessage", () => {
  it("builds a binary-mode message with lower-case header names", () => {
    const message = buildDeliveryMessage(
      event,
      subscription({ protocolsettings: { headers: { "X-Team": "media" } } }),
    );
    expect(message).toEqual({
      url: "http://127.0.0.1:9000/hook",
      method: "POST",
      headers: {
        "x-team": "media",
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/s",
        "ce-type": "t",
        "ce-subject": "a%20b",
        "content-type": "text/plain",
      },
      body: new TextEncoder().encode("héllo"),
    });
  });

  it("builds a structured-mode message with the event as a string body", () => {
    const message = buildDeliveryMessage(
      event,
      subscription({ delivery: { mode: "structured", timeoutMs: 1000 } }),
    );
    expect(message.headers).toEqual({ "content-type": STRUCTURED_CONTENT_TYPE });
    expect(message.body).toBe(serializeEvent(event));
  });

  // HTTP binding 3: a Content-Type prefixed with application/cloudevents makes the receiver read
  // the message as structured (or batched): as a binary-mode Content-Type, the event's data (here
  // a whole other event) was read as the event, or refused as a batch that is not an array.
  it("sends an event whose data is itself an event or batch in structured mode, even to a binary-mode sink", () => {
    for (const datacontenttype of [
      "application/cloudevents+json",
      "Application/CloudEvents-Batch+JSON; charset=utf-8",
    ]) {
      const wrapped: CloudEvent = {
        attributes: { specversion: "1.0", id: "w", source: "/s", type: "t", datacontenttype },
        data: { kind: "json", value: { specversion: "1.0", id: "inner", source: "/i", type: "i" } },
      };
      const message = buildDeliveryMessage(wrapped, subscription());
      expect(message.headers).toEqual({ "content-type": STRUCTURED_CONTENT_TYPE });
      expect(message.body).toBe(serializeEvent(wrapped));
    }
    // Any other media type is still binary mode.
    const json = buildDeliveryMessage(
      {
        ...event,
        attributes: { ...event.attributes, datacontenttype: "application/cloudevent+json" },
      },
      subscription(),
    );
    expect(json.headers["content-type"]).toBe("application/cloudevent+json");
  });

  // Sinks cap a request's header section (Node 16 KiB in all, nginx 8 KiB a line) and answer 431,
  // which is not retried: an event with long attributes could never be delivered in binary mode.
  it("sends an event whose ce-* headers would be over 8 KiB in structured mode, even to a binary-mode sink", () => {
    // The ce-* headers and the Content-Type the datacontenttype becomes.
    const headerBytes = (m: { headers: Readonly<Record<string, string>> }) =>
      Object.entries(m.headers)
        .filter(([name]) => name.startsWith("ce-") || name === "content-type")
        .reduce((n, [name, value]) => n + name.length + value.length + 4, 0);
    const withSubject = (subject: string): CloudEvent => ({
      ...event,
      attributes: { ...event.attributes, subject },
    });
    const fits = buildDeliveryMessage(withSubject("x"), subscription());
    const room = MAX_BINARY_HEADER_BYTES - headerBytes(fits);
    // Exactly at the bound: still binary mode.
    const atBound = buildDeliveryMessage(withSubject("x".repeat(room + 1)), subscription());
    expect(headerBytes(atBound)).toBe(MAX_BINARY_HEADER_BYTES);
    expect(atBound.headers["content-type"]).toBe("text/plain");
    // One byte over (as percent-encoded: a space is three): structured mode, sink headers kept.
    for (const subject of ["x".repeat(room + 2), " ".repeat(Math.ceil(room / 3) + 1)]) {
      const over = withSubject(subject);
      const message = buildDeliveryMessage(
        over,
        subscription({ protocolsettings: { headers: { "X-Team": "media" } } }),
      );
      expect(message.headers).toEqual({
        "x-team": "media",
        "content-type": STRUCTURED_CONTENT_TYPE,
      });
      expect(message.body).toBe(serializeEvent(over));
    }
  });

  it("counts the datacontenttype, sent as Content-Type, with the ce-* headers", () => {
    // A datacontenttype of 60 KB (valid: 8,000 parameters) went out as the Content-Type of a
    // binary-mode delivery: a Node sink answered 431, not retried, and the event went dead
    // though structured mode carries it in the body.
    const long = `text/plain${Array.from({ length: 8_000 }, (_, i) => `;p${i}=1`).join("")}`;
    const typed: CloudEvent = {
      ...event,
      attributes: { ...event.attributes, datacontenttype: long },
    };
    const message = buildDeliveryMessage(typed, subscription());
    expect(message.headers).toEqual({ "content-type": STRUCTURED_CONTENT_TYPE });
    expect(message.body).toBe(serializeEvent(typed));
    // Just within the bound with the ce-* headers: binary mode, the type as Content-Type.
    const ceBytes = Object.entries(buildDeliveryMessage(event, subscription()).headers)
      .filter(([name]) => name.startsWith("ce-"))
      .reduce((n, [name, value]) => n + name.length + value.length + 4, 0);
    const room = MAX_BINARY_HEADER_BYTES - ceBytes - "content-type".length - 4;
    const fits = `text/plain;x=${"a".repeat(room - "text/plain;x=".length)}`;
    const atBound = buildDeliveryMessage(
      { ...event, attributes: { ...event.attributes, datacontenttype: fits } },
      subscription(),
    );
    expect(atBound.headers["content-type"]).toBe(fits);
    const over = buildDeliveryMessage(
      { ...event, attributes: { ...event.attributes, datacontenttype: `${fits}a` } },
      subscription(),
    );
    expect(over.headers["content-type"]).toBe(STRUCTURED_CONTENT_TYPE);
  });

  it("keeps ce-* and protocolsettings.headers together within 12 KiB, so the whole header section stays under 16 KiB", () => {
    // 7 KiB of the sink's own headers (the config allows 8 KiB in all).
    const big = subscription({
      protocolsettings: { headers: { "X-A": "a".repeat(3_500), "X-B": "b".repeat(3_500) } },
    });
    const sinkBytes = 2 * (3 + 3_500 + 4);
    const withSubject = (subject: string): CloudEvent => ({
      ...event,
      attributes: { ...event.attributes, subject },
    });
    const ceBytes = (m: { headers: Readonly<Record<string, string>> }) =>
      Object.entries(m.headers)
        .filter(([name]) => name.startsWith("ce-") || name === "content-type")
        .reduce((n, [name, value]) => n + name.length + value.length + 4, 0);
    const room =
      MAX_SINK_AND_ATTRIBUTE_HEADER_BYTES -
      sinkBytes -
      ceBytes(buildDeliveryMessage(withSubject("x"), big));
    const atBound = buildDeliveryMessage(withSubject("x".repeat(room + 1)), big);
    expect(sinkBytes + ceBytes(atBound)).toBe(MAX_SINK_AND_ATTRIBUTE_HEADER_BYTES);
    expect(atBound.headers["content-type"]).toBe("text/plain");
    const over = buildDeliveryMessage(withSubject("x".repeat(room + 2)), big);
    expect(over.headers["content-type"]).toBe(STRUCTURED_CONTENT_TYPE);
    expect(over.headers["x-a"]).toHaveLength(3_500);
    // The same event to a subscription without headers of its own still goes in binary mode.
    expect(
      buildDeliveryMessage(withSubject("x".repeat(room + 2)), subscription()).headers[
        "content-type"
      ],
    ).toBe("text/plain");
  });

  it("keeps datacontenttype as Content-Type in binary mode, text written in its charset", () => {
    const latin1: CloudEvent = {
      attributes: { ...event.attributes, datacontenttype: "text/plain; charset=iso-8859-1" },
      data: { kind: "text", value: "héllo" },
    };
    const message = buildDeliveryMessage(latin1, subscription());
    expect(message.headers["content-type"]).toBe("text/plain; charset=iso-8859-1");
    expect(message.body).toEqual(new Uint8Array([0x68, 0xe9, 0x6c, 0x6c, 0x6f]));
  });

  it("carries bytes without a datacontenttype as data_base64 in structured mode", () => {
    const opaque: CloudEvent = {
      attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
      data: { kind: "binary", value: new TextEncoder().encode('{"a":1}') },
    };
    const message = buildDeliveryMessage(
      opaque,
      subscription({ delivery: { mode: "structured", timeoutMs: 1000 } }),
    );
    const body = JSON.parse(String(message.body)) as Record<string, unknown>;
    expect(body.data_base64).toBe("eyJhIjoxfQ==");
    expect(body).not.toHaveProperty("data");
  });

  it("has the same headers as the Request built from it", () => {
    const sub = subscription({ protocolsettings: { headers: { "X-Team": " media " } } });
    const request = buildDeliveryRequest(event, sub);
    expect(Object.fromEntries(request.headers)).toEqual(buildDeliveryMessage(event, sub).headers);
  });

  it("trims surrounding whitespace off header values, like Headers does", () => {
    const message = buildDeliveryMessage(
      { attributes: { ...event.attributes, datacontenttype: " text/plain\t" } },
      subscription({ protocolsettings: { headers: { "x-a": "\t v \n" } } }),
    );
    expect(message.headers["x-a"]).toBe("v");
    expect(message.headers["content-type"]).toBe("text/plain");
  });

  it("trims a datacontenttype with a long inner run of spaces in linear time (was quadratic)", () => {
    // `text/plain;` + spaces + `; ` is a valid media type. The trimming regular expression tried
    // `[\t\n\r ]+$` from every one of the inner spaces, each running to the `;`: 100,000 held the
    // event loop 5 s on every delivery. Compared with a value as long whose spaces are all at
    // its ends (trimmed for real), 100 times: the bad one, once, must be faster than those.
    // Within the 8 KiB a binary-mode header section may take, Content-Type included (a longer
    // one goes in structured mode, where it is not a header).
    const spaces = 7_000;
    const bad = `text/plain;${" ".repeat(spaces)}; `;
    const good = `${" ".repeat(spaces / 2)}text/plain;;${" ".repeat(spaces / 2)}`;
    const build = (contentType: string) =>
      buildDeliveryMessage(
        { attributes: { ...event.attributes, datacontenttype: contentType } },
        subscription(),
      ).headers["content-type"];
    expect(build(bad)).toBe(bad.slice(0, -1));
    expect(build(good)).toBe("text/plain;;");
    let start = performance.now();
    for (let i = 0; i < 100; i++) build(good);
    const hundredGood = performance.now() - start;
    start = performance.now();
    build(bad);
    expect(performance.now() - start).toBeLessThan(hundredGood);
  });

  it.each([
    ["a header value with a line break", { "x-a": "a\r\nx-injected: 1" }],
    ["a header value with NUL", { "x-a": "a\u0000b" }],
    ["a header value beyond Latin-1", { "x-a": "€" }],
    ["a header name that is no token", { "x a": "v" }],
    ["an empty header name", { "": "v" }],
  ])("throws a TypeError for %s", (_, headers) => {
    expect(() =>
      buildDeliveryMessage(event, subscription({ protocolsettings: { headers } })),
    ).toThrow(TypeError);
  });

  it("throws a TypeError for a datacontenttype or attribute name HTTP cannot carry", () => {
    const badType: CloudEvent = { attributes: { ...event.attributes, datacontenttype: "a\nb" } };
    expect(() => buildDeliveryMessage(badType, subscription())).toThrow(TypeError);
    const badName: CloudEvent = { attributes: { ...event.attributes, "bad name": "x" } };
    expect(() => buildDeliveryMessage(badName, subscription())).toThrow(TypeError);
  });
});
