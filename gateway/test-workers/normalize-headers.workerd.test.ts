import { beforeEach, describe, expect, it } from "vitest";
import { normalizeHeaders, normalizeResponse } from "../src/adapters/workers/normalize-headers.js";
import { decodeEvent } from "../src/store/event-codec.js";
import { binaryEvent, resetDatabase, scriptedSink, testWorker } from "./harness.js";

beforeEach(resetDatabase);

/**
 * Header lines as workerd hands over those it read from the network (a request it received, a
 * subrequest's response): trailing whitespace kept, bytes decoded as UTF-8. A `Headers` made in
 * JavaScript trims its values, so these stand in for the network's.
 */
function asReceived(lines: Record<string, string>): Headers {
  return {
    forEach(fn: (value: string, name: string) => void) {
      for (const [name, value] of Object.entries(lines)) fn(value, name);
    },
  } as Headers;
}

describe("headers as Herald reads them on Node", () => {
  it("drops the whitespace around a value; a ce- value's non-ASCII text goes back to its bytes, percent-encoded", () => {
    const headers = normalizeHeaders(
      asReceived({
        "ce-specversion": "1.0  ",
        "content-type": "application/json \t",
        "ce-subject": "café",
        "ce-id": "a b",
      }),
    );
    expect(headers && Object.fromEntries(headers)).toStrictEqual({
      "ce-specversion": "1.0",
      "content-type": "application/json",
      "ce-subject": "caf%C3%A9",
      "ce-id": "a b",
    });
  });

  it("leaves headers that need nothing as they are", () => {
    expect(normalizeHeaders(asReceived({ "ce-id": "1", "ce-type": "t" }))).toBeUndefined();
  });

  it("a ce- value's U+FFFD (bytes that were no UTF-8) becomes %FF, a byte that is never UTF-8", () => {
    const headers = normalizeHeaders(
      asReceived({ "ce-subject": "caf\ufffd", "ce-id": "\u00e9\ufffd", "x-other": "a\ufffd" }),
    );
    expect(headers && Object.fromEntries(headers)).toStrictEqual({
      "ce-subject": "caf%FF",
      "ce-id": "%C3%A9%FF",
      "x-other": "a\ufffd",
    });
  });

  it("a response keeps its status and body", async () => {
    const response = normalizeResponse(
      new Response("body", { status: 201, headers: { "ce-subject": "café" } }),
    );
    expect(response.status).toBe(201);
    expect(response.headers.get("ce-subject")).toBe("caf%C3%A9");
    expect(await response.text()).toBe("body");
  });

  it("a response whose status no Response can be built with (600) keeps it, as Node reads it", async () => {
    // workerd's fetch hands over any status a sink sends (100 to 999); `new Response` takes
    // only 200 to 599, so rebuilding one threw, and a final 600 was retried as a network error.
    const received = {
      status: 600,
      statusText: "Weird",
      ok: false,
      headers: asReceived({ "x-trace": "abc ", "ce-subject": "café" }),
      body: new Response("body").body,
    } as Response;
    const response = normalizeResponse(received);
    expect(response.status).toBe(600);
    expect(response.ok).toBe(false);
    expect(response.statusText).toBe("Weird");
    expect(response.headers.get("x-trace")).toBe("abc");
    expect(response.headers.get("ce-subject")).toBe("caf%C3%A9");
    expect(await response.text()).toBe("body");
  });
});

describe("non-ASCII ce- headers inside workerd, as on Node", () => {
  it("a raw UTF-8 ce-subject (the runtime decoded it) is read as on Node: 202, not 400", async () => {
    const gw = testWorker({ subscriptions: [{ id: "all", sink: "http://127.0.0.1:9/all" }] });
    const res = await gw.request("/events", binaryEvent("u-1", { "ce-subject": "café €" }));
    expect(res.status).toBe(202);
    expect(decodeEvent(gw.queue.sent[0]!.event).attributes.subject).toBe("café €");
  });

  it("a ce- header whose bytes were no UTF-8 is refused with Node's detail, not 'not a byte'", async () => {
    // workerd hands the raw bytes `caf\xe9` over as "caf\ufffd"; Node reads them as bytes and
    // answers "is not valid UTF-8 after percent-decoding". The Worker said "holds a character
    // that is not a byte", a reason the sender could not act on.
    const gw = testWorker({ subscriptions: [{ id: "all", sink: "http://127.0.0.1:9/all" }] });
    const res = await gw.request("/events", binaryEvent("u-2", { "ce-subject": "caf\ufffd" }));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      code: "invalid_event",
      attributes: ["subject"],
      detail: "subject: header ce-subject is not valid UTF-8 after percent-decoding",
    });
    expect(gw.queue.sent).toHaveLength(0);
  });

  it("a sink's 600 with a header to normalize is an invalid answer, as on Node, not a failed rebuild", async () => {
    const sink = scriptedSink(
      () =>
        ({
          status: 600,
          statusText: "Weird",
          ok: false,
          headers: asReceived({ "x-trace": "abc " }),
          body: null,
        }) as Response,
    );
    const gw = testWorker(
      { subscriptions: [{ id: "s", sink: "http://sink.test/s", delivery: { retry: 0 } }] },
      { fetch: sink.fetch },
    );
    expect((await gw.request("/events", binaryEvent("o-600"))).status).toBe(202);
    const result = await gw.consume(gw.queue.sent);
    expect(result).toStrictEqual({ explicitAcks: ["m0"], retryMessages: [] });
    // Node reads a status outside 100-599 as an answer not to trust (a network error, status 0,
    // retried); rebuilding the response with it threw "Responses may only be constructed ...".
    const dead = await (await gw.request("/subscriptions/s/dead")).json();
    expect(dead).toMatchObject({
      items: [
        {
          attempts: 1,
          failure: {
            status: 0,
            error: "invalid response: status 600 is not an HTTP status code (100-599)",
          },
        },
      ],
    });
  });

  it("a sink's reply with a raw UTF-8 ce- header is ingested as on Node", async () => {
    const sink = scriptedSink(
      () =>
        new Response('{"ok":true}', {
          status: 200,
          headers: {
            "ce-specversion": "1.0",
            "ce-id": "r-1",
            "ce-source": "/replies",
            "ce-type": "com.example.reply",
            "ce-subject": "café",
            "content-type": "application/json",
          },
        }),
    );
    const gw = testWorker(
      {
        subscriptions: [
          { id: "s", source: "/orders", sink: "http://sink.test/s", delivery: { reply: true } },
          { id: "r", source: "/replies", sink: "http://sink.test/r" },
        ],
      },
      { fetch: sink.fetch },
    );
    expect((await gw.request("/events", binaryEvent("o-1"))).status).toBe(202);
    const result = await gw.consume(gw.queue.sent.filter((m) => m.subscription === "s"));
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    const reply = gw.queue.sent.find((m) => m.subscription === "r");
    expect(reply && decodeEvent(reply.event).attributes.subject).toBe("café");
  });
});

describe("a body the routes leave unread, on a request whose headers were normalized", () => {
  /** A body of `chunks` chunks of 16 KiB that says how many were read and whether to its end. */
  function countedBody(chunks: number) {
    const seen = { pulled: 0, ended: false };
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (seen.pulled === chunks) {
          seen.ended = true;
          controller.close();
          return;
        }
        seen.pulled++;
        controller.enqueue(new Uint8Array(16_384).fill(0x5b));
      },
    });
    return { body, seen };
  }

  // workerd reads a body the Worker left unread to its end before the connection serves its next
  // request, but not one that moved into the Request the routes got: under `wrangler dev` the
  // next request on the connection was lost (503 "Your worker restarted mid-request").
  it("is read to its end before the answer goes out: unread (404)", async () => {
    const gw = testWorker({ subscriptions: [] });
    const { body, seen } = countedBody(5);
    const res = await gw.request("/nope", {
      method: "POST",
      headers: { "ce-subject": "café" },
      body,
    });
    expect(res.status).toBe(404);
    expect(seen).toStrictEqual({ pulled: 5, ended: true });
  });

  it("is read to its end before the answer goes out: read in part (413 over maxBatchBytes)", async () => {
    const gw = testWorker({
      limits: { maxEventBytes: 16_384, maxBatchBytes: 65_536 },
      subscriptions: [],
    });
    const { body, seen } = countedBody(5);
    const res = await gw.request("/events", {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json", "ce-subject": "café" },
      body,
    });
    expect(res.status).toBe(413);
    expect(seen).toStrictEqual({ pulled: 5, ended: true });
  });

  it("a body the routes read whole is read once", async () => {
    const gw = testWorker({ subscriptions: [{ id: "all", sink: "http://127.0.0.1:9/all" }] });
    const res = await gw.request("/events", binaryEvent("u-body", { "ce-subject": "café" }));
    expect(res.status).toBe(202);
    expect(decodeEvent(gw.queue.sent[0]!.event).data).toBeDefined();
  });
});
