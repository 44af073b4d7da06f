import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type SinkServer, startSink } from "./sink-server.js";

describe("startSink", () => {
  let sink: SinkServer;
  beforeEach(async () => {
    sink = await startSink();
  });
  afterEach(() => sink.close());

  const post = (path: string, headers: Record<string, string>, body = "") =>
    fetch(`${sink.url}${path}`, { method: "POST", headers, body });

  it("fails the first POST to a flaky delivery path, whatever other requests came before it", async () => {
    // DELIVERY_PATH_PREFIXES: the first POST gets 503. A probe of the URL (GET, HEAD) used it up.
    const url = `${sink.url}/delivery/flaky/probed`;
    await (await fetch(url)).arrayBuffer();
    await fetch(url, { method: "HEAD" });
    const headers = { "ce-id": "f", "ce-source": "/s", "ce-type": "t", "ce-specversion": "1.0" };
    expect((await post("/delivery/flaky/probed", headers)).status).toBe(503);
    expect((await post("/delivery/flaky/probed", headers)).status).toBe(204);
  });

  it("binds an ephemeral port on 127.0.0.1", () => {
    expect(sink.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("records a binary delivery with decoded ce- headers and answers 204", async () => {
    const res = await post(
      "/binary",
      { "ce-id": "1", "ce-subject": "Euro%20%E2%82%AC", "content-type": "text/plain" },
      "hi",
    );
    expect(res.status).toBe(204);
    const [r] = sink.received;
    expect(r?.path).toBe("/binary");
    expect(r?.event).toMatchObject({
      mode: "binary",
      attributes: { id: "1", subject: "Euro €", datacontenttype: "text/plain" },
      rawHeaders: { subject: "Euro%20%E2%82%AC" },
    });
    expect(new TextDecoder().decode(r?.event.body)).toBe("hi");
  });

  it("records structured and batch deliveries, leaving out null members", async () => {
    await post(
      "/s",
      { "content-type": "application/cloudevents+json" },
      '{"id":"2","subject":null,"data":7}',
    );
    await post(
      "/b",
      { "content-type": "Application/CloudEvents-Batch+JSON" },
      '[{"id":"3"},{"id":"4"}]',
    );
    expect(sink.received.map((r) => [r.path, r.event.mode, r.event.attributes])).toEqual([
      ["/s", "structured", { id: "2" }],
      ["/b", "structured", { id: "3" }],
      ["/b", "structured", { id: "4" }],
    ]);
    expect(sink.received[0]?.event.envelope).toEqual({ id: "2", subject: null, data: 7 });
  });

  it("keeps undecodable deliveries apart, and notes undecodable headers", async () => {
    await post("/s", { "content-type": "application/cloudevents+json" }, "{oops");
    await post("/x", { "ce-id": "5", "ce-subject": "%FF" });
    expect(sink.undecodable).toHaveLength(1);
    expect(sink.received[0]?.event.problems).toEqual([
      "ce-subject: not valid UTF-8 after percent-decoding",
    ]);
  });

  it("resolves waitFor for events already received and for later ones", async () => {
    await post("/a", { "ce-id": "early" });
    await expect(
      sink.waitFor((r) => r.event.attributes.id === "early", 1000, "early"),
    ).resolves.toMatchObject({
      path: "/a",
    });
    const later = sink.waitFor((r) => r.event.attributes.id === "late", 1000, "late");
    await post("/b", { "ce-id": "late" });
    await expect(later).resolves.toMatchObject({ path: "/b" });
  });

  it("rejects waitFor after the timeout, naming what it waited for", async () => {
    await expect(sink.waitFor(() => false, 20, "the unicorn")).rejects.toThrow(
      "timed out after 20 ms waiting for the unicorn",
    );
  });

  it("answers a reply event at the reply paths, in binary mode, derived from the delivery", async () => {
    const res = await post("/reply/echo", { "ce-id": "a%20b", "ce-specversion": "1.0" });
    expect(res.status).toBe(200);
    expect(Object.fromEntries(res.headers)).toMatchObject({
      "ce-specversion": "1.0",
      "ce-id": "reply-a%20b",
      "ce-source": "/herald/conformance/replier",
      "ce-type": "dev.herald.conformance.reply",
      "content-type": "application/json",
    });
    expect(await res.json()).toEqual({ inReplyTo: "a b" });
    const outside = await post(
      "/reply/outside",
      { "content-type": "application/cloudevents+json" },
      '{"id":"7","specversion":"1.0"}',
    );
    expect(outside.status).toBe(200);
    expect(outside.headers.get("ce-id")).toBe("reply-7");
    expect(outside.headers.get("ce-type")).toBe("dev.herald.conformance.reply.outside");
    expect(sink.received.map((r) => r.path)).toEqual(["/reply/echo", "/reply/outside"]);
  });

  it("answers a reply of the loop's own type at /reply/loop", async () => {
    const res = await post("/reply/loop", { "ce-id": "reply-1", "ce-specversion": "1.0" });
    expect(res.status).toBe(200);
    expect(res.headers.get("ce-id")).toBe("reply-reply-1");
    expect(res.headers.get("ce-type")).toBe("dev.herald.conformance.on-success.loop");
  });

  it("answers a malformed reply at /reply/malformed, chosen by the event's subject", async () => {
    const noSource = await post("/reply/malformed", {
      "ce-id": "m1",
      "ce-specversion": "1.0",
      "ce-subject": "missing-source",
    });
    expect(noSource.status).toBe(200);
    expect(noSource.headers.get("ce-specversion")).toBe("1.0");
    expect(noSource.headers.get("ce-id")).toBe("reply-m1");
    expect(noSource.headers.has("ce-source")).toBe(false);
    const array = await post("/reply/malformed", {
      "ce-id": "m2",
      "ce-specversion": "1.0",
      "ce-subject": "not-an-object",
    });
    expect(array.status).toBe(200);
    expect(array.headers.get("content-type")).toBe("application/cloudevents+json");
    const body: unknown = await array.json();
    expect(Array.isArray(body)).toBe(true);
    expect(body).toMatchObject([{ id: "reply-m2", specversion: "1.0" }]);
    expect((await post("/reply/malformed", { "ce-id": "m3" })).status).toBe(204);
  });

  it("answers 500 at /receipts/failing and 410 under /gone/", async () => {
    expect((await post("/receipts/failing", { "ce-id": "f1" })).status).toBe(500);
    expect((await post("/gone/abc", { "ce-id": "g1" })).status).toBe(410);
    expect((await post("/gone", { "ce-id": "g2" })).status).toBe(204);
  });

  it("answers 204 elsewhere, and at a reply path to a batch or an undecodable body", async () => {
    expect((await post("/binary", { "ce-id": "1" })).status).toBe(204);
    expect((await post("/reply/routed", { "ce-id": "1" })).status).toBe(204);
    const batch = { "content-type": "application/cloudevents-batch+json" };
    expect((await post("/reply/echo", batch, '[{"id":"1"},{"id":"2"}]')).status).toBe(204);
    expect((await post("/reply/echo", batch, "{oops")).status).toBe(204);
  });

  it("serves what was published to GET, without recording it", async () => {
    sink.publish("/certs/a.pem", "PEM", "application/x-pem-file");
    const res = await fetch(`${sink.url}/certs/a.pem`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-pem-file");
    expect(await res.text()).toBe("PEM");
    expect(sink.received).toEqual([]);
    expect(sink.undecodable).toEqual([]);
  });

  it("answers the webhook validation handshake", async () => {
    const res = await fetch(`${sink.url}/binary`, {
      method: "OPTIONS",
      headers: { "WebHook-Request-Origin": "herald.example" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("webhook-allowed-origin")).toBe("*");
  });
});
