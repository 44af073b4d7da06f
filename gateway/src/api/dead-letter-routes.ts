import type { Context, Hono } from "hono";
import { adminSubject } from "../auth/admin-subject.js";
import { type DeadJob, type DeliveryQueue, deadPageFull } from "../deliver/delivery-queue.js";
import { MalformedRequest, MethodNotAllowed, NotFound } from "../errors/errors.js";
import { serializeEvent } from "../event/json-format.js";
import { queryParameter } from "../http/query-parameter.js";
import { readBody } from "../ingest/read-body.js";
import { type Logger, silentLogger } from "../ports/logger.js";
import type { SubscriptionRegistry } from "../subscriptions/subscription-registry.js";
import { answerAllow } from "./answer-allow.js";
import { MAX_ADMIN_BODY_BYTES, readJsonBody } from "./read-json-body.js";

/** Dead jobs per page when `limit` is not given, and the most a page may hold. */
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1_000;
/**
 * A page stops before the item that would take its JSON past this many characters (it always
 * holds one), and the store stops reading once its jobs hold about as much (`DeadPage.maxSize`):
 * 1,000 events of 256 KiB whose text data JSON writes as `\u0001` escapes made a
 * 1.5 GB page, past the longest string V8 can make (2^29 characters), and every such page was a
 * 500; far below that, one request held hundreds of megabytes.
 */
export const MAX_PAGE_CHARS = 32 * 1024 * 1024;

export interface DeadLetterRoutesOptions {
  readonly registry: SubscriptionRegistry;
  readonly queue: DeliveryQueue;
  /**
   * Where each redrive and discard is noted: one info line with the subscription, how many, and
   * the admin token's `sub` when known.
   */
  readonly logger?: Logger;
}

/**
 * The dead set of a subscription, for people (admin only, like every `/subscriptions` route):
 * - `GET /subscriptions/{id}/dead?limit=N&after=JOB`: deliveries whose attempts ran out and that
 *   no dead-letter sink took, oldest first: `{ items: [{ jobId, attempts, failure: { status,
 *   error, at }, event }], next? }` where `event` is the JSON event format and `next` the `after`
 *   of the next page; a page holds at most `limit` items and about `MAX_PAGE_CHARS` of JSON; a
 *   `limit` or `after` given twice is a 400, as is an invalid one;
 * - `GET /subscriptions/{id}/dead/{jobId}`: that dead job, as an item of the page shows it; 404
 *   when it is not dead in this subscription (unknown, redriven, deleted, not a job id at all);
 * - `POST /subscriptions/{id}/redrive`: makes them due again with fresh attempts (all, or the
 *   `jobIds` of an optional JSON body `{ "jobIds": [...] }`); answers `{ redriven: N }`;
 * - `DELETE /subscriptions/{id}/dead`: removes every dead job for good; answers `{ deleted: N }`
 *   (0 when there were none); the one way to remove them for a subscription of the config file;
 * - `DELETE /subscriptions/{id}/dead/{jobId}`: removes that dead job, `{ deleted: 1 }`; 404 when
 *   it is not dead in this subscription (unknown, redriven, deleted already).
 * Only dead jobs go, never queued or in-flight ones; a job redriven and deleted at the same
 * moment ends one way, counted in one answer (`DeliveryQueue.discardDead`).
 * An unknown subscription is 404; `HEAD` is answered like `GET` without a body; `OPTIONS` answers
 * 200 with `Allow`; other methods 405.
 *
 * @example
 * mountDeadLetters(app, { registry, queue });
 */
export function mountDeadLetters(app: Hono, options: DeadLetterRoutesOptions): void {
  const { registry, queue, logger = silentLogger } = options;
  const known = (id: string) => {
    if (registry.find(id) === undefined) throw new NotFound(`no subscription with id "${id}"`);
  };
  /**
   * The end of a path's routes: `OPTIONS` (of a known subscription) answers `allow`, and every
   * method not routed above it is 405 naming them.
   */
  const allowOnly = (path: `/subscriptions/:id/${string}`, allow: readonly string[]) => {
    app.options(path, (c) => {
      known(c.req.param("id"));
      return answerAllow(c, allow);
    });
    app.all(path, (c) => {
      throw new MethodNotAllowed(c.req.method, allow);
    });
  };

  app.get("/subscriptions/:id/dead", async (c) => {
    const id = c.req.param("id");
    known(id);
    const url = new URL(c.req.url);
    const limit = pageSize(queryParameter(url, "limit"));
    const after = jobIdAfter(queryParameter(url, "after"));
    // One more than asked says whether there is a next page.
    // The store stops reading where the size ends the page (plus one job, to tell whether more
    // follow), not after `limit` jobs of any size: the page is cut there below as well.
    const maxChars = Math.min(MAX_PAGE_CHARS, queue.maxDeadPageChars ?? MAX_PAGE_CHARS);
    const page = await queue.dead(id, {
      limit: limit + 1,
      maxSize: maxChars,
      ...(after ? { after } : {}),
    });
    const full = deadPageFull({ limit, maxSize: maxChars });
    const items: string[] = [];
    let chars = 0;
    for (const job of page.slice(0, limit)) {
      if (full(job) && items.length > 0) break;
      const item = deadItem(job);
      if (items.length > 0 && chars + item.length > maxChars) break;
      items.push(item);
      chars += item.length + 1;
    }
    // More follow when the store had more than the page shows (past `limit`, or past the size).
    const last = page[items.length - 1];
    const next =
      page.length > items.length && last !== undefined ? `,"next":${JSON.stringify(last.id)}` : "";
    return c.body(`{"items":[${items.join(",")}]${next}}`, 200, {
      "content-type": "application/json",
    });
  });
  const discard = async (c: Context, id: string, jobIds?: readonly string[]) => {
    const deleted = await queue.discardDead(id, jobIds);
    logger.info("deleted dead deliveries", { subscriptionId: id, deleted, ...adminSubject(c) });
    return deleted;
  };
  app.delete("/subscriptions/:id/dead", async (c) => {
    const id = c.req.param("id");
    known(id);
    return c.json({ deleted: await discard(c, id) });
  });
  allowOnly("/subscriptions/:id/dead", DEAD_ALLOW);

  app.get("/subscriptions/:id/dead/:jobId", async (c) => {
    const id = c.req.param("id");
    const jobId = c.req.param("jobId");
    known(id);
    // Text no store takes for a job id names no job: 404 as for an unknown one, without asking.
    const job = JOB_ID.test(jobId) ? await queue.findDead(id, jobId) : undefined;
    if (job === undefined) throw noDeadJob(id, jobId);
    return c.body(deadItem(job), 200, { "content-type": "application/json" });
  });
  app.delete("/subscriptions/:id/dead/:jobId", async (c) => {
    const id = c.req.param("id");
    const jobId = c.req.param("jobId");
    known(id);
    // As for GET: text no store takes for a job id is not asked about (nor logged as deleted).
    const deleted = JOB_ID.test(jobId) ? await discard(c, id, [jobId]) : 0;
    if (deleted === 0) throw noDeadJob(id, jobId);
    return c.json({ deleted });
  });
  allowOnly("/subscriptions/:id/dead/:jobId", DEAD_JOB_ALLOW);

  app.post("/subscriptions/:id/redrive", async (c) => {
    const id = c.req.param("id");
    known(id);
    const body = await redriveBody(c.req.raw);
    const jobIds = body === undefined ? undefined : parseJobIds(body);
    const redriven = await queue.redrive(id, jobIds);
    logger.info("redrove dead deliveries", {
      subscriptionId: id,
      redriven,
      ...(jobIds === undefined ? {} : { requested: jobIds.length }),
      ...adminSubject(c),
    });
    return c.json({ redriven });
  });
  allowOnly("/subscriptions/:id/redrive", REDRIVE_ALLOW);
}

const DEAD_ALLOW = ["GET", "HEAD", "DELETE", "OPTIONS"] as const;
const DEAD_JOB_ALLOW = ["GET", "HEAD", "DELETE", "OPTIONS"] as const;
const REDRIVE_ALLOW = ["POST", "OPTIONS"] as const;

/**
 * One item of the dead set as JSON text. The event is spliced in as `serializeEvent` writes it
 * (the JSON event format as a structured delivery carries it): JSON data keeps the text it was
 * received in, so a number past 2^53 keeps its digits, and a binary-mode JSON body is never
 * parsed into a value that `JSON.stringify` would have to walk (100,000 levels of nesting made
 * the whole page a 500).
 */
function deadItem(job: DeadJob): string {
  const item = JSON.stringify({
    jobId: job.id,
    attempts: job.attempts,
    failure: {
      status: job.failure.status,
      error: job.failure.error,
      at: new Date(job.failure.at).toISOString(),
    },
  });
  return `${item.slice(0, -1)},"event":${serializeEvent(job.event)}}`;
}

function pageSize(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_PAGE;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_PAGE) {
    throw new MalformedRequest(`limit must be an integer from 1 to ${MAX_PAGE}`);
  }
  return n;
}

/** What a job id of any store looks like (digits, or a UUID on Workers), as `after` takes it. */
const JOB_ID = /^[\w-]{1,64}$/;

/** The 404 for a job that is not dead in the subscription; the id is named when it is one. */
function noDeadJob(id: string, jobId: string): NotFound {
  const named = JOB_ID.test(jobId) ? `jobId "${jobId}"` : "that jobId (it is no job id)";
  return new NotFound(`no dead delivery with ${named} in subscription "${id}"`);
}

/** `after`: a job id as the pages give them (`next`, `jobId`: digits, or a UUID on Workers). */
function jobIdAfter(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "") return undefined;
  if (!JOB_ID.test(raw)) {
    throw new MalformedRequest("after must be a jobId (the next of the previous page)");
  }
  return raw;
}

/** What the body of a redrive holds: `undefined` when there is none (redrive them all). */
async function redriveBody(request: Request): Promise<unknown> {
  // RFC 9112 6.3: a request has a body when it says so with Content-Length (not 0) or
  // Transfer-Encoding (a chunked `{ "jobIds": [...] }` must not be taken for "redrive all").
  const length = request.headers.get("content-length");
  if (request.headers.has("transfer-encoding") || (length !== null && length !== "0")) {
    return readJsonBody(request);
  }
  if (length !== null || request.body === null) return undefined;
  // Neither header, yet a body: a `Request` made in code (`gateway.fetch`), or a runtime that
  // does not pass the framing headers on. Its bytes tell: none is "redrive all", and a
  // `{ "jobIds": [...] }` was taken for it before, redriving every dead job.
  const bytes = await readBody(request, MAX_ADMIN_BODY_BYTES);
  if (bytes.length === 0) return undefined;
  const read = new Request(request.url, {
    method: "POST",
    headers: request.headers,
    body: bytes.slice(),
  });
  return readJsonBody(read);
}

function parseJobIds(raw: unknown): readonly string[] | undefined {
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    const { jobIds, ...rest } = raw as Record<string, unknown>;
    const unknown = Object.keys(rest);
    if (unknown.length === 0) {
      if (jobIds === undefined) return undefined;
      if (Array.isArray(jobIds) && jobIds.every((j) => typeof j === "string")) return jobIds;
    }
  }
  throw new MalformedRequest('the body is optional; when sent it is { "jobIds": ["..."] }');
}
