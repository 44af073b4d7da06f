import { SINK_PATHS } from "../config/subscriptions.js";
import { batchRequest, binaryRequest } from "../events/requests.js";
import { type CaseContext, type ConformanceCase, check } from "./case.js";
import { expectAccepted, waitForId } from "./expect.js";

const DEDUPE = 'DESIGN.md "Attributes" (source + id identify an event; dedupe window)';

/** Receptions at the binary catch-all sink of events with this source and id. */
function receptions(ctx: CaseContext, source: string, id: string): number {
  return ctx.sink.received.filter(
    (r) =>
      r.path === SINK_PATHS.binary &&
      r.event.attributes.id === id &&
      r.event.attributes.source === source,
  ).length;
}

/**
 * Dedupe (DESIGN.md): a second event with the same `source` + `id` inside the dedupe window
 * (default 24 h) is acknowledged with 202 and not delivered again. The sentinel proves the
 * gateway has routed everything sent before it, so "not delivered" needs no sleep; in the batch
 * case it is the batch's last event, so a gateway that keeps a request's order cannot deliver the
 * duplicate after it.
 */
export const dedupeCases: readonly ConformanceCase[] = [
  {
    name: "dedupe: the same source + id again -> accepted, delivered once",
    spec: DEDUPE,
    async run(ctx) {
      const event = ctx.event();
      expectAccepted(await ctx.send(binaryRequest(event, { body: "first" })));
      await waitForId(ctx, SINK_PATHS.binary, String(event.id));
      // Different data, same identity: still the same event.
      const again = await ctx.send(binaryRequest(event, { body: "second" }));
      expectAccepted(again);
      await ctx.sentinel();
      const count = receptions(ctx, String(event.source), String(event.id));
      check(count === 1, `the event was delivered ${count} times to ${SINK_PATHS.binary}`);
    },
  },
  {
    name: "dedupe: the same id from another source is another event -> both delivered",
    spec: `${DEDUPE}; CloudEvents 1.0.2 id: "source + id MUST be unique"`,
    async run(ctx) {
      const first = ctx.event();
      const second = { ...first, source: `${String(first.source)}/other` };
      expectAccepted(await ctx.send(binaryRequest(first)));
      expectAccepted(await ctx.send(binaryRequest(second)));
      await Promise.all([
        ctx.sink.waitFor(
          (r) => r.path === SINK_PATHS.binary && r.event.attributes.source === first.source,
          ctx.timeoutMs,
          `event ${String(first.id)} from ${String(first.source)}`,
        ),
        ctx.sink.waitFor(
          (r) => r.path === SINK_PATHS.binary && r.event.attributes.source === second.source,
          ctx.timeoutMs,
          `event ${String(first.id)} from ${second.source}`,
        ),
      ]);
    },
  },
  {
    name: "dedupe: a batch holding the same event twice -> accepted, delivered once",
    spec: DEDUPE,
    async run(ctx) {
      const event = ctx.event();
      // The sentinel ends the same batch: a sentinel sent as a later request could overtake the
      // rest of the batch, and a gateway without dedupe would pass.
      const sentinel = ctx.sentinelEvent();
      expectAccepted(await ctx.send(batchRequest([event, event, sentinel.event])));
      await waitForId(ctx, SINK_PATHS.binary, String(event.id));
      await sentinel.arrived();
      const count = receptions(ctx, String(event.source), String(event.id));
      check(count === 1, `the event was delivered ${count} times to ${SINK_PATHS.binary}`);
    },
  },
];
