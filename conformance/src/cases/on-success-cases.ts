import type { ConformanceAuth } from "../auth/conformance-auth.js";
import {
  FAILING_STATUS,
  GONE_PATH_PREFIX,
  MALFORMED_REPLY,
  ON_SUCCESS_IDS,
  ON_SUCCESS_PATHS,
  ON_SUCCESS_TYPES,
  RECEIPT_TYPES,
  REPLY,
  receiptSource,
  SINK_PATHS,
} from "../config/subscriptions.js";
import { binaryRequest } from "../events/requests.js";
import type { Received } from "../sink/sink-server.js";
import { type CaseContext, type ConformanceCase, check } from "./case.js";
import { SUITE_SOURCE } from "./context.js";
import { expectStatus, waitForId } from "./expect.js";
import { adminApi, itemPath, readObject, withSubscription } from "./subscription-api-cases.js";

const ON_SUCCESS = 'Herald README "On success and on failure"; issue 11';
const REPLIES = `${ON_SUCCESS} (reply events)`;
const CORRELATION = "CloudEvents correlation extension (causationid, correlationid)";
const RECEIPTS = `${ON_SUCCESS} (delivery receipts)`;
const LOOPS = `${ON_SUCCESS} (loop protection)`;
const SUCCEEDED = RECEIPT_TYPES.succeeded;
/** Where `heralderrordata` of an event whose reply was refused starts (README, issue 11 point 1). */
const REFUSED_REPLY = "delivered (HTTP 200), but its reply was not ingested";
/** `limits.maxReplyHops` by default (README "Loop protection"; issue 11 point 3). */
const DEFAULT_MAX_REPLY_HOPS = 8;

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
 * Waits for `event` at the dead-letter sink of the reply subscriptions and checks it says its
 * reply was refused: `heralderrorcode` 200 (the delivery did succeed), one attempt,
 * `heralderrordest` the sink at `sinkPath`, `heralderrordata` starting with
 * {@link REFUSED_REPLY}. Returns `heralderrordata`.
 */
async function expectReplyRefused(
  ctx: CaseContext,
  event: Readonly<Record<string, unknown>>,
  sinkPath: string,
): Promise<string> {
  const dead = await waitForId(ctx, ON_SUCCESS_PATHS.deadLetter, String(event.id));
  expectAttributes(dead, {
    source: String(event.source),
    type: String(event.type),
    heralderrorcode: "200",
    heraldattempts: "1",
  });
  const data = attr(dead, "heralderrordata") ?? "";
  check(
    data.startsWith(REFUSED_REPLY),
    `heralderrordata does not start with "${REFUSED_REPLY}": ${JSON.stringify(data.slice(0, 200))}`,
  );
  const dest = attr(dead, "heralderrordest");
  check(
    dest !== undefined && new URL(dest).pathname === sinkPath,
    `heralderrordest is ${JSON.stringify(dest)}, not the sink ${sinkPath}`,
  );
  return data;
}

/** Fails if any sink received an event with one of these ids (call after a sentinel). */
function expectNoneDelivered(ctx: CaseContext, ids: readonly string[], what: string): void {
  const leaked = ctx.sink.received.filter((r) => ids.includes(String(r.event.attributes.id)));
  check(
    leaked.length === 0,
    `${what} was delivered: ${leaked.map((r) => `${r.path} id=${attr(r, "id")}`).join(", ")}`,
  );
}

/** Waits for a receipt of `type` from `source` at `path` that `match`es. */
function waitForReceiptOf(
  ctx: CaseContext,
  where: { path: string; type: string; source: string },
  match: (r: Received) => boolean,
  what: string,
): Promise<Received> {
  return ctx.sink.waitFor(
    (r) =>
      r.path === where.path &&
      r.event.attributes.type === where.type &&
      r.event.attributes.source === where.source &&
      match(r),
    ctx.timeoutMs,
    `the ${where.type} receipt of ${what} at ${where.path}`,
  );
}

/** Fails unless the receipt's `data.sink` is the sink at `path` (shown without query or userinfo). */
function expectReceiptSink(data: Json | undefined, path: string): void {
  let pathname: string | undefined;
  try {
    pathname = new URL(String(data?.sink)).pathname;
  } catch {
    pathname = undefined;
  }
  check(
    pathname === path,
    `the receipt's data.sink is ${JSON.stringify(data?.sink)}, not the sink ${path}`,
  );
}

/** Replies and the `succeeded` receipt; the rest are in {@link onSuccessCases}. */
const replyAndReceiptCases: readonly ConformanceCase[] = [
  {
    name: "herald: on-success: a reply is ingested and routed by its type, with system provenance and correlation",
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
    name: "herald: on-success: a reply outside the reply policy is not ingested; the original is dead-lettered saying why",
    spec: `${REPLIES} (reply policy); DESIGN.md "Attributes" (heralderror*)`,
    async run(ctx) {
      const original = await publish(ctx, { type: ON_SUCCESS_TYPES.outside });
      const id = String(original.id);
      await waitForId(ctx, ON_SUCCESS_PATHS.outside, id);
      await expectReplyRefused(ctx, original, ON_SUCCESS_PATHS.outside);
      // The refused reply must reach no sink, not even the catch-alls.
      await ctx.sentinel();
      expectNoneDelivered(ctx, [`${REPLY.idPrefix}${id}`], "the refused reply");
    },
  },
  {
    name: `herald: on-success: a ${SUCCEEDED} receipt is routed by its source, naming the original event`,
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
    name: "herald: on-success: receipts never produce receipts",
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

const malformedReplyCase: ConformanceCase = {
  name: "herald: on-success: a malformed reply (no source; JSON that is not an object) is not ingested; the original is dead-lettered saying the delivery succeeded",
  spec: `${REPLIES} (an invalid reply); CloudEvents 1.0.2 "REQUIRED Attributes"; JSON event format 3; DESIGN.md "Attributes" (heralderror*)`,
  async run(ctx) {
    const replies: string[] = [];
    for (const subject of [MALFORMED_REPLY.missingSource, MALFORMED_REPLY.notAnObject]) {
      const original = await publish(ctx, { type: ON_SUCCESS_TYPES.malformed, subject });
      const id = String(original.id);
      replies.push(`${REPLY.idPrefix}${id}`);
      await waitForId(ctx, ON_SUCCESS_PATHS.malformed, id);
      const data = await expectReplyRefused(ctx, original, ON_SUCCESS_PATHS.malformed);
      if (subject === MALFORMED_REPLY.missingSource) {
        // "dead-lettered with that reason": the reason names what is wrong with the reply.
        check(
          /\bsource\b/.test(data.slice(REFUSED_REPLY.length)),
          `heralderrordata does not name the missing source: ${JSON.stringify(data.slice(0, 300))}`,
        );
      }
    }
    // Neither reply (each carries an id) reaches any sink, not even the catch-alls.
    await ctx.sentinel();
    expectNoneDelivered(ctx, replies, "a malformed reply");
  },
};

const replyLoopCase: ConformanceCase = {
  name: `herald: on-success: a reply loop stops at the hop limit (${DEFAULT_MAX_REPLY_HOPS}); the last event is dead-lettered with the reason, never delivered again`,
  spec: `${LOOPS}: heraldhops, limits.maxReplyHops default ${DEFAULT_MAX_REPLY_HOPS}, "reply loop: ..."; ${CORRELATION}`,
  async run(ctx) {
    // `/reply/loop` answers every delivery with a reply its own subscription matches and allows.
    const original = await publish(ctx, { type: ON_SUCCESS_TYPES.loop });
    const first = String(original.id);
    const chain = [first];
    for (let hop = 0; hop <= DEFAULT_MAX_REPLY_HOPS; hop++) {
      const id = chain[hop] as string;
      const delivered = await waitForId(ctx, ON_SUCCESS_PATHS.loop, id);
      const hops = attr(delivered, "heraldhops");
      if (hop === 0) {
        // A published event has no hop count (0).
        check(
          hops === undefined || hops === "0",
          `the published event arrived with heraldhops ${hops}`,
        );
      } else {
        expectAttributes(delivered, {
          heraldhops: String(hop),
          causationid: chain[hop - 1] as string,
          correlationid: first,
          authtype: "system",
          authid: `subscription:${ON_SUCCESS_IDS.loop}`,
        });
      }
      chain.push(`${REPLY.idPrefix}${id}`);
    }
    // The event at the limit got a reply that would pass it: that event is dead-lettered.
    const last = chain[DEFAULT_MAX_REPLY_HOPS] as string;
    const data = await expectReplyRefused(
      ctx,
      { id: last, source: REPLY.source, type: ON_SUCCESS_TYPES.loop },
      ON_SUCCESS_PATHS.loop,
    );
    check(
      data.includes("reply loop:"),
      `heralderrordata does not give the reason "reply loop: ...": ${JSON.stringify(data.slice(0, 300))}`,
    );
    await ctx.sentinel();
    // The reply past the limit reaches no sink; no event of the chain was delivered twice, and
    // only the last one was dead-lettered.
    expectNoneDelivered(
      ctx,
      [chain[DEFAULT_MAX_REPLY_HOPS + 1] as string],
      "the reply past the limit",
    );
    const ofChain = new Set(chain);
    const loopDeliveries = ctx.sink.received.filter(
      (r) => r.path === ON_SUCCESS_PATHS.loop && ofChain.has(String(r.event.attributes.id)),
    );
    check(
      loopDeliveries.length === DEFAULT_MAX_REPLY_HOPS + 1,
      `expected ${DEFAULT_MAX_REPLY_HOPS + 1} deliveries to ${ON_SUCCESS_PATHS.loop} (hops 0 to ${DEFAULT_MAX_REPLY_HOPS}), got ${loopDeliveries.length}: ${loopDeliveries.map((r) => attr(r, "heraldhops") ?? "0").join(", ")}`,
    );
    const dead = ctx.sink.received.filter(
      (r) => r.path === ON_SUCCESS_PATHS.deadLetter && ofChain.has(String(r.event.attributes.id)),
    );
    check(
      dead.length === 1,
      `expected only the event at hop ${DEFAULT_MAX_REPLY_HOPS} at the dead-letter sink, got ${dead.map((r) => attr(r, "heraldhops") ?? "0").join(", ")}`,
    );
  },
};

const failedReceiptCase: ConformanceCase = {
  name: `herald: on-success: a ${RECEIPT_TYPES.failed} receipt of a dead-lettered event is routed by a filter, naming the event, sink, attempts and status`,
  spec: `${RECEIPTS}; Herald README "Delivery" (retries, dead letters)`,
  async run(ctx) {
    // `/receipts/failing` answers 500; its subscription has `retry: 0` and a dead-letter sink.
    const original = await publish(ctx, { type: ON_SUCCESS_TYPES.failing });
    const id = String(original.id);
    await waitForId(ctx, ON_SUCCESS_PATHS.failing, id);
    const dead = await waitForId(ctx, ON_SUCCESS_PATHS.failingDeadLetter, id);
    expectAttributes(dead, {
      heralderrorcode: String(FAILING_STATUS),
      heraldattempts: "1",
    });
    const receipt = await waitForReceiptOf(
      ctx,
      {
        path: ON_SUCCESS_PATHS.failures,
        type: RECEIPT_TYPES.failed,
        source: receiptSource(ON_SUCCESS_IDS.failing),
      },
      (r) => receiptEvent(r)?.id === id,
      `event ${id}`,
    );
    expectAttributes(receipt, {
      authtype: "system",
      authid: "herald",
      causationid: id,
      correlationid: id,
    });
    const data = asObject(jsonData(receipt));
    const event = receiptEvent(receipt);
    check(
      data?.subscription === ON_SUCCESS_IDS.failing &&
        event?.source === original.source &&
        event?.id === id &&
        event?.type === original.type &&
        data?.attempts === 1 &&
        data?.status === FAILING_STATUS &&
        typeof data?.error === "string" &&
        data.error !== "" &&
        data?.ending === "dead_letter_sink",
      `the receipt's data does not name the subscription, the original event, one attempt, status ${FAILING_STATUS}, an error and the dead-letter sink ending: ${JSON.stringify(data)}`,
    );
    expectReceiptSink(data, ON_SUCCESS_PATHS.failing);
  },
};

function disabledReceiptCase(auth: ConformanceAuth | undefined): ConformanceCase {
  const api = adminApi(auth);
  return {
    name: `herald: on-success: a sink's 410 Gone disables its subscription and emits a ${RECEIPT_TYPES.disabled} receipt, routed by a filter`,
    spec: `${RECEIPTS}; Herald README "Delivery" (410 Gone) and "Subscriptions API" (disabled)`,
    async run(ctx) {
      // Made through the API: a config subscription, once disabled, would stay so for later runs.
      const path = `${GONE_PATH_PREFIX}${ctx.token}0`;
      const body = {
        source: `${SUITE_SOURCE}/${ctx.token}`,
        filters: [],
        sink: `${ctx.sink.url}${path}`,
        protocol: "HTTP",
        delivery: { retry: 0, receipts: true },
      };
      await withSubscription(ctx, api, body, async ({ id: subscription }) => {
        const original = await publish(ctx, {});
        await waitForId(ctx, path, String(original.id));
        const receipt = await waitForReceiptOf(
          ctx,
          {
            path: ON_SUCCESS_PATHS.disabled,
            type: RECEIPT_TYPES.disabled,
            source: receiptSource(encodeURIComponent(subscription)),
          },
          () => true,
          `subscription ${subscription}`,
        );
        expectAttributes(receipt, { authtype: "system", authid: "herald" });
        const data = asObject(jsonData(receipt));
        check(
          data?.subscription === subscription &&
            data?.status === 410 &&
            typeof data?.reason === "string" &&
            data.reason !== "",
          `the receipt's data does not name the subscription, status 410 and a reason: ${JSON.stringify(data)}`,
        );
        expectReceiptSink(data, path);
        // A gateway may store the receipt before it records the disable (so a crash between the
        // two loses neither): the receipt can arrive first, so the resource is read until it
        // shows the state or the case's time is up.
        const deadline = Date.now() + ctx.timeoutMs;
        let read: Record<string, unknown>;
        for (;;) {
          read = readObject(
            await api(ctx, "GET", itemPath(subscription)),
            200,
            `GET ${itemPath(subscription)}`,
          );
          if (read.disabled !== undefined || Date.now() >= deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const disabled = asObject(read.disabled);
        check(
          typeof disabled?.at === "string" && typeof disabled?.reason === "string",
          `the subscription does not show "disabled": { at, reason }: ${JSON.stringify(read)}`,
        );
        // It stops matching: a later event it would match reaches the catch-alls, not the sink.
        const later = await publish(ctx, {});
        await ctx.sentinel();
        const sent = ctx.sink.received.filter((r) => r.path === path).map((r) => attr(r, "id"));
        check(
          !sent.includes(String(later.id)),
          `the disabled subscription still delivered event ${String(later.id)} to ${path}`,
        );
      });
    },
  };
}

/**
 * On-success semantics (issue 11; Herald README "On success and on failure"): reply events routed
 * by ordinary subscriptions, with system provenance and the correlation extension; a reply outside
 * the subscription's policy, or malformed, dead-letters the original; a reply loop stops at the
 * hop limit; delivery receipts as events (succeeded, failed, disabled by a 410), and never a
 * receipt of a receipt. They rely on the on-success subscriptions of the config and on the suite's
 * sink's scripted answers (`answerTo`); the 410 case creates its subscription through the
 * Subscriptions API, with `auth.adminToken` when given.
 *
 * @example
 * onSuccessCases(auth).map((c) => c.name);
 */
export function onSuccessCases(auth?: ConformanceAuth): readonly ConformanceCase[] {
  return [
    ...replyAndReceiptCases,
    malformedReplyCase,
    replyLoopCase,
    failedReceiptCase,
    disabledReceiptCase(auth),
  ];
}
