import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SINK_PATHS } from "../config/subscriptions.js";
import { decodeHeaderValue, percentEncode } from "../http/percent-encoding.js";
import { runConformance } from "../run-conformance.js";
import { type SinkServer, startSink } from "../sink/sink-server.js";

type Event = Record<string, unknown>;

/**
 * A gateway without dedupe that answers 202 at once and delivers each request's events in order,
 * one after another, to both catch-alls. A newer request goes first: the rest of a batch waits
 * until the next request has been delivered (or 20 ms, standing in for a busy worker). Nothing
 * it does is unusual for a relay, and it delivers a batch's duplicate twice.
 */
function relayWithoutDedupe(sinkUrl: string) {
  let releaseHeld: (() => void) | undefined;
  const deliver = async (event: Event) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(event)) headers[`ce-${k}`] = percentEncode(String(v));
    await fetch(`${sinkUrl}${SINK_PATHS.binary}`, { method: "POST", headers });
    await fetch(`${sinkUrl}${SINK_PATHS.structured}`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify(event),
    });
  };
  const deliverAll = async (events: Event[]) => {
    const [first, ...rest] = events;
    if (first !== undefined) await deliver(first);
    if (rest.length === 0) return;
    await new Promise<void>((resolve) => {
      releaseHeld = resolve;
      setTimeout(resolve, 20);
    });
    for (const event of rest) await deliver(event);
  };
  return async (req: Request): Promise<Response> => {
    const release = releaseHeld;
    releaseHeld = undefined;
    let events: Event[];
    if (req.headers.get("content-type")?.startsWith("application/cloudevents-batch+json")) {
      events = (await req.json()) as Event[];
    } else {
      const event: Event = {};
      req.headers.forEach((value, name) => {
        if (name.startsWith("ce-")) event[name.slice(3)] = decodeHeaderValue(value);
      });
      events = [event];
    }
    void deliverAll(events).then(() => release?.());
    return new Response(null, { status: 202 });
  };
}

describe("dedupe cases", () => {
  let sink: SinkServer;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(() => sink.close());

  it("a batch's duplicate delivered after a later request's events still fails the batch case", async () => {
    const name = "dedupe: a batch holding the same event twice -> accepted, delivered once";
    const report = await runConformance(
      { fetch: relayWithoutDedupe(sink.url) },
      { sink, dataDir: null, timeoutMs: 2000, only: (n) => n === name },
    );
    const result = report.results.find((r) => r.name === name);
    expect(result).toMatchObject({
      ok: false,
      message: "the event was delivered 2 times to /binary",
    });
  });
});
