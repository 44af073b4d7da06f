import { SINK_PATHS } from "../config/subscriptions.js";
import { binaryRequest, structuredRequest } from "../events/requests.js";
import type { Received } from "../sink/sink-server.js";
import type { GatewayRequest } from "../target.js";
import { type CaseContext, type ConformanceCase, check } from "./case.js";
import { expectAccepted, expectAcceptedAndDelivered, waitForId } from "./expect.js";

const DT = "CloudEvents distributed-tracing extension";
const W3C = "W3C Trace Context §3.2 (traceparent)";
const ATTRS = 'DESIGN.md "Attributes" (traceparent/tracestate)';

/** A `traceparent` (W3C Trace Context §3.2, version 00), split into its fields. */
interface Traceparent {
  readonly traceId: string;
  readonly parentId: string;
}

/**
 * Parses a version-00 `traceparent` strictly: exactly `00-<32 hex>-<16 hex>-<2 hex>`, lower-case,
 * neither id all zeros (§3.2.2.3, §3.2.2.4). `undefined` when it is anything else.
 *
 * @example
 * parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * // { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", parentId: "00f067aa0ba902b7" }
 */
export function parseTraceparent(value: unknown): Traceparent | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(value);
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, parentId: match[2]! };
}

const hex = (bytes: number) =>
  Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");

/** A fresh, valid `traceparent` (sampled), so each case has a trace of its own. */
export function newTraceparent(): string {
  return `00-${hex(16)}-${hex(8)}-01`;
}

const traceIdOf = (traceparent: string) => traceparent.split("-")[1]!;

/** The `traceparent` extension of a received event, which must be a valid version-00 value. */
function extensionOf(received: Received): Traceparent {
  const value = received.event.attributes.traceparent;
  const parsed = parseTraceparent(value);
  check(
    parsed !== undefined,
    `${received.path}: the event's traceparent extension is ${value === undefined ? "missing" : `not a valid version-00 traceparent: ${JSON.stringify(value)}`}`,
  );
  return parsed;
}

/**
 * The delivery's own W3C `traceparent` header: valid, and when the event has the extension
 * (`extension`), in the event's trace with a parent-id of its own (the delivery span, not the
 * event's parent).
 */
function expectDeliveryHeader(received: Received, extension: Traceparent | undefined): Traceparent {
  const value = received.delivery.headers.traceparent;
  const header = parseTraceparent(value);
  check(
    header !== undefined,
    `${received.path}: the delivery's traceparent header is ${value === undefined ? "missing" : `not a valid version-00 traceparent: ${JSON.stringify(value)}`}`,
  );
  if (extension === undefined) return header;
  check(
    header.traceId === extension.traceId,
    `${received.path}: the delivery's traceparent header is in trace ${header.traceId}, the event's in ${extension.traceId}`,
  );
  check(
    header.parentId !== extension.parentId,
    `${received.path}: the delivery's traceparent header has the event's own parent-id ${header.parentId}, not one of its delivery span`,
  );
  return header;
}

/**
 * Waits for the event at both catch-all sinks and checks both deliveries' `traceparent` headers
 * ({@link expectDeliveryHeader}); the two deliveries are two spans, so their parent-ids differ.
 * Returns the extension (the same at both). With `extension: "optional"` (the request had no
 * valid trace context, so DESIGN.md's "set from the incoming trace context" has nothing to set
 * from) an event without one passes, and `undefined` is returned; one that has it must be valid.
 */
async function expectTracedDeliveries(
  ctx: CaseContext,
  id: string,
  extension: "required" | "optional" = "required",
): Promise<Traceparent | undefined> {
  const [binary, structured] = await Promise.all([
    waitForId(ctx, SINK_PATHS.binary, id),
    waitForId(ctx, SINK_PATHS.structured, id),
  ]);
  const [ea, eb] = [binary, structured].map((r) => r.event.attributes.traceparent);
  check(ea === eb, `the event's traceparent differs between deliveries: ${ea} / ${eb}`);
  const own = extension === "optional" && ea === undefined ? undefined : extensionOf(binary);
  const [a, b] = [expectDeliveryHeader(binary, own), expectDeliveryHeader(structured, own)];
  check(
    a.parentId !== b.parentId,
    `the deliveries to ${binary.path} and ${structured.path} share the parent-id ${a.parentId}; each delivery is a span of its own`,
  );
  return own;
}

/** Hostile and malformed `traceparent` headers, each of which the gateway must ignore. */
const MALFORMED: readonly { name: string; value: () => string }[] = [
  { name: "garbage", value: () => "not a traceparent; <script>" },
  { name: "upper-case hex", value: () => newTraceparent().toUpperCase() },
  { name: "all-zero trace-id", value: () => `00-${"0".repeat(32)}-${hex(8)}-01` },
  { name: "all-zero parent-id", value: () => `00-${hex(16)}-${"0".repeat(16)}-01` },
  { name: "version ff", value: () => `ff-${hex(16)}-${hex(8)}-01` },
  {
    name: "very long (4 KiB, version 00 with more after the flags)",
    value: () => `${newTraceparent()}-${"a".repeat(4096)}`,
  },
];

function malformedCase({ name, value }: (typeof MALFORMED)[number]): ConformanceCase {
  return {
    name: `trace: a malformed traceparent header (${name}) -> accepted, ignored: deliveries traced, any traceparent extension valid`,
    spec: `${W3C} (a vendor MUST ignore an invalid traceparent); ${ATTRS}; issue 6 (never fails ingest)`,
    async run(ctx) {
      const header = value();
      const event = ctx.event();
      const res = await ctx.send(
        binaryRequest(event, { headers: { traceparent: header, tracestate: "congo=t61rcWkgMzE" } }),
      );
      expectAccepted(res);
      const extension = await expectTracedDeliveries(ctx, String(event.id), "optional");
      // An invalid header is ignored: its trace is not the one continued.
      const theirs = /^[0-9a-f]{2}-([0-9a-f]{32})-/i.exec(header)?.[1]?.toLowerCase();
      check(
        theirs === undefined ||
          extension === undefined ||
          extension.traceId !== theirs ||
          /^0+$/.test(theirs),
        `the event continues the trace of the malformed header ${JSON.stringify(header.slice(0, 80))}`,
      );
    },
  };
}

/**
 * The distributed-tracing extension and W3C trace context (DESIGN.md "Attributes", issue 6): a
 * producer's `traceparent`/`tracestate` extension is kept; without one the event gets the
 * incoming trace context (or a new trace); each delivery carries a `traceparent` of its own span
 * in the event's trace; malformed headers never fail ingest.
 */
export const traceCases: readonly ConformanceCase[] = [
  {
    name: "trace: a producer's traceparent and tracestate extension are kept unchanged (binary)",
    spec: `${DT} (traceparent, tracestate); ${ATTRS} (kept from the producer)`,
    async run(ctx) {
      const event = ctx.event({
        traceparent: newTraceparent(),
        tracestate: "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
      });
      // Another trace in the request's own headers: the producer's extension still wins.
      const request = binaryRequest(event, { headers: { traceparent: newTraceparent() } });
      await expectAcceptedAndDelivered(ctx, request, { attributes: event, data: { absent: true } });
    },
  },
  {
    name: "trace: an event without the extension gets the traceparent header's trace",
    spec: `${ATTRS} (set from the incoming trace context when absent); ${W3C}`,
    async run(ctx) {
      const incoming = newTraceparent();
      const event = ctx.event();
      const res = await ctx.send(
        binaryRequest(event, { headers: { traceparent: incoming, tracestate: "rojo=1" } }),
      );
      expectAccepted(res);
      const extension = await expectTracedDeliveries(ctx, String(event.id));
      check(
        extension?.traceId === traceIdOf(incoming),
        `the event's traceparent is in trace ${extension?.traceId}, not the incoming ${traceIdOf(incoming)}`,
      );
    },
  },
  {
    name: "trace: every delivery carries a W3C traceparent header of its own span in the event's trace",
    spec: `${ATTRS} (each delivery carries a traceparent of its own delivery span); ${W3C}`,
    async run(ctx) {
      const kept = ctx.event({ traceparent: newTraceparent() });
      const fromHeader = ctx.event();
      const untraced = ctx.event();
      const sends: [Record<string, string | number | boolean>, GatewayRequest][] = [
        [kept, binaryRequest(kept)],
        [fromHeader, binaryRequest(fromHeader, { headers: { traceparent: newTraceparent() } })],
        [untraced, binaryRequest(untraced)],
      ];
      for (const [, request] of sends) expectAccepted(await ctx.send(request));
      for (const [event] of sends) {
        const extension = await expectTracedDeliveries(
          ctx,
          String(event.id),
          event === untraced ? "optional" : "required",
        );
        if (event === kept) {
          check(
            extension?.traceId === traceIdOf(String(kept.traceparent)),
            `the producer's traceparent was not kept: trace ${extension?.traceId}`,
          );
        }
      }
    },
  },
  {
    // DESIGN.md sets the extension "from the incoming trace context": with none, Herald starts
    // a trace (its ingest span) and records it; a gateway may as well leave the extension out.
    name: "herald: trace: an event sent with no trace context gets a traceparent extension of a new trace",
    spec: `Herald's contract (issue 6: every stored event carries its trace), beyond ${ATTRS}`,
    async run(ctx) {
      const event = ctx.event();
      expectAccepted(await ctx.send(binaryRequest(event)));
      await expectTracedDeliveries(ctx, String(event.id));
    },
  },
  ...MALFORMED.map(malformedCase),
  {
    name: "trace: structured mode: a producer's traceparent member is kept in the JSON event",
    spec: `${DT}; JSON event format 1.0.2 §2.2; ${ATTRS}`,
    async run(ctx) {
      const event = ctx.event({ traceparent: newTraceparent(), tracestate: "rojo=1" });
      const { structured } = await expectAcceptedAndDelivered(ctx, structuredRequest(event), {
        attributes: event,
        data: { absent: true },
      });
      check(
        structured.event.envelope?.traceparent === event.traceparent,
        `the structured delivery's JSON event has traceparent ${JSON.stringify(structured.event.envelope?.traceparent)}`,
      );
    },
  },
  {
    name: "trace: structured mode: without one, the event gets the header's trace as a JSON member",
    spec: `${DT}; JSON event format 1.0.2 §2.2; ${ATTRS} (set from the incoming trace context)`,
    async run(ctx) {
      const incoming = newTraceparent();
      const event = ctx.event();
      const request = structuredRequest(event);
      const res = await ctx.send({
        ...request,
        headers: { ...request.headers, traceparent: incoming },
      });
      expectAccepted(res);
      await expectTracedDeliveries(ctx, String(event.id));
      const structured = await waitForId(ctx, SINK_PATHS.structured, String(event.id));
      const member = parseTraceparent(structured.event.envelope?.traceparent);
      check(
        member !== undefined,
        `the JSON event has no valid traceparent member: ${JSON.stringify(structured.event.envelope?.traceparent)}`,
      );
      check(
        member.traceId === traceIdOf(incoming),
        `the JSON event's traceparent is in trace ${member.traceId}, not the incoming ${traceIdOf(incoming)}`,
      );
    },
  },
];
