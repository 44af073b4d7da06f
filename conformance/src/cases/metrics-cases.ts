import type { ConformanceAuth } from "../auth/conformance-auth.js";
import { SINK_PATHS } from "../config/subscriptions.js";
import { batchRequest, binaryRequest } from "../events/requests.js";
import { mediaTypeEssence } from "../http/media-type.js";
import type { GatewayResponse } from "../target.js";
import { hasBearerChallenge } from "./auth-cases.js";
import { type CaseContext, type ConformanceCase, check } from "./case.js";
import { describe, expectProblem, expectStatus, waitForId } from "./expect.js";

const METRICS_PATH = "/metrics";
const METRICS = 'Herald README "Metrics" (GET /metrics, admin API)';
const PROMETHEUS = "Prometheus text exposition format 0.0.4";
const ACCEPTED = "herald_events_accepted_total";

/** `GET /metrics` with the admin token (default: the run's token), or with `bearer` instead. */
function getMetrics(
  ctx: CaseContext,
  auth: ConformanceAuth | undefined,
  bearer?: string | null,
): Promise<GatewayResponse> {
  const token = bearer === undefined ? auth?.adminToken : bearer;
  return ctx.send({
    method: "GET",
    path: METRICS_PATH,
    ...(token === undefined ? {} : { bearer: token }),
  });
}

/** Reads a 200 `text/plain; version=0.0.4` answer as text. */
function readExposition(res: GatewayResponse): string {
  expectStatus(res, 200);
  const type = res.headers.get("content-type") ?? "";
  check(
    mediaTypeEssence(type) === "text/plain" && /;\s*version\s*=\s*"?0\.0\.4"?\s*(;|$)/i.test(type),
    `GET ${METRICS_PATH}: expected Content-Type text/plain; version=0.0.4, got ${JSON.stringify(type)}`,
  );
  return new TextDecoder().decode(res.body);
}

/**
 * The sum of every sample of metric `name` in a Prometheus text exposition (with or without
 * labels), or `undefined` when it has none.
 *
 * @example
 * sampleSum("# TYPE a counter\na 2\na{x=\"1\"} 3\n", "a") // => 5
 */
export function sampleSum(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    const match = /^(?:\{[^}]*\})?\s+(\S+)/.exec(rest);
    if (!match) continue;
    const value = Number(match[1]);
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

function acceptedCount(text: string): number {
  const count = sampleSum(text, ACCEPTED);
  check(count !== undefined, `GET ${METRICS_PATH} has no ${ACCEPTED} sample`);
  return count;
}

/**
 * Herald's metrics endpoint (README "Tracing and metrics", issue 6): Prometheus text at
 * `GET /metrics`, part of the admin API. Herald-specific, hence the `herald:` prefix: a run
 * against another gateway can leave them out by name. With `auth`, it needs the admin token.
 *
 * @example
 * metricsCases({ token, adminToken }).map((c) => c.name);
 */
export function metricsCases(auth?: ConformanceAuth): readonly ConformanceCase[] {
  const cases: ConformanceCase[] = [
    {
      name: `herald: metrics: GET ${METRICS_PATH} -> 200 text/plain; version=0.0.4 with ${ACCEPTED} a counter`,
      spec: `${METRICS}; ${PROMETHEUS}`,
      async run(ctx) {
        const text = readExposition(await getMetrics(ctx, auth));
        check(
          text.split("\n").includes(`# TYPE ${ACCEPTED} counter`),
          `GET ${METRICS_PATH} does not declare "# TYPE ${ACCEPTED} counter": ${JSON.stringify(text.slice(0, 300))}`,
        );
        acceptedCount(text);
      },
    },
    {
      name: `herald: metrics: ${ACCEPTED} grows by the events accepted`,
      spec: `${METRICS} (${ACCEPTED}: events stored)`,
      async run(ctx) {
        const before = acceptedCount(readExposition(await getMetrics(ctx, auth)));
        const events = [ctx.event(), ctx.event(), ctx.event()];
        expectStatus(await ctx.send(binaryRequest(events[0]!)), 202);
        expectStatus(await ctx.send(batchRequest(events.slice(1))), 202);
        // Stored (202) is what it counts; waiting for the deliveries makes sure without a sleep.
        await Promise.all(events.map((e) => waitForId(ctx, SINK_PATHS.binary, String(e.id))));
        const after = acceptedCount(readExposition(await getMetrics(ctx, auth)));
        check(
          after >= before + events.length,
          `${ACCEPTED} went from ${before} to ${after} after ${events.length} accepted events`,
        );
      },
    },
  ];
  if (auth === undefined) return cases;
  cases.push({
    name: `herald: metrics: GET ${METRICS_PATH} without a token -> 401 with a Bearer challenge`,
    spec: `${METRICS}; RFC 6750 §3; DESIGN.md "HTTP surface" (401)`,
    async run(ctx) {
      const res = await getMetrics(ctx, auth, null);
      expectProblem(res, 401);
      const challenge = res.headers.get("www-authenticate");
      check(
        hasBearerChallenge(challenge),
        `WWW-Authenticate has no Bearer challenge: ${challenge}`,
      );
      check(
        !new TextDecoder().decode(res.body).includes(ACCEPTED),
        `the 401 answer holds the metrics: ${describe(res)}`,
      );
    },
  });
  if (auth.adminToken !== undefined && auth.adminToken !== auth.token) {
    cases.push({
      name: `herald: metrics: GET ${METRICS_PATH} with a publisher's token without an admin rule -> 403`,
      spec: `${METRICS}; DESIGN.md "Config" (auth.admins), "HTTP surface" (403)`,
      async run(ctx) {
        expectProblem(await getMetrics(ctx, auth, auth.token), 403);
      },
    });
  }
  return cases;
}
