import { createHmac } from "node:crypto";
import type { ConformanceAuth } from "../auth/conformance-auth.js";
import { DELIVERY_PATH_PREFIXES } from "../config/subscriptions.js";
import { batchRequest, binaryRequest } from "../events/requests.js";
import { CLOUDEVENTS_BATCH_JSON as BATCH_JSON, mediaTypeEssence } from "../http/media-type.js";
import type { Received } from "../sink/sink-server.js";
import { type CaseContext, type ConformanceCase, check } from "./case.js";
import { SUITE_SOURCE } from "./context.js";
import { expectAccepted, waitForId } from "./expect.js";
import { type AdminApi, adminApi, withSubscription } from "./subscription-api-cases.js";

const SEMANTICS = 'DESIGN.md "Delivery semantics"';
const DEAD = 'DESIGN.md "Attributes the gateway sets" (dead-lettered events)';
const CONFIG = 'DESIGN.md "Config" (subscriptions[].delivery)';
/** Short waits between attempts, so a retry happens well inside the suite's timeout. */
const FAST_BACKOFF = { backoffDelay: "10ms", backoffMax: "100ms" } as const;

/** A sink URL under `prefix` (a scripted one, or a plain path) that only this case uses. */
function caseSink(ctx: CaseContext, prefix: string, n = 0): { url: string; path: string } {
  const path = `${prefix}${ctx.token}${n}`;
  return { url: `${ctx.sink.url}${path}`, path };
}

/** A subscription for this case's events only (scoped by `source`) with `delivery`. */
function subscription(ctx: CaseContext, sink: { url: string }, delivery: Record<string, unknown>) {
  return { source: `${SUITE_SOURCE}/${ctx.token}`, sink: sink.url, protocol: "HTTP", delivery };
}

/** Every delivery of event `id` a sink path has received so far. */
const deliveriesOf = (ctx: CaseContext, path: string, id: string): Received[] =>
  ctx.sink.received.filter((r) => r.path === path && r.event.attributes.id === id);

function sameUrl(a: unknown, b: string): boolean {
  try {
    return typeof a === "string" && new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/**
 * Checks the dead letter of `event` that arrived at the dead-letter sink: the event itself (id,
 * source, type) plus DESIGN.md's four attributes. Values are compared as strings, so a binary
 * (`ce-heraldattempts: 1`) and a structured (`"heraldattempts": 1`) dead letter both pass.
 */
function expectDeadLetter(
  dead: Received,
  event: Readonly<Record<string, unknown>>,
  expected: { dest: string; code: number; attempts: number },
): void {
  const attrs = dead.event.attributes;
  for (const name of ["id", "source", "type"]) {
    check(
      attrs[name] === event[name],
      `the dead letter's ${name} is ${JSON.stringify(attrs[name])}, the event's ${JSON.stringify(event[name])}`,
    );
  }
  check(
    sameUrl(attrs.heralderrordest, expected.dest),
    `heralderrordest is ${JSON.stringify(attrs.heralderrordest)}, not the sink ${expected.dest}`,
  );
  check(
    String(attrs.heralderrorcode) === String(expected.code),
    `heralderrorcode is ${JSON.stringify(attrs.heralderrorcode)}, not ${expected.code}`,
  );
  check(
    String(attrs.heraldattempts) === String(expected.attempts),
    `heraldattempts is ${JSON.stringify(attrs.heraldattempts)}, not ${expected.attempts}`,
  );
  const data = attrs.heralderrordata;
  check(
    typeof data === "string" && new TextEncoder().encode(data).length <= 1024,
    `heralderrordata must be a string of at most 1024 bytes, got ${JSON.stringify(data)?.slice(0, 80)}`,
  );
}

/** A first answer of `status` (DESIGN.md: 408, 429 and 5xx are retried) is retried. */
function retried(api: AdminApi, status: "503" | "429" | "408"): ConformanceCase {
  const answer = status === "503" ? "a 5xx" : `a ${status}`;
  return {
    name: `delivery: ${answer} answer is retried, and the event then delivered`,
    spec: `${SEMANTICS} (408, 429 and 5xx retried with backoff; 2xx = delivered); ${CONFIG} (retry, backoffDelay, backoffMax)`,
    run(ctx) {
      const prefix = `${DELIVERY_PATH_PREFIXES.flaky}${status === "503" ? "" : `${status}/`}`;
      const sink = caseSink(ctx, prefix);
      const body = subscription(ctx, sink, { retry: 3, ...FAST_BACKOFF });
      return withSubscription(ctx, api, body, async () => {
        const event = ctx.event();
        const id = String(event.id);
        expectAccepted(await ctx.send(binaryRequest(event)));
        const first = await waitForId(ctx, sink.path, id);
        const again = await ctx.sink.waitFor(
          (r) => r.path === sink.path && r.event.attributes.id === id && r !== first,
          ctx.timeoutMs,
          `a retry of ${id} at ${sink.path} after its ${status}`,
        );
        check(
          again.event.attributes.source === event.source,
          `the retry carries source ${String(again.event.attributes.source)}`,
        );
      });
    },
  };
}

/**
 * DESIGN.md's delivery semantics, through subscriptions the cases create with the Subscriptions
 * API (resource shape plus `delivery`), each scoped to the case's own events and pointed at a
 * scripted sink path of its own: a 5xx is retried until the sink takes the event; a 4xx other
 * than 408 and 429 goes straight to the dead-letter sink; after the last retry the event goes
 * there too, with `heralderrordest`, `heralderrorcode`, `heralderrordata` and `heraldattempts`;
 * a `signingSecret` signs each delivery (Standard Webhooks); `mode: batch` delivers in the JSON
 * batch format. The subscriptions are deleted before each case
 * ends.
 *
 * @example
 * deliveryCases().map((c) => c.name);
 */
export function deliveryCases(auth?: ConformanceAuth): readonly ConformanceCase[] {
  const api = adminApi(auth);
  return [
    ...(["503", "429", "408"] as const).map((status) => retried(api, status)),
    {
      name: "delivery: a 400 is not retried; the event goes to the dead-letter sink with heralderror* attributes",
      spec: `${SEMANTICS} (other 4xx go straight to the dead-letter sink); ${DEAD}; ${CONFIG} (deadLetterSink)`,
      run(ctx) {
        const sink = caseSink(ctx, DELIVERY_PATH_PREFIXES.rejecting);
        const deadLetterSink = caseSink(ctx, "/delivery/dead-letter/");
        const body = subscription(ctx, sink, {
          retry: 3,
          ...FAST_BACKOFF,
          deadLetterSink: deadLetterSink.url,
        });
        return withSubscription(ctx, api, body, async () => {
          const event = ctx.event();
          const id = String(event.id);
          expectAccepted(await ctx.send(binaryRequest(event)));
          const dead = await waitForId(ctx, deadLetterSink.path, id);
          expectDeadLetter(dead, event, { dest: sink.url, code: 400, attempts: 1 });
          // The dead letter comes after the last attempt, so every attempt has arrived by now.
          const tries = deliveriesOf(ctx, sink.path, id).length;
          check(tries === 1, `the sink got ${tries} attempts of a delivery it refused with 400`);
        });
      },
    },
    {
      name: "delivery: after the last retry of a 5xx, the event goes to the dead-letter sink with heralderror* attributes",
      spec: `${SEMANTICS} (after the last retry: dead-letter sink); ${DEAD}; ${CONFIG} (retry: retries after the first attempt)`,
      run(ctx) {
        const sink = caseSink(ctx, DELIVERY_PATH_PREFIXES.failing);
        const deadLetterSink = caseSink(ctx, "/delivery/dead-letter/");
        const body = subscription(ctx, sink, {
          retry: 1,
          ...FAST_BACKOFF,
          deadLetterSink: deadLetterSink.url,
        });
        return withSubscription(ctx, api, body, async () => {
          const event = ctx.event();
          const id = String(event.id);
          expectAccepted(await ctx.send(binaryRequest(event)));
          const dead = await waitForId(ctx, deadLetterSink.path, id);
          expectDeadLetter(dead, event, { dest: sink.url, code: 500, attempts: 2 });
          const tries = deliveriesOf(ctx, sink.path, id).length;
          check(tries === 2, `the sink got ${tries} attempts, not the first one and 1 retry`);
        });
      },
    },
    {
      name: "delivery: signingSecret signs every delivery (Standard Webhooks webhook-id, -timestamp, -signature)",
      spec: `${CONFIG} (signingSecret: Standard Webhooks signature, whsec_...); Standard Webhooks 1.0 "Signature scheme" (HMAC-SHA256 of id.timestamp.body)`,
      run(ctx) {
        const sink = caseSink(ctx, "/delivery/signed/");
        const key = crypto.getRandomValues(new Uint8Array(24));
        const secret = `whsec_${Buffer.from(key).toString("base64")}`;
        const body = subscription(ctx, sink, { signingSecret: secret });
        return withSubscription(ctx, api, body, async () => {
          const event = ctx.event();
          const request = binaryRequest(event, {
            contentType: "application/json",
            body: `{"signed":"${ctx.token}"}`,
          });
          expectAccepted(await ctx.send(request));
          const got = await waitForId(ctx, sink.path, String(event.id));
          const headers = got.delivery.headers;
          const msgId = headers["webhook-id"];
          const timestamp = headers["webhook-timestamp"];
          const signatures = headers["webhook-signature"];
          check(msgId !== undefined && msgId !== "", "the delivery has no webhook-id header");
          check(
            timestamp !== undefined && /^\d+$/.test(timestamp),
            `webhook-timestamp is ${JSON.stringify(timestamp)}, not integer seconds`,
          );
          const signed = Buffer.concat([
            Buffer.from(`${msgId}.${timestamp}.`),
            Buffer.from(got.delivery.body),
          ]);
          const expected = `v1,${createHmac("sha256", key).update(signed).digest("base64")}`;
          check(
            (signatures ?? "").split(" ").includes(expected),
            `webhook-signature ${JSON.stringify(signatures)} has no ${expected} (HMAC-SHA256 of webhook-id.webhook-timestamp.body with the secret's key)`,
          );
        });
      },
    },
    {
      name: "delivery: mode batch delivers in the JSON batch format",
      spec: `${CONFIG} (mode: batch); HTTP protocol binding 1.0.2 §3.3; JSON event format 1.0.2 §4`,
      run(ctx) {
        const sink = caseSink(ctx, "/delivery/batch/");
        return withSubscription(ctx, api, subscription(ctx, sink, { mode: "batch" }), async () => {
          const events = [ctx.event({ subject: "one" }), ctx.event({ subject: "two" })];
          expectAccepted(await ctx.send(batchRequest(events)));
          for (const event of events) {
            const got = await waitForId(ctx, sink.path, String(event.id));
            const type = got.delivery.headers["content-type"];
            check(
              mediaTypeEssence(type) === BATCH_JSON,
              `a mode: batch delivery came as ${type ?? "(no content-type)"}, not ${BATCH_JSON}`,
            );
            check(
              got.event.attributes.subject === event.subject,
              `${String(event.id)} arrived with subject ${String(got.event.attributes.subject)}`,
            );
          }
        });
      },
    },
  ];
}
