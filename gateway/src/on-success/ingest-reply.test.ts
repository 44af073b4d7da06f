import { describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../config/herald-config.js";
import type { SinkReply } from "../deliver/delivery-outcome.js";
import { PayloadTooLarge, Unavailable } from "../errors/errors.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { subscription } from "../subscriptions/matcher.case.js";
import { createReplyIngest } from "./ingest-reply.js";

const limits = DEFAULT_LIMITS;
const clock = { now: () => Date.UTC(2030, 0, 1) };
const cause: CloudEvent = {
  attributes: { specversion: "1.0", id: "order-1", source: "/shop", type: "com.example.order" },
};
const headers: Record<string, string> = {
  "ce-specversion": "1.0",
  "ce-id": "invoice-1",
  "ce-source": "/billing",
  "ce-type": "com.example.invoice",
  "content-type": "application/json",
};
const reply: SinkReply = {
  status: 200,
  header: (name) => headers[name],
  forEachHeader: (fn) => {
    for (const [name, value] of Object.entries(headers)) fn(value, name);
  },
  body: new TextEncoder().encode('{"invoice":7}'),
  complete: true,
};
const plain = subscription("s");
const replying = { ...plain, delivery: { ...plain.delivery, reply: {} } };

describe("createReplyIngest: what the store says", () => {
  it("a store that refuses the reply as too large to hold: not ingested, with the reason", async () => {
    const ingest = createReplyIngest({
      limits,
      clock,
      accept: async () => {
        throw new PayloadTooLarge("the event is too large for a queue message", 127_000);
      },
    });
    expect(await ingest(cause, reply, replying)).toBe(
      "invalid reply (payload_too_large): the event is too large for a queue message",
    );
  });

  it("a store that is unavailable: rejects, so the delivery is settled again later", async () => {
    const ingest = createReplyIngest({
      limits,
      clock,
      accept: async () => {
        throw new Unavailable("the store is down");
      },
    });
    await expect(ingest(cause, reply, replying)).rejects.toBeInstanceOf(Unavailable);
  });

  it("an accepted reply: ingested, nothing to say", async () => {
    const { ingest, accepted } = recordingIngest();
    expect(await ingest(cause, reply, replying)).toBeUndefined();
    expect(accepted.map((e) => e.attributes.causationid)).toEqual(["order-1"]);
  });
});

/** A reply ingest over a store that keeps what it is given. */
function recordingIngest() {
  const accepted: CloudEvent[] = [];
  const ingest = createReplyIngest({
    limits,
    clock,
    accept: async (events) => {
      accepted.push(...events);
    },
  });
  return { ingest, accepted };
}

describe("createReplyIngest: a body not read whole", () => {
  const ingest = createReplyIngest({ limits, clock, accept: async () => {} });
  it("says which: larger than limits.maxEventBytes, or broken off / cut at the timeout", async () => {
    const big = { ...reply, body: new Uint8Array(limits.maxEventBytes), complete: false };
    expect(await ingest(cause, big, replying)).toBe(
      `the reply is larger than limits.maxEventBytes (${limits.maxEventBytes} bytes)`,
    );
    const cut = { ...reply, body: new Uint8Array(21), complete: false };
    expect(await ingest(cause, cut, replying)).toBe(
      "the reply's body broke off or was still arriving at the delivery timeout, after 21 bytes",
    );
  });
});

describe("createReplyIngest: trace context", () => {
  const traced: CloudEvent = {
    attributes: {
      ...cause.attributes,
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      tracestate: "shop=1",
    },
  };
  const withHeaders = (extra: Record<string, string>): SinkReply => {
    const all = { ...headers, ...extra };
    return {
      ...reply,
      header: (name) => all[name],
      forEachHeader: (fn) => {
        for (const [name, value] of Object.entries(all)) fn(value, name);
      },
    };
  };
  const ingested = async (answer: SinkReply) => {
    const { ingest, accepted } = recordingIngest();
    expect(await ingest(traced, answer, replying)).toBeUndefined();
    const { traceparent, tracestate } = accepted[0]?.attributes ?? {};
    return { traceparent, tracestate };
  };

  it("keeps a valid traceparent the reply carries, and takes the cause's when it has none", async () => {
    const own = "00-11111111111111111111111111111111-2222222222222222-01";
    expect(await ingested(withHeaders({ "ce-traceparent": own }))).toEqual({
      traceparent: own,
      tracestate: undefined,
    });
    expect(await ingested(reply)).toEqual({
      traceparent: traced.attributes.traceparent,
      tracestate: "shop=1",
    });
  });

  it("replaces a traceparent that is not W3C Trace Context by the cause's, with its tracestate", async () => {
    // As for a published event (README "Trace context"): `garbage` would leave the reply's
    // deliveries outside the trace of the event that caused it.
    expect(
      await ingested(withHeaders({ "ce-traceparent": "garbage", "ce-tracestate": "k=v" })),
    ).toEqual({ traceparent: traced.attributes.traceparent, tracestate: "shop=1" });
  });
});
