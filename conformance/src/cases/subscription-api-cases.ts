import type { ConformanceAuth } from "../auth/conformance-auth.js";
import { conformanceSubscriptions, SINK_PATHS } from "../config/subscriptions.js";
import type { GatewayRequest, GatewayResponse } from "../target.js";
import { hasBearerChallenge } from "./auth-cases.js";
import { type CaseContext, CaseFailure, type ConformanceCase, check } from "./case.js";
import { SUITE_SOURCE } from "./context.js";
import { describe, expectProblem } from "./expect.js";
import { type Probe, probe, routeProbes } from "./filter-cases.js";

const SUBS = "Subscriptions API 0.1";
const SURFACE = 'DESIGN.md "HTTP surface"';
const COLLECTION = "/subscriptions";
/**
 * Sink paths of the subscriptions these cases create: `/subscriptions-api/<case token><n>`, a
 * prefix no configured subscription uses, so whatever arrives there came from the case's own.
 */
const API_SINK_PREFIX = "/subscriptions-api";

type Json = Record<string, unknown>;

/** Sends one admin API request: the admin token (default: the run's), a JSON body if given. */
export type AdminApi = (
  ctx: CaseContext,
  method: string,
  path: string,
  body?: unknown,
  extra?: Partial<GatewayRequest>,
) => Promise<GatewayResponse>;

/**
 * The admin API sender of a run: `auth.adminToken` as the bearer, or none for an open API.
 *
 * @example
 * const res = await adminApi(auth)(ctx, "GET", "/subscriptions");
 */
export function adminApi(auth: ConformanceAuth | undefined): AdminApi {
  const bearer = auth?.adminToken;
  return (ctx, method, path, body, extra = {}) =>
    ctx.send({
      method,
      path,
      ...(body === undefined
        ? {}
        : {
            headers: { "Content-Type": "application/json" },
            body: typeof body === "string" ? body : JSON.stringify(body),
          }),
      ...(bearer === undefined ? {} : { bearer }),
      ...extra,
    });
}

/** The path of one subscription, e.g. `/subscriptions/a%2Fb`. */
export const itemPath = (id: string) => `${COLLECTION}/${encodeURIComponent(id)}`;

/** A sink on the suite's sink server that only this case's `n`th subscription points at. */
function caseSink(ctx: CaseContext, n = 0): { url: string; path: string } {
  const path = `${API_SINK_PREFIX}/${ctx.token}${n}`;
  return { url: `${ctx.sink.url}${path}`, path };
}

/**
 * A proposed subscription (3.2.1) scoped by `source` to this case's events (`ctx.event()`), so a
 * gateway carrying other traffic, or another run, sends it nothing else.
 */
function proposal(ctx: CaseContext, sink: { url: string }, filters: readonly unknown[]): Json {
  return { source: `${SUITE_SOURCE}/${ctx.token}`, filters, sink: sink.url, protocol: "HTTP" };
}

function readJson(res: GatewayResponse): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(res.body));
  } catch {
    throw new CaseFailure(`response body is not JSON: ${describe(res)}`);
  }
}

/** Fails unless `res` has `status` and a JSON object body; returns the object. */
export function readObject(res: GatewayResponse, status: number, what: string): Json {
  check(res.status < 500, `server error (must never happen): ${describe(res)}`);
  check(res.status === status, `${what}: expected ${status}, got ${describe(res)}`);
  const body = readJson(res);
  check(
    typeof body === "object" && body !== null && !Array.isArray(body),
    `${what}: the body is not a subscription object: ${describe(res)}`,
  );
  return body as Json;
}

function readList(res: GatewayResponse): Json[] {
  check(res.status === 200, `GET ${COLLECTION}: expected 200, got ${describe(res)}`);
  const body = readJson(res);
  check(Array.isArray(body), `GET ${COLLECTION}: the body is not a JSON array: ${describe(res)}`);
  return body.filter((s): s is Json => typeof s === "object" && s !== null && !Array.isArray(s));
}

/** JSON with object keys sorted, to compare values regardless of member order. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

function sameUrl(a: unknown, b: string): boolean {
  try {
    return typeof a === "string" && new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/** POSTs `body`, expects 201 and a subscription with a non-empty string `id`. */
async function create(ctx: CaseContext, api: AdminApi, body: Json): Promise<Json & { id: string }> {
  const res = await api(ctx, "POST", COLLECTION, body);
  const created = readObject(res, 201, `POST ${COLLECTION}`);
  check(
    typeof created.id === "string" && created.id !== "",
    `the created subscription has no id: ${describe(res)}`,
  );
  return created as Json & { id: string };
}

/**
 * Deletes what a case created. After a passing case a failed delete fails it (reruns must find
 * the gateway clean); after a failing one it is best effort, so the first failure is reported.
 */
async function cleanUp(ctx: CaseContext, api: AdminApi, id: string, strict: boolean) {
  try {
    const res = await api(ctx, "DELETE", itemPath(id));
    check(
      res.status === 200 || res.status === 404,
      `cleanup: DELETE ${itemPath(id)} got ${describe(res)}`,
    );
  } catch (err) {
    if (strict) throw err;
  }
}

/**
 * Runs `use` with a freshly created subscription and deletes it afterwards, come what may.
 *
 * @example
 * await withSubscription(ctx, api, { source, filters: [], sink, protocol: "HTTP" }, async (s) => {});
 */
export async function withSubscription(
  ctx: CaseContext,
  api: AdminApi,
  body: Json,
  use: (created: Json & { id: string }) => Promise<void>,
): Promise<void> {
  const created = await create(ctx, api, body);
  let passed = false;
  try {
    await use(created);
    passed = true;
  } finally {
    await cleanUp(ctx, api, created.id, passed);
  }
}

/**
 * Proves a refused request created nothing: no listed subscription mentions the case's token
 * (every proposal the cases make carries it in `source` or `sink`). Deletes any it finds.
 */
async function expectNothingCreated(ctx: CaseContext, api: AdminApi): Promise<void> {
  const leaked = readList(await api(ctx, "GET", COLLECTION)).filter((s) =>
    JSON.stringify(s).includes(ctx.token),
  );
  for (const s of leaked) if (typeof s.id === "string") await cleanUp(ctx, api, s.id, false);
  check(
    leaked.length === 0,
    `a refused request created subscriptions anyway: ${leaked.map((s) => String(s.id)).join(", ")}`,
  );
}

/** Routes `probes` (this case's events) and checks which reach `sink`; see `routeProbes`. */
const route = (ctx: CaseContext, sink: { path: string }, probes: readonly Probe[]) =>
  routeProbes(ctx, sink.path, probes);

const subject = (match: boolean, value: string): Probe => probe(match, { subject: value });

/** `POST /subscriptions` with `body` gets a `status` problem and creates nothing. */
function refusedCreate(
  name: string,
  spec: string,
  status: number,
  request: (ctx: CaseContext) => { body: unknown; contentType?: string },
  api: AdminApi,
): ConformanceCase {
  return {
    name: `subscriptions-api: ${name}`,
    spec,
    async run(ctx) {
      const { body, contentType } = request(ctx);
      const res = await api(
        ctx,
        "POST",
        COLLECTION,
        body,
        contentType === undefined
          ? {}
          : {
              headers: { "Content-Type": contentType },
              body: typeof body === "string" ? body : JSON.stringify(body),
            },
      );
      expectProblem(res, status);
      await expectNothingCreated(ctx, api);
    },
  };
}

/** A CESQL error's position in a problem's `errors[]`: in the message, or as a member. */
function mentionsPosition(problem: Json): boolean {
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  return errors.some((entry) => {
    if (typeof entry !== "object" || entry === null) return false;
    const e = entry as Json;
    const numeric = ["position", "offset", "column", "line"].some(
      (k) => typeof e[k] === "number" || (typeof e[k] === "object" && e[k] !== null),
    );
    const message = typeof e.message === "string" ? e.message : "";
    return (
      numeric ||
      /\b\d+:\d+\b/.test(message) ||
      /\b(?:position|offset|column|col|char(?:acter)?|index)\s*:?\s*\d+/i.test(message)
    );
  });
}

function crudCases(api: AdminApi): ConformanceCase[] {
  return [
    {
      name: "subscriptions-api: POST -> 201, Location, server-assigned id, protocol and defaults; matching events reach its sink, others do not",
      spec: `${SUBS} §3.2.5.1 (realized object, defaults applied), §3.2.1 (id: ignored on create), §3.3 (POST); ${SURFACE}; DESIGN.md "Config" (delivery.mode: binary | structured | batch, no default named)`,
      async run(ctx) {
        const sink = caseSink(ctx);
        const filters = [{ exact: { subject: "match" } }];
        const proposedId = `${ctx.token}proposed`;
        const res = await api(ctx, "POST", COLLECTION, {
          ...proposal(ctx, sink, filters),
          id: proposedId,
        });
        const created = readObject(res, 201, `POST ${COLLECTION}`);
        const id = created.id;
        check(typeof id === "string" && id !== "", `the created subscription has no id`);
        let passed = false;
        try {
          check(id !== proposedId, `the id in the request was used (3.2.1: it MUST be ignored)`);
          const location = res.headers.get("location");
          check(location !== null, "no Location header on 201");
          const locationPath = new URL(location, "http://gateway.invalid/").pathname;
          check(
            locationPath.endsWith(itemPath(id)),
            `Location ${location} does not point at ${itemPath(id)}`,
          );
          check(created.protocol === "HTTP", `protocol is ${JSON.stringify(created.protocol)}`);
          check(sameUrl(created.sink, sink.url), `sink is ${JSON.stringify(created.sink)}`);
          check(
            created.source === `${SUITE_SOURCE}/${ctx.token}`,
            `source is ${JSON.stringify(created.source)}`,
          );
          check(
            canonical(created.filters) === canonical(filters),
            `filters are ${JSON.stringify(created.filters)}, sent ${JSON.stringify(filters)}`,
          );
          // DESIGN.md lists the modes but names no default, so any mode the object shows is
          // taken, and the delivery must then be in that mode (a batch arrives as structured).
          const mode = (created.delivery as Json | undefined)?.mode;
          check(
            mode === undefined || mode === "binary" || mode === "structured" || mode === "batch",
            `the realized object has delivery.mode ${JSON.stringify(mode)}, not one of DESIGN.md's`,
          );
          const [hit] = await route(ctx, sink, [
            subject(true, "match"),
            subject(false, "other"),
            probe(false, {}),
          ]);
          check(
            mode === undefined || hit?.event.mode === (mode === "binary" ? "binary" : "structured"),
            `delivered in ${hit?.event.mode} mode, but the subscription says ${String(mode)}`,
          );
          passed = true;
        } finally {
          await cleanUp(ctx, api, id, passed);
        }
      },
    },
    {
      name: "subscriptions-api: GET /subscriptions lists a created subscription, GET /subscriptions/{id} returns it",
      spec: `${SUBS} §3.2.5.2 (retrieve), §3.2.5.3 (query), §3.3`,
      run: (ctx) =>
        withSubscription(
          ctx,
          api,
          proposal(ctx, caseSink(ctx), [{ prefix: { subject: "a/" } }]),
          async (created) => {
            const listed = readList(await api(ctx, "GET", COLLECTION)).find(
              (s) => s.id === created.id,
            );
            check(listed !== undefined, `GET ${COLLECTION} does not list ${created.id}`);
            check(canonical(listed) === canonical(created), `listed as ${JSON.stringify(listed)}`);
            const res = await api(ctx, "GET", itemPath(created.id));
            const got = readObject(res, 200, `GET ${itemPath(created.id)}`);
            check(
              canonical(got) === canonical(created),
              `GET returns ${JSON.stringify(got)}, POST returned ${JSON.stringify(created)}`,
            );
          },
        ),
    },
    {
      name: "subscriptions-api: PUT /subscriptions/{id} changes the filter and routing follows",
      spec: `${SUBS} §3.2.5.4 (update), §3.3 (PUT)`,
      run: (ctx) => {
        const sink = caseSink(ctx);
        return withSubscription(
          ctx,
          api,
          proposal(ctx, sink, [{ exact: { subject: "v1" } }]),
          async (created) => {
            await route(ctx, sink, [subject(true, "v1"), subject(false, "v2")]);
            const filters = [{ exact: { subject: "v2" } }];
            const res = await api(ctx, "PUT", itemPath(created.id), {
              ...proposal(ctx, sink, filters),
              id: created.id,
            });
            const updated = readObject(res, 200, `PUT ${itemPath(created.id)}`);
            check(updated.id === created.id, `PUT changed the id to ${String(updated.id)}`);
            check(
              canonical(updated.filters) === canonical(filters),
              `PUT answered filters ${JSON.stringify(updated.filters)}`,
            );
            const got = readObject(
              await api(ctx, "GET", itemPath(created.id)),
              200,
              `GET after PUT`,
            );
            check(
              canonical(got.filters) === canonical(filters),
              `GET after PUT shows filters ${JSON.stringify(got.filters)}`,
            );
            await route(ctx, sink, [subject(true, "v2"), subject(false, "v1")]);
          },
        );
      },
    },
    {
      name: "subscriptions-api: DELETE /subscriptions/{id} -> 200; then GET -> 404 problem and events no longer reach its sink",
      spec: `${SUBS} §3.2.5.5 (delete returns the subscription), §3.2.5.2 (notfound), §3.3; ${SURFACE} (404)`,
      run: (ctx) => {
        const sink = caseSink(ctx);
        return withSubscription(
          ctx,
          api,
          proposal(ctx, sink, [{ exact: { subject: "match" } }]),
          async (created) => {
            await route(ctx, sink, [subject(true, "match")]);
            const res = await api(ctx, "DELETE", itemPath(created.id));
            const deleted = readObject(res, 200, `DELETE ${itemPath(created.id)}`);
            check(deleted.id === created.id, `DELETE returned id ${String(deleted.id)}`);
            expectProblem(await api(ctx, "GET", itemPath(created.id)), 404);
            const listed = readList(await api(ctx, "GET", COLLECTION));
            check(
              !listed.some((s) => s.id === created.id),
              `GET ${COLLECTION} still lists ${created.id}`,
            );
            await route(ctx, sink, [subject(false, "match")]);
          },
        );
      },
    },
  ];
}

function badInputCases(api: AdminApi): ConformanceCase[] {
  const invalid = `${SUBS} §3.2.5.1 (invalid); ${SURFACE} (400 problem)`;
  return [
    refusedCreate(
      "POST without a sink -> 400 problem, nothing created",
      `${invalid}; §3.2.1 (sink: REQUIRED)`,
      400,
      (ctx) => {
        const { sink: _, ...body } = proposal(ctx, caseSink(ctx), []);
        return { body };
      },
      api,
    ),
    refusedCreate(
      "POST with an unknown filter dialect -> 400 problem, nothing created",
      `${invalid}; §3.2.4 (an unsupported dialect MUST be rejected)`,
      400,
      (ctx) => ({ body: proposal(ctx, caseSink(ctx), [{ regex: { subject: "^a" } }]) }),
      api,
    ),
    refusedCreate(
      "POST with an empty attribute name in exact -> 400 problem, nothing created",
      `${invalid}; §3.2.4.1.1 (names MUST NOT be empty)`,
      400,
      (ctx) => ({ body: proposal(ctx, caseSink(ctx), [{ exact: { "": "x" } }]) }),
      api,
    ),
    refusedCreate(
      "POST with an empty value in prefix -> 400 problem, nothing created",
      `${invalid}; §3.2.4.1.1 (values MUST NOT be empty)`,
      400,
      (ctx) => ({ body: proposal(ctx, caseSink(ctx), [{ prefix: { subject: "" } }]) }),
      api,
    ),
    refusedCreate(
      "POST with an all that holds no filter expression -> 400 problem, nothing created",
      `${invalid}; §3.2.4.1.1 (all: there MUST be at least one filter expression)`,
      400,
      (ctx) => ({ body: proposal(ctx, caseSink(ctx), [{ all: [] }]) }),
      api,
    ),
    refusedCreate(
      "POST with an any that holds no filter expression -> 400 problem, nothing created",
      `${invalid}; §3.2.4.1.1 (any: there MUST be at least one filter expression)`,
      400,
      (ctx) => ({ body: proposal(ctx, caseSink(ctx), [{ any: [] }]) }),
      api,
    ),
    {
      name: "subscriptions-api: PUT with an unknown filter dialect -> 400 problem, the subscription unchanged",
      spec: `${invalid}; §3.2.1 filters and §3.2.4 (an unsupported dialect MUST be rejected on update too)`,
      run: (ctx) => {
        const sink = caseSink(ctx);
        return withSubscription(
          ctx,
          api,
          proposal(ctx, sink, [{ exact: { subject: "kept" } }]),
          async (created) => {
            const path = itemPath(created.id);
            const res = await api(ctx, "PUT", path, {
              ...proposal(ctx, sink, [{ regex: { subject: "^k" } }]),
              id: created.id,
            });
            expectProblem(res, 400);
            const after = readObject(await api(ctx, "GET", path), 200, `GET ${path} afterwards`);
            check(
              canonical(after) === canonical(created),
              `the refused PUT changed the subscription: ${JSON.stringify(after)}`,
            );
            await route(ctx, sink, [subject(true, "kept"), subject(false, "other")]);
          },
        );
      },
    },
    refusedCreate(
      "POST with malformed JSON -> 400 problem, nothing created",
      invalid,
      400,
      (ctx) => ({ body: JSON.stringify(proposal(ctx, caseSink(ctx), [])).slice(0, -1) }),
      api,
    ),
    refusedCreate(
      "POST with a non-JSON content type -> 415 problem, nothing created",
      `${SUBS} §3.3 (Content-Type: application/json); ${SURFACE} (415)`,
      415,
      (ctx) => ({ body: proposal(ctx, caseSink(ctx), []), contentType: "text/plain" }),
      api,
    ),
    {
      name: "subscriptions-api: GET and DELETE on an unknown id -> 404 problem, nothing created",
      spec: `${SUBS} §3.2.5.2, §3.2.5.5 (notfound); ${SURFACE} (404)`,
      async run(ctx) {
        const path = itemPath(`${ctx.token}missing`);
        expectProblem(await api(ctx, "GET", path), 404);
        expectProblem(await api(ctx, "DELETE", path), 404);
        await expectNothingCreated(ctx, api);
      },
    },
    {
      // The spec lets a binding make PUT an upsert (3.2.5.4); Herald's contract does not.
      name: "herald: subscriptions-api: PUT on an unknown id -> 404 problem, nothing created",
      spec: `Herald's contract (the root README's Subscriptions API table: no upsert), beyond ${SUBS} §3.2.5.4 (which allows one) and DESIGN.md`,
      async run(ctx) {
        const path = itemPath(`${ctx.token}missing`);
        const body = { ...proposal(ctx, caseSink(ctx), []), id: `${ctx.token}missing` };
        expectProblem(await api(ctx, "PUT", path, body), 404);
        await expectNothingCreated(ctx, api);
      },
    },
    {
      name: "subscriptions-api: the target's config subscriptions are listed and readable",
      spec: `${SUBS} §3.2.5.2 (retrieve), §3.2.5.3 (query); DESIGN.md "Config" (subscriptions:), ${SURFACE}`,
      async run(ctx) {
        const listed = new Set(readList(await api(ctx, "GET", COLLECTION)).map((s) => s.id));
        // Those of every target config; the on-success ones are Herald's (`config --no-herald`).
        const missing = conformanceSubscriptions(ctx.sink.url, { herald: false })
          .map((s) => s.id)
          .filter((id) => !listed.has(id));
        check(missing.length === 0, `GET ${COLLECTION} does not list ${missing.join(", ")}`);
        const path = itemPath("conformance-headers");
        const read = readObject(await api(ctx, "GET", path), 200, `GET ${path}`);
        check(
          sameUrl(read.sink, `${ctx.sink.url}${SINK_PATHS.headers}`),
          `${path} has sink ${JSON.stringify(read.sink)}`,
        );
      },
    },
    {
      // Neither the spec nor DESIGN.md makes config subscriptions read-only: Herald's choice.
      name: "herald: subscriptions-api: PUT and DELETE on a config subscription -> 409, unchanged",
      spec: `Herald's contract (the root README's Subscriptions API: config subscriptions change in the file), beyond ${SUBS} and DESIGN.md`,
      async run(ctx) {
        const path = itemPath("conformance-headers");
        const before = readObject(await api(ctx, "GET", path), 200, `GET ${path}`);
        check(
          sameUrl(before.sink, `${ctx.sink.url}${SINK_PATHS.headers}`),
          `${path} has sink ${JSON.stringify(before.sink)}`,
        );
        // The resource as read: were it accepted, nothing would change.
        expectProblem(await api(ctx, "PUT", path, before), 409);
        expectProblem(await api(ctx, "DELETE", path), 409);
        const after = readObject(await api(ctx, "GET", path), 200, `GET ${path} afterwards`);
        check(canonical(after) === canonical(before), `${path} changed: ${JSON.stringify(after)}`);
      },
    },
  ];
}

/** A filter on an attribute the event lacks, through the API (3.2.4.1.1). */
function missingAttributeCases(api: AdminApi): ConformanceCase[] {
  return [
    {
      name: "subscriptions-api: exact on an attribute the event lacks is false, its not is true",
      spec: `${SUBS} §3.2.4.1.1 (exact: the event's attribute MUST match; not: the inverse), §3.2.4 (filters ANDed)`,
      run: (ctx) => {
        const lacking = caseSink(ctx, 0);
        const negated = caseSink(ctx, 1);
        return withSubscription(
          ctx,
          api,
          proposal(ctx, lacking, [{ exact: { conformanceflag: "on" } }]),
          () =>
            withSubscription(
              ctx,
              api,
              proposal(ctx, negated, [
                { prefix: { subject: "lack/" } },
                { not: { exact: { conformanceflag: "on" } } },
              ]),
              async () => {
                await route(ctx, lacking, [
                  probe(true, { subject: "lack/a", conformanceflag: "on" }),
                  probe(false, { subject: "lack/a" }),
                  probe(false, { subject: "lack/a", conformanceflag: "On" }),
                ]);
                await route(ctx, negated, [
                  probe(true, { subject: "lack/b" }),
                  probe(true, { subject: "lack/b", conformanceflag: "off" }),
                  probe(false, { subject: "lack/b", conformanceflag: "on" }),
                  probe(false, { conformanceflag: "off" }),
                ]);
              },
            ),
        );
      },
    },
  ];
}

const CESQL_SPEC = `${SUBS} §3.2.4.1.2 (sql); CESQL 1.0; DESIGN.md "Config" (sql dialect)`;
/** A CESQL filter that does not parse (two ANDs in a row). */
const INVALID_SQL = { sql: "subject LIKE 'cesql/%' AND AND conformanceflag" };

/**
 * Creates a subscription with the one `sql` filter `expression`, routes `probes` through it and
 * deletes it. A 400 says the target does not support the dialect (a case failure naming it).
 */
async function routeThroughSql(
  ctx: CaseContext,
  api: AdminApi,
  expression: string,
  probes: readonly Probe[],
): Promise<void> {
  const sink = caseSink(ctx);
  const res = await api(ctx, "POST", COLLECTION, proposal(ctx, sink, [{ sql: expression }]));
  if (res.status === 400) {
    throw new CaseFailure(
      `the target refused a valid sql (CESQL) filter, so it does not support the dialect: ${describe(res)}`,
    );
  }
  const created = readObject(res, 201, `POST ${COLLECTION}`);
  check(typeof created.id === "string" && created.id !== "", "the created subscription has no id");
  let passed = false;
  try {
    await route(ctx, sink, probes);
    passed = true;
  } finally {
    await cleanUp(ctx, api, created.id, passed);
  }
}

function cesqlCases(api: AdminApi): ConformanceCase[] {
  return [
    {
      name: "subscriptions-api: a sql (CESQL) filter routes",
      spec: CESQL_SPEC,
      async run(ctx) {
        await routeThroughSql(ctx, api, "subject LIKE 'cesql/%' AND EXISTS conformanceflag", [
          probe(true, { subject: "cesql/a", conformanceflag: "on" }),
          probe(false, { subject: "cesql/a" }),
          probe(false, { subject: "other/cesql/a", conformanceflag: "on" }),
          probe(false, { conformanceflag: "on" }),
        ]);
      },
    },
    {
      name: "subscriptions-api: a sql (CESQL) filter whose evaluation errors is false",
      spec: `${CESQL_SPEC}; §3.2.4.1.2 (MUST be false if an error occurred); CESQL 1.0 §3.2 (cast and missing-attribute errors)`,
      async run(ctx) {
        // INT('abc') is a cast error (its value 0, so `<= 10` is true) and a missing
        // conformanceflag a missing-attribute error (`= 'on'` is false, so its NOT is true):
        // either way the expression has a value of true, which must not count (CESQL 3.2, 3.3).
        await routeThroughSql(ctx, api, "INT(subject) <= 10 AND NOT (conformanceflag = 'on')", [
          probe(true, { subject: "5", conformanceflag: "off" }),
          probe(false, { subject: "abc", conformanceflag: "off" }),
          probe(false, { subject: "5" }),
          probe(false, { subject: "42", conformanceflag: "off" }),
          probe(false, { subject: "5", conformanceflag: "on" }),
        ]);
      },
    },
    {
      name: "subscriptions-api: an invalid sql (CESQL) expression -> 400 problem, nothing created",
      spec: `${CESQL_SPEC}; §3.2.4.1.2 (SHOULD reject invalid expressions)`,
      async run(ctx) {
        const res = await api(ctx, "POST", COLLECTION, proposal(ctx, caseSink(ctx), [INVALID_SQL]));
        expectProblem(res, 400);
        await expectNothingCreated(ctx, api);
      },
    },
    {
      // The spec asks for a rejection only; saying where the expression breaks is Herald's choice.
      name: "herald: subscriptions-api: an invalid sql (CESQL) expression's errors name its position",
      spec: `Herald's contract (the root README's CESQL section: errors give the position), beyond ${SUBS} §3.2.4.1.2`,
      async run(ctx) {
        const res = await api(ctx, "POST", COLLECTION, proposal(ctx, caseSink(ctx), [INVALID_SQL]));
        const problem = expectProblem(res, 400);
        await expectNothingCreated(ctx, api);
        check(
          mentionsPosition(problem),
          `no errors[].message names where the expression breaks: ${JSON.stringify(problem.errors ?? problem.detail)}` +
            (/not supported/i.test(JSON.stringify(problem))
              ? " (the target does not support CESQL)"
              : ""),
        );
      },
    },
  ];
}

function authCases(api: AdminApi, auth: ConformanceAuth | undefined): ConformanceCase[] {
  if (auth === undefined) return [];
  const cases: ConformanceCase[] = [
    {
      name: "subscriptions-api: no token -> 401 with a Bearer challenge, nothing created",
      spec: `${SURFACE} (admin token; 401 with WWW-Authenticate: Bearer), RFC 6750 §3`,
      async run(ctx) {
        for (const [method, body] of [
          ["GET", undefined],
          ["POST", proposal(ctx, caseSink(ctx), [])],
        ] as const) {
          const res = await api(ctx, method, COLLECTION, body, { bearer: null });
          expectProblem(res, 401);
          const challenge = res.headers.get("www-authenticate");
          check(
            hasBearerChallenge(challenge),
            `${method} ${COLLECTION}: WWW-Authenticate has no Bearer challenge: ${challenge}`,
          );
        }
        await expectNothingCreated(ctx, api);
      },
    },
  ];
  if (auth.adminToken !== undefined && auth.adminToken !== auth.token) {
    cases.push({
      name: "subscriptions-api: a publisher's token without an admin rule -> 403, nothing created",
      spec: `${SURFACE} (admin token; 403 not allowed), DESIGN.md "Config" (auth.admins)`,
      async run(ctx) {
        expectProblem(await api(ctx, "GET", COLLECTION, undefined, { bearer: auth.token }), 403);
        const body = proposal(ctx, caseSink(ctx), []);
        expectProblem(await api(ctx, "POST", COLLECTION, body, { bearer: auth.token }), 403);
        await expectNothingCreated(ctx, api);
      },
    });
  }
  return cases;
}

/**
 * The Subscriptions API (cloudevents/spec subscriptions 3.2.5, DESIGN.md `GET|POST /subscriptions`,
 * `GET|PUT|DELETE /subscriptions/{id}`): create, list, retrieve, update and delete, each proved by
 * routing to a sink path of the case's own; refused input; config subscriptions read-only; the
 * `sql` dialect; with `auth`, the admin token. Every subscription a case creates is deleted
 * before it ends, and every proposal carries the case token, so runs never see each other's.
 *
 * @example
 * subscriptionApiCases({ token, adminToken }).map((c) => c.name);
 */
export function subscriptionApiCases(auth?: ConformanceAuth): readonly ConformanceCase[] {
  const api = adminApi(auth);
  return [
    ...crudCases(api),
    ...badInputCases(api),
    ...missingAttributeCases(api),
    ...cesqlCases(api),
    ...authCases(api, auth),
  ];
}
