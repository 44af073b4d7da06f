import {
  ON_SUCCESS_IDS,
  ON_SUCCESS_PATHS,
  ON_SUCCESS_TYPES,
  REPLY,
  receiptSource,
  SINK_PATHS,
} from "../config/subscriptions.js";
import { binaryRequest } from "../events/requests.js";
import type { Received } from "../sink/sink-server.js";
import { type CaseContext, type ConformanceCase, check } from "./case.js";
import { expectStatus, waitForId } from "./expect.js";

const ON_SUCCESS = 'Herald README "On success and on failure"; issue 11';
const REPLIES = `${ON_SUCCESS} (reply events)`;
const CORRELATION = "CloudEvents correlation extension (causationid, correlationid)";
const RECEIPTS = `${ON_SUCCESS} (delivery receipts)`;
const SUCCEEDED = "dev.herald.delivery.succeeded";

/** An attribute of a received event as a string (binary deliveries carry strings only). */
const attr = (r: Received, name: string): string | undefined => {
  const value = r.event.attributes[name];
  return value === undefined ? undefined : String(value);
};

/** Fails unless each attribute of `r` has the value expected. */
function expectAttributes(r: Received, expected: Readonly<Record<string, string>>): void {
  const wrong = Object.entries(expected)
    .filter(([name, want]) => attr(r, name) !== want)
    .map(
      ([name, want]) =>
        `${name}: expected ${JSON.stringify(want)}, got ${JSON.stringify(attr(r, name))}`,
    );
  check(wrong.length === 0, `${r.path} event ${attr(r, "id")}: ${wrong.join("; ")}`);
}

/** The JSON data of a binary or structured delivery, or `undefined` when it has none. */
function jsonData(r: Received): unknown {
  if (r.event.mode === "structured") return r.event.envelope?.data;
  try {
    return JSON.parse(new TextDecoder().decode(r.event.body));
  } catch {
    return undefined;
  }
}

type Json = Record<string, unknown>;
const asObject = (value: unknown): Json | undefined =>
  typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Json)
    : undefined;

/** The original event a receipt names in its data (`data.event`). */
const receiptEvent = (r: Received): Json | undefined => asObject(asObject(jsonData(r))?.event);

/** Waits for the `succeeded` receipt of `conformance-receipted`'s delivery of `id`. */
function waitForReceipt(ctx: CaseContext, path: string, id: string): Promise<Received> {
  return ctx.sink.waitFor(
    (r) =>
      r.path === path &&
      r.event.attributes.type === SUCCEEDED &&
      r.event.attributes.source === receiptSource(ON_SUCCESS_IDS.receipted) &&
      receiptEvent(r)?.id === id,
    ctx.timeoutMs,
    `the ${SUCCEEDED} receipt of event ${id} at ${path}`,
  );
}

/** Sends one binary event with these overrides and expects 202. */
async function publish(ctx: CaseContext, overrides: Record<string, string>) {
  const event = ctx.event(overrides);
  expectStatus(await ctx.send(binaryRequest(event)), 202);
  return event;
}

/**
 * On-success semantics (issue 11; Herald README "On success and on failure"): reply events routed
 * by ordinary subscriptions, with system provenance and the correlation extension; a reply outside
 * the subscription's policy dead-letters the original; delivery receipts as events, and never a
 * receipt of a receipt. They rely on the on-success subscriptions of the config and on the suite's
 * sink answering replies at `/reply/echo` and `/reply/outside`.
 */
export const onSuccessCases: readonly ConformanceCase[] = [
  {
    name: "on-success: a reply is ingested and routed by its type, with system provenance and correlation",
    spec: `${REPLIES}; ${CORRELATION}; DESIGN.md "Attributes" (authcontext)`,
    async run(ctx) {
      // One original that starts the chain, one that carries a correlationid of its own.
      const first = await publish(ctx, { type: ON_SUCCESS_TYPES.reply });
      const second = await publish(ctx, {
        type: ON_SUCCESS_TYPES.reply,
        correlationid: `${ctx.token}correlation`,
      });
      for (const original of [first, second]) {
        const id = String(original.id);
        const delivered = await waitForId(ctx, ON_SUCCESS_PATHS.reply, id);
        const prefer = delivered.delivery.headers.prefer ?? "";
        check(
          /(^|[\s,;])reply(\s*($|[,;=]))/i.test(prefer),
          `the delivery to ${ON_SUCCESS_PATHS.reply} has no "Prefer: reply" header (Prefer: ${JSON.stringify(prefer)})`,
        );
        const reply = await waitForId(ctx, ON_SUCCESS_PATHS.routed, `${REPLY.idPrefix}${id}`);
        expectAttributes(reply, {
          source: REPLY.source,
          type: REPLY.type,
          causationid: id,
          correlationid: String(original.correlationid ?? id),
          authtype: "system",
          authid: `subscription:${ON_SUCCESS_IDS.reply}`,
          heraldhops: "1",
        });
        // The reply came without a traceparent, so it continues the original's trace.
        const trace = attr(delivered, "traceparent");
        if (trace !== undefined) expectAttributes(reply, { traceparent: trace });
        const data = asObject(jsonData(reply));
        check(
          data?.inReplyTo === id,
          `the reply's data is not what the sink answered: ${JSON.stringify(jsonData(reply))}`,
        );
      }
    },
  },
  {
    name: "on-success: a reply outside the reply policy is not ingested; the original is dead-lettered saying why",
    spec: `${REPLIES} (reply policy); DESIGN.md "Attributes" (heralderror*)`,
    async run(ctx) {
      const original = await publish(ctx, { type: ON_SUCCESS_TYPES.outside });
      const id = String(original.id);
      await waitForId(ctx, ON_SUCCESS_PATHS.outside, id);
      const dead = await waitForId(ctx, ON_SUCCESS_PATHS.deadLetter, id);
      expectAttributes(dead, {
        source: String(original.source),
        type: String(original.type),
        heralderrorcode: "200",
        heraldattempts: "1",
      });
      const data = attr(dead, "heralderrordata") ?? "";
      const said = "delivered (HTTP 200), but its reply was not ingested";
      check(
        data.startsWith(said),
        `heralderrordata does not start with "${said}": ${JSON.stringify(data.slice(0, 200))}`,
      );
      const dest = attr(dead, "heralderrordest");
      check(
        dest !== undefined && new URL(dest).pathname === ON_SUCCESS_PATHS.outside,
        `heralderrordest is ${JSON.stringify(dest)}, not the sink ${ON_SUCCESS_PATHS.outside}`,
      );
      // The refused reply must reach no sink, not even the catch-alls.
      await ctx.sentinel();
      const leaked = ctx.sink.received.filter(
        (r) => r.event.attributes.id === `${REPLY.idPrefix}${id}`,
      );
      check(
        leaked.length === 0,
        `the refused reply was delivered to ${leaked.map((r) => r.path).join(", ")}`,
      );
    },
  },
  {
    name: `on-success: a ${SUCCEEDED} receipt is routed by its source, naming the original event`,
    spec: RECEIPTS,
    async run(ctx) {
      const original = await publish(ctx, { type: ON_SUCCESS_TYPES.receipted });
      const id = String(original.id);
      await waitForId(ctx, ON_SUCCESS_PATHS.receipted, id);
      const receipt = await waitForReceipt(ctx, ON_SUCCESS_PATHS.receipts, id);
      expectAttributes(receipt, { authtype: "system", authid: "herald" });
      const data = asObject(jsonData(receipt));
      const event = receiptEvent(receipt);
      check(
        data?.subscription === ON_SUCCESS_IDS.receipted &&
          event?.source === original.source &&
          event?.type === original.type &&
          data?.attempts === 1,
        `the receipt's data does not name the subscription, the original event and one attempt: ${JSON.stringify(data)}`,
      );
    },
  },
  {
    name: "on-success: receipts never produce receipts",
    spec: `${RECEIPTS} (receipts never produce receipts)`,
    async run(ctx) {
      // conformance-receipts emits receipts too, and gets receipts: a receipt of one of its
      // deliveries would have its source and reach the catch-all.
      const first = await publish(ctx, { type: ON_SUCCESS_TYPES.receipted });
      const receipt = await waitForReceipt(ctx, ON_SUCCESS_PATHS.receipts, String(first.id));
      // The barrier: a second receipt, made after the first one's delivery was settled, has
      // reached the catch-all; a receipt of the first receipt would have been made before it.
      const second = await publish(ctx, { type: ON_SUCCESS_TYPES.receipted });
      const barrier = await waitForReceipt(ctx, ON_SUCCESS_PATHS.receipts, String(second.id));
      await Promise.all(
        [receipt, barrier].map((r) =>
          waitForReceipt(ctx, SINK_PATHS.binary, String(receiptEvent(r)?.id)),
        ),
      );
      const receiptIds = new Set([attr(receipt, "id"), attr(barrier, "id")]);
      const ofReceipts = ctx.sink.received.filter(
        (r) =>
          r.event.attributes.source === receiptSource(ON_SUCCESS_IDS.receipts) &&
          receiptIds.has(String(receiptEvent(r)?.id)),
      );
      check(
        ofReceipts.length === 0,
        `receipts of receipts were made: ${ofReceipts.map((r) => `${r.path} ${attr(r, "type")} id=${attr(r, "id")}`).join(", ")}`,
      );
    },
  },
];
