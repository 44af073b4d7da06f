import { SINK_PATHS } from "../config/subscriptions.js";
import { batchRequest } from "../events/requests.js";
import type { ConformanceCase } from "./case.js";
import { expectAccepted, expectDelivered, expectRejected, waitForId } from "./expect.js";

const HB = "HTTP protocol binding 1.0.2";
const JF = "JSON event format 1.0.2";

/** Batched content mode with the JSON batch format (binding 3.3, JSON format 4). */
export const batchCases: readonly ConformanceCase[] = [
  {
    name: "batch: every event accepted and delivered",
    spec: `${HB} §3.3, ${JF} §4`,
    async run(ctx) {
      const a = ctx.event({ datacontenttype: "application/json" });
      const b = ctx.event({ type: "dev.herald.conformance.other", subject: "second" });
      const c = ctx.event({ datacontenttype: "application/octet-stream" });
      const bytes = Uint8Array.from([1, 2, 3, 255]);
      const res = await ctx.send(
        batchRequest([
          { ...a, data: { n: 1 } },
          { ...b, data: "text" },
          { ...c, data_base64: Buffer.from(bytes).toString("base64") },
        ]),
      );
      expectAccepted(res);
      await expectDelivered(ctx, { attributes: a, data: { json: { n: 1 } } });
      await expectDelivered(ctx, { attributes: b, data: { json: "text" } });
      await expectDelivered(ctx, { attributes: c, data: { bytes } });
    },
  },
  {
    name: "batch: an empty batch is accepted",
    spec: `${HB} §3.3.2 ("The batch MAY be empty")`,
    async run(ctx) {
      expectAccepted(await ctx.send(batchRequest([])));
    },
  },
  {
    name: "batch: media type compared case-insensitively",
    spec: `${HB} §3 (RFC 9110 §8.3.1)`,
    async run(ctx) {
      const event = ctx.event();
      const res = await ctx.send(batchRequest([event], "Application/CloudEvents-Batch+JSON"));
      expectAccepted(res);
      await expectDelivered(ctx, { attributes: event, data: { absent: true } });
    },
  },
  {
    name: "batch: one invalid event -> 400 naming its index, nothing delivered",
    spec: `DESIGN.md "HTTP surface" (all-or-nothing), CloudEvents 1.0.2 "REQUIRED Attributes"`,
    async run(ctx) {
      const { source: _, ...noSource } = ctx.event();
      await expectRejected(ctx, batchRequest([ctx.event(), noSource, ctx.event()]), 400, {
        index: 1,
        attributes: ["source"],
      });
    },
  },
  {
    name: "batch: body that is not an array -> 400",
    spec: `${JF} §4.1`,
    run: (ctx) => expectRejected(ctx, batchRequest(ctx.event()), 400),
  },
  {
    name: "batch: element that is not an object -> 400",
    spec: `${JF} §4.1`,
    run: (ctx) => expectRejected(ctx, batchRequest([ctx.event(), "event"]), 400),
  },
  {
    name: "batch: exactly limits.maxBatchEvents events accepted",
    spec: `DESIGN.md "Config" (limits.maxBatchEvents)`,
    async run(ctx) {
      const events = Array.from({ length: ctx.limits.maxBatchEvents }, () => ctx.event());
      expectAccepted(await ctx.send(batchRequest(events)));
      await Promise.all(events.map((e) => waitForId(ctx, SINK_PATHS.binary, String(e.id))));
    },
  },
  {
    name: "batch: more than limits.maxBatchEvents events -> 413, nothing delivered",
    spec: `DESIGN.md "Config" (limits.maxBatchEvents), "HTTP surface" (413)`,
    run: (ctx) =>
      expectRejected(
        ctx,
        batchRequest(Array.from({ length: ctx.limits.maxBatchEvents + 1 }, () => ctx.event())),
        413,
      ),
  },
];
