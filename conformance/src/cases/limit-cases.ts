import { batchRequest, binaryRequest, structuredRequest } from "../events/requests.js";
import type { ConformanceCase } from "./case.js";
import { expectAcceptedAndDelivered, expectRejected } from "./expect.js";

const SIZE = 'CloudEvents 1.0.2 "Size Limits"';
const LIMITS = 'DESIGN.md "Config" (limits.maxEventBytes), "HTTP surface" (413)';

/** Event size limits. */
export const limitCases: readonly ConformanceCase[] = [
  {
    name: "limits: a 64 KiB event is accepted and delivered",
    spec: `${SIZE} (intermediaries MUST forward events of 64 KiB or less)`,
    async run(ctx) {
      const event = ctx.event({ datacontenttype: "application/octet-stream" });
      // Leave room for the headers inside the 64 KiB wire size.
      const body = new Uint8Array(64 * 1024 - 1024).fill(0x61);
      await expectAcceptedAndDelivered(ctx, binaryRequest(event, { body }), {
        attributes: event,
        data: { bytes: body },
      });
    },
  },
  {
    name: "limits: binary event above limits.maxEventBytes -> 413",
    spec: LIMITS,
    run: (ctx) =>
      expectRejected(
        ctx,
        binaryRequest(ctx.event({ datacontenttype: "application/octet-stream" }), {
          body: new Uint8Array(ctx.limits.maxEventBytes + 1).fill(0x62),
        }),
        413,
      ),
  },
  {
    name: "limits: structured event above limits.maxEventBytes -> 413",
    spec: LIMITS,
    run: (ctx) =>
      expectRejected(
        ctx,
        structuredRequest({ ...ctx.event(), data: "c".repeat(ctx.limits.maxEventBytes + 1) }),
        413,
      ),
  },
  {
    name: "limits: batch holding one event above limits.maxEventBytes -> 413, nothing delivered",
    spec: LIMITS,
    run: (ctx) =>
      expectRejected(
        ctx,
        batchRequest([
          ctx.event(),
          { ...ctx.event(), data: "d".repeat(ctx.limits.maxEventBytes + 1) },
        ]),
        413,
      ),
  },
];
