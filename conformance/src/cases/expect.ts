import { SINK_PATHS } from "../config/subscriptions.js";
import { attributeDifferences, dataDifference, type ExpectedData } from "../events/compare.js";
import { mediaTypeEssence, PROBLEM_JSON } from "../http/media-type.js";
import type { Received } from "../sink/sink-server.js";
import type { GatewayRequest, GatewayResponse } from "../target.js";
import { type CaseContext, CaseFailure, check } from "./case.js";

/** Short description of a response for failure messages. */
export function describe(res: GatewayResponse): string {
  const text = new TextDecoder().decode(res.body.subarray(0, 300));
  return `${res.status} ${res.headers.get("content-type") ?? "(no content-type)"} ${text}`.trim();
}

/**
 * Fails unless the status is `status`; a 5xx is called out as such (a gateway must never answer
 * bad input with a server error).
 */
export function expectStatus(res: GatewayResponse, status: number): void {
  check(res.status < 500, `server error on client input (must never happen): ${describe(res)}`);
  check(res.status === status, `expected ${status}, got ${describe(res)}`);
}

/**
 * The answers HTTP webhook 1.0.2 §2.2 allows a target that accepted a delivery: 200 or 201 (with
 * a payload), 201 or 204 (without one), 202 (not yet processed). DESIGN.md fixes 202 for
 * `POST /events`, and one case checks exactly that ("http: an accepted event gets 202"); the
 * others take any of these, so a gateway that answers 200 or 204 fails that case alone.
 */
export const ACCEPTED_STATUSES: readonly number[] = [200, 201, 202, 204];

/** True when `status` is one of {@link ACCEPTED_STATUSES}. */
export function isAccepted(status: number): boolean {
  return ACCEPTED_STATUSES.includes(status);
}

/**
 * Fails unless the target accepted the request: a 2xx that HTTP webhook 1.0.2 §2.2 allows for an
 * accepted delivery ({@link ACCEPTED_STATUSES}).
 */
export function expectAccepted(res: GatewayResponse): void {
  check(res.status < 500, `server error on client input (must never happen): ${describe(res)}`);
  check(
    isAccepted(res.status),
    `expected the event to be accepted (202, or 200, 201 or 204: HTTP webhook 1.0.2 §2.2), got ${describe(res)}`,
  );
}

/** Expectations on a problem document beyond its status. */
export interface ProblemExpectations {
  /** Each of these must be listed as offending. */
  readonly attributes?: readonly string[];
  /** At least one of these must be listed as offending. */
  readonly anyOf?: readonly string[];
  /** The batch index the problem must name. */
  readonly index?: number;
}

/**
 * Fails unless `res` is an RFC 9457 problem (`application/problem+json`) with `type`, `title`,
 * `status` (equal to the HTTP status), `detail` and `code`, as DESIGN.md's error model requires.
 * Returns the parsed document.
 */
export function expectProblem(
  res: GatewayResponse,
  status: number,
  expectations: ProblemExpectations = {},
): Record<string, unknown> {
  expectStatus(res, status);
  const essence = mediaTypeEssence(res.headers.get("content-type"));
  check(essence === PROBLEM_JSON, `expected ${PROBLEM_JSON}, got ${describe(res)}`);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(res.body));
  } catch {
    throw new CaseFailure(`problem body is not JSON: ${describe(res)}`);
  }
  check(typeof doc === "object" && doc !== null && !Array.isArray(doc), "problem is not an object");
  const problem = doc as Record<string, unknown>;
  for (const member of ["type", "title", "detail", "code"]) {
    check(
      typeof problem[member] === "string" && problem[member] !== "",
      `problem lacks "${member}"`,
    );
  }
  check(problem.status === status, `problem status ${String(problem.status)} != HTTP ${status}`);
  const listed = offendingAttributes(problem);
  const names = listed.map((a) => a.toLowerCase().replace(/^ce-/, ""));
  const has = (name: string) => names.includes(name.toLowerCase().replace(/^ce-/, ""));
  for (const name of expectations.attributes ?? []) {
    check(
      has(name),
      `problem does not list "${name}" as offending (lists: ${listed.join(", ") || "none"})`,
    );
  }
  if (expectations.anyOf) {
    check(
      expectations.anyOf.some(has),
      `problem lists none of ${expectations.anyOf.join(", ")} (lists: ${listed.join(", ") || "none"})`,
    );
  }
  if (expectations.index !== undefined) {
    check(
      problemIndexes(problem).includes(expectations.index),
      `problem does not name batch index ${expectations.index}: ${JSON.stringify(problem)}`,
    );
  }
  return problem;
}

/**
 * The offending attribute names a problem lists. DESIGN.md requires the list without fixing a
 * member name, so the common shapes are read: `attributes: string[]`, `errors[].attribute` and
 * RFC 9457's `invalid-params[].name`.
 *
 * @example
 * offendingAttributes({ attributes: ["time"] }) // => ["time"]
 */
export function offendingAttributes(problem: Readonly<Record<string, unknown>>): string[] {
  const out: string[] = [];
  if (Array.isArray(problem.attributes)) {
    out.push(...problem.attributes.filter((a): a is string => typeof a === "string"));
  }
  for (const [list, key] of [
    [problem.errors, "attribute"],
    [problem["invalid-params"], "name"],
  ] as const) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const name = (entry as Record<string, unknown> | null)?.[key];
      if (typeof name === "string") out.push(name);
    }
  }
  return out;
}

function problemIndexes(problem: Readonly<Record<string, unknown>>): number[] {
  const out: number[] = [];
  if (typeof problem.index === "number") out.push(problem.index);
  for (const list of [problem.errors, problem["invalid-params"]]) {
    if (!Array.isArray(list)) continue;
    for (const entry of list) {
      const index = (entry as Record<string, unknown> | null)?.index;
      if (typeof index === "number") out.push(index);
    }
  }
  return out;
}

/**
 * Proves nothing carrying this case's token was delivered: sends a sentinel after the bad input,
 * waits until both catch-all sinks have it, then checks no sink saw the token. A gateway that
 * keeps order per sink cannot deliver the bad event later; no fixed sleep is involved.
 */
export async function expectNeverDelivered(ctx: CaseContext): Promise<void> {
  await ctx.sentinel();
  const leaked = ctx.sink.received.filter((r) =>
    Object.values(r.event.attributes).some((v) => typeof v === "string" && v.includes(ctx.token)),
  );
  const undecodable = ctx.sink.undecodable.filter(({ delivery }) =>
    new TextDecoder().decode(delivery.body).includes(ctx.token),
  );
  check(
    leaked.length === 0 && undecodable.length === 0,
    `rejected input was delivered anyway: ${[
      ...leaked.map((r) => `${r.path} id=${String(r.event.attributes.id)}`),
      ...undecodable.map(({ delivery }) => delivery.path),
    ].join(", ")}`,
  );
}

/** Sends `request`, expects the problem, and proves nothing was delivered. */
export async function expectRejected(
  ctx: CaseContext,
  request: GatewayRequest,
  status: number,
  expectations: ProblemExpectations = {},
): Promise<Record<string, unknown>> {
  const problem = expectProblem(await ctx.send(request), status, expectations);
  await expectNeverDelivered(ctx);
  return problem;
}

/** Waits for the event with `id` at a sink path. */
export function waitForId(ctx: CaseContext, path: string, id: string): Promise<Received> {
  return ctx.sink.waitFor(
    (r) => r.path === path && r.event.attributes.id === id,
    ctx.timeoutMs,
    `event ${id} at ${path}`,
  );
}

/** An event the suite expects a sink to receive, in the form it was sent. */
export interface ExpectedEvent {
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly data: ExpectedData;
}

/**
 * Waits until both catch-all sinks (binary and structured delivery) received the event and checks
 * each is equivalent to what was sent. Returns the two receptions.
 */
export async function expectDelivered(
  ctx: CaseContext,
  expected: ExpectedEvent,
): Promise<{ binary: Received; structured: Received }> {
  const id = String(expected.attributes.id);
  const [binary, structured] = await Promise.all([
    waitForId(ctx, SINK_PATHS.binary, id),
    waitForId(ctx, SINK_PATHS.structured, id),
  ]);
  for (const received of [binary, structured]) {
    check(
      received.event.mode === (received === binary ? "binary" : "structured"),
      `${received.path} got a ${received.event.mode}-mode delivery`,
    );
    expectEquivalent(received, expected);
  }
  return { binary, structured };
}

/** Checks a received event is equivalent to `expected`, attribute by attribute and its data. */
export function expectEquivalent(received: Received, expected: ExpectedEvent): void {
  const diffs = attributeDifferences(expected.attributes, received.event);
  const dct = expected.attributes.datacontenttype;
  const dataDiff = dataDifference(
    expected.data,
    received.event,
    typeof dct === "string" ? dct : undefined,
  );
  if (dataDiff !== undefined) diffs.push(`data: ${dataDiff}`);
  check(diffs.length === 0, `${received.path} delivery differs: ${diffs.join("; ")}`);
}

/** Sends `request`, expects it accepted ({@link expectAccepted}), then {@link expectDelivered}. */
export async function expectAcceptedAndDelivered(
  ctx: CaseContext,
  request: GatewayRequest,
  expected: ExpectedEvent,
): Promise<{ binary: Received; structured: Received }> {
  expectAccepted(await ctx.send(request));
  return expectDelivered(ctx, expected);
}
