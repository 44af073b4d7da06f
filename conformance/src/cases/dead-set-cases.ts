import type { ConformanceAuth } from "../auth/conformance-auth.js";
import { DELIVERY_PATH_PREFIXES } from "../config/subscriptions.js";
import { binaryRequest } from "../events/requests.js";
import { mediaTypeEssence } from "../http/media-type.js";
import type { GatewayResponse } from "../target.js";
import { hasBearerChallenge } from "./auth-cases.js";
import { type CaseContext, CaseFailure, type ConformanceCase, check } from "./case.js";
import { SUITE_SOURCE } from "./context.js";
import { describe, expectAccepted, expectProblem, waitForId } from "./expect.js";
import {
  type AdminApi,
  adminApi,
  itemPath,
  readObject,
  withSubscription,
} from "./subscription-api-cases.js";

const DEAD_SET =
  'Herald README "Delivery" (dead letters: GET /subscriptions/{id}/dead, .../dead/{jobId}, DELETE)';
const SURFACE = 'DESIGN.md "HTTP surface"';
/** How often the dead set is read while waiting for the gateway to keep a refused event. */
const POLL_MS = 25;

type Json = Record<string, unknown>;

/**
 * A subscription for this case's events (scoped by `source`) whose sink refuses every delivery
 * with 400 and no dead-letter sink: each event it matches ends in the dead set.
 */
function refusedSubscription(ctx: CaseContext): { body: Json; path: string } {
  const path = `${DELIVERY_PATH_PREFIXES.rejecting}${ctx.token}dead`;
  return {
    path,
    body: {
      source: `${SUITE_SOURCE}/${ctx.token}`,
      sink: `${ctx.sink.url}${path}`,
      protocol: "HTTP",
      delivery: { retry: 0 },
    },
  };
}

const deadPath = (id: string, jobId?: string) =>
  `${itemPath(id)}/dead${jobId === undefined ? "" : `/${encodeURIComponent(jobId)}`}`;

/** JSON with object keys sorted, to compare values regardless of member order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * The item of the subscription's dead page whose event is `eventId`, once the gateway keeps it
 * (the sink has answered by then; keeping it follows at once): read again every `POLL_MS` until
 * `ctx.timeoutMs`, as no event tells a black box when it happened.
 */
async function deadItemOf(
  ctx: CaseContext,
  api: AdminApi,
  subscriptionId: string,
  eventId: string,
): Promise<Json & { jobId: string }> {
  const until = Date.now() + ctx.timeoutMs;
  for (;;) {
    const page = readObject(
      await api(ctx, "GET", deadPath(subscriptionId)),
      200,
      `GET ${deadPath(subscriptionId)}`,
    );
    const items = Array.isArray(page.items) ? (page.items as unknown[]) : [];
    const item = items.find(
      (i): i is Json =>
        typeof i === "object" &&
        i !== null &&
        (i as { event?: { id?: unknown } }).event?.id === eventId,
    );
    if (item !== undefined) {
      check(
        typeof item.jobId === "string" && item.jobId !== "",
        `the dead item has no jobId: ${JSON.stringify(item).slice(0, 300)}`,
      );
      return item as Json & { jobId: string };
    }
    if (Date.now() >= until) {
      throw new CaseFailure(
        `timed out after ${ctx.timeoutMs} ms waiting for event ${eventId} in ${deadPath(subscriptionId)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Sends one event the case's refusing subscription matches, waits until it is dead. */
async function oneDead(ctx: CaseContext, api: AdminApi, id: string, sinkPath: string) {
  const event = ctx.event();
  const eventId = String(event.id);
  expectAccepted(await ctx.send(binaryRequest(event)));
  await waitForId(ctx, sinkPath, eventId);
  return deadItemOf(ctx, api, id, eventId);
}

/** Fails unless `res` is a 404 problem; `what` names the request in the message. */
function expectNotFound(res: GatewayResponse, what: string): void {
  try {
    expectProblem(res, 404);
  } catch (err) {
    throw new CaseFailure(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Herald's dead set of a subscription (README "Delivery", dead letters): one dead delivery read
 * by its `jobId` as the page lists it, `HEAD` as `GET` without a body, and a 404 problem for a
 * job that is not dead there. DESIGN.md names the dead set ("kept as dead in the store") but no
 * API for it, so these cases are Herald's own: `herald: ` names them, and `--skip herald:` leaves
 * them out. With `auth`, the admin token reads the dead set, and the run's token alone or no
 * token is refused.
 *
 * @example
 * deadSetCases().map((c) => c.name);
 */
export function deadSetCases(auth?: ConformanceAuth): readonly ConformanceCase[] {
  const api = adminApi(auth);
  const cases: ConformanceCase[] = [
    {
      name: "herald: dead set: GET .../dead/{jobId} -> 200, the item GET .../dead lists; HEAD the same without a body; 404 once deleted",
      spec: `${DEAD_SET}; ${SURFACE}; RFC 9110 §9.3.2 (HEAD)`,
      run(ctx) {
        const { body, path } = refusedSubscription(ctx);
        return withSubscription(ctx, api, body, async ({ id }) => {
          const item = await oneDead(ctx, api, id, path);
          const url = deadPath(id, item.jobId);
          const res = await api(ctx, "GET", url);
          const one = readObject(res, 200, `GET ${url}`);
          check(
            mediaTypeEssence(res.headers.get("content-type")) === "application/json",
            `GET ${url}: expected application/json, got ${describe(res)}`,
          );
          check(
            canonical(one) === canonical(item),
            `GET ${url} is not the item the dead page lists: ${JSON.stringify(one).slice(0, 300)} vs ${JSON.stringify(item).slice(0, 300)}`,
          );
          const head = await api(ctx, "HEAD", url);
          check(head.status === 200, `HEAD ${url}: expected 200, got ${describe(head)}`);
          check(head.body.length === 0, `HEAD ${url} has a body: ${describe(head)}`);
          const deleted = readObject(await api(ctx, "DELETE", url), 200, `DELETE ${url}`);
          check(deleted.deleted === 1, `DELETE ${url} answered ${JSON.stringify(deleted)}`);
          expectNotFound(await api(ctx, "GET", url), `GET ${url} once deleted`);
        });
      },
    },
    {
      name: "herald: dead set: GET .../dead/{jobId} of an unknown job, text that is no job id, or an unknown subscription -> 404 problem",
      spec: `${DEAD_SET}; ${SURFACE} (RFC 9457 problem; never a 5xx for client input)`,
      run(ctx) {
        const { body } = refusedSubscription(ctx);
        return withSubscription(ctx, api, body, async ({ id }) => {
          for (const jobId of [
            "999999999",
            "00000000-0000-4000-8000-000000000000",
            "not a job",
            "'; DROP TABLE jobs; --",
            "x".repeat(2_000),
          ]) {
            const url = deadPath(id, jobId);
            expectNotFound(await api(ctx, "GET", url), `GET ${url.slice(0, 80)}`);
          }
          const unknown = deadPath(`${ctx.token}-no-such-subscription`, "1");
          expectNotFound(await api(ctx, "GET", unknown), `GET ${unknown}`);
        });
      },
    },
  ];
  if (auth === undefined) return cases;
  cases.push({
    name: "herald: dead set: GET .../dead/{jobId} without a token -> 401 with a Bearer challenge",
    spec: `${DEAD_SET}; RFC 6750 §3; ${SURFACE} (401)`,
    run(ctx) {
      const { body } = refusedSubscription(ctx);
      return withSubscription(ctx, api, body, async ({ id }) => {
        const url = deadPath(id, "1");
        const res = await ctx.send({ method: "GET", path: url, bearer: null });
        expectProblem(res, 401);
        const challenge = res.headers.get("www-authenticate");
        check(
          hasBearerChallenge(challenge),
          `WWW-Authenticate has no Bearer challenge: ${challenge}`,
        );
      });
    },
  });
  if (auth.adminToken !== undefined && auth.adminToken !== auth.token) {
    cases.push({
      name: "herald: dead set: GET .../dead/{jobId} with a publisher's token without an admin rule -> 403",
      spec: `${DEAD_SET}; DESIGN.md "Config" (auth.admins), "HTTP surface" (403)`,
      run(ctx) {
        const { body } = refusedSubscription(ctx);
        return withSubscription(ctx, api, body, async ({ id }) => {
          const url = deadPath(id, "1");
          expectProblem(await ctx.send({ method: "GET", path: url, bearer: auth.token }), 403);
        });
      },
    });
  }
  return cases;
}
