import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Http2ServerResponse } from "node:http2";
import { getRequestListener, RequestError } from "@hono/node-server";
import { STORE_BACKUP_PATH } from "../../api/store-backup-routes.js";
import type { Gateway } from "../../app/create-gateway.js";
import { successHeaders } from "../../auth/bearer-token.js";
import { MalformedRequest } from "../../errors/errors.js";
import type { HeraldError } from "../../errors/herald-error.js";
import { INGEST_PATHS } from "../../ingest/ingest-routes.js";
import { bodyMayBeArriving, closeAfterAnswer, closeIfBodyUnread } from "./closing-connection.js";
import { continueOnRead } from "./expect-continue.js";
import { incomingSource } from "./incoming-source.js";
import { BACKUP_STALL_MS } from "./sqlite-backup.js";

const INGEST = new Set<string>(INGEST_PATHS);

/**
 * The Node request listener: `POST /events` (and `POST /`) go straight from `IncomingMessage` to
 * the gateway's shared ingest handler, skipping the Web `Request`/`Response` conversion, which
 * costs more than the rest of ingest together on Node 20. Every other request, and any ingest
 * request in a form the fast path does not recognise, goes through the Hono app, so behaviour is
 * the same either way (the conformance suite runs against both).
 *
 * A request Hono's Node adapter cannot turn into a URL (an invalid `Host`, a backslash in the
 * path, a `*` target other than `OPTIONS *`, which is 204 with the server's methods in `Allow`)
 * is 400 `malformed_request` as a problem document, like every refusal,
 * where the adapter would send a bare 400. HTTP/1.0 requires no `Host` (RFC 9112 3.2), so such
 * a request is served as if it named `localhost` (an old health probe, a handshake).
 *
 * `GET /store/backup` streams a whole store: once its answer has begun, a connection that takes
 * no bytes for `backupStallMs` to twice that (a client that stopped reading) is closed, which
 * cancels the download and frees the backup slot. The copy's own stall timer alone freed the
 * slot but left the socket waiting for a `drain` that never came, open for as long as the client
 * kept it. The default (a third of the copy's `BACKUP_STALL_MS`) closes it before that timer
 * errors the body. A body that errors (that timer, a read of the copy that fails) is logged as
 * one JSON line and cuts the connection (`cutOnError`): `@hono/node-server` would print it with
 * its stack on stderr.
 *
 * @example
 * const server = http.createServer(nodeListener(gateway));
 */
export function nodeListener(
  gateway: Gateway,
  options: { readonly backupStallMs?: number } = {},
): RequestListener {
  const { backupStallMs = BACKUP_STALL_MS / 3 } = options;
  const honoOptions = {
    hostname: "localhost",
    errorHandler(err: unknown) {
      const refusal =
        err instanceof RequestError
          ? new MalformedRequest(`the request target or Host header is not valid: ${err.message}`)
          : err;
      // The target could not be read, so the refusal is logged without a path.
      const { status, headers, body } = gateway.problem(refusal, "-", "-");
      return new Response(body, { status, headers });
    },
  };
  // The env ({ incoming, outgoing }) reaches the routes: ingest reads the raw header lines there.
  const viaHono = getRequestListener(
    (request, env) => gateway.app.fetch(request, env),
    honoOptions,
  );
  // The one answer streamed from a source that can fail part-way (the backup's copy): its errors
  // are logged and cut the connection here, not printed by `@hono/node-server`.
  const viaHonoStreamed = getRequestListener(async (request, env) => {
    const answer = await gateway.app.fetch(request, env);
    return cutOnError(answer, env.outgoing, (err) =>
      gateway.problem(err, request.method, STORE_BACKUP_PATH),
    );
  }, honoOptions);
  return function heraldListener(req, res) {
    if (req.method === "POST" && isIngestPath(req.url)) {
      void ingest(gateway, req, res);
    } else if (req.method === "OPTIONS" && req.url === "*") {
      // RFC 9110 9.3.7: `OPTIONS *` asks about the server as a whole (a proxy's or a load
      // balancer's probe); it names no resource, so no route can answer it.
      res.writeHead(204, { allow: SERVER_METHODS }).end();
    } else {
      // The 100 goes out when a route reads the body: a refusal on the headers comes without it.
      continueOnRead(req);
      // A route that answers without reading the body (404, 401, 413 on Content-Length): when
      // the connection is then closed, it lingers rather than reset a client still sending.
      closeIfBodyUnread(req);
      // HEAD is served as the GET it mirrors, and node:http drops the body of a HEAD answer on
      // its own (it knew the method when it made `res`). Through Hono as HEAD, the GET answer's
      // headers lost its Content-Length (Hono rebuilds it with a null body), which the README
      // says HEAD keeps. Logs and spans of such a request name GET. Not `/store/backup`: its
      // HEAD must not take a copy of the whole store only for node:http to drop it.
      if (req.method === "HEAD" && routedPath(req.url) !== STORE_BACKUP_PATH) req.method = "GET";
      else if (req.method === "GET" && routedPath(req.url) === STORE_BACKUP_PATH) {
        cutWhenStalled(res, backupStallMs);
        void viaHonoStreamed(req, res);
        return;
      }
      void viaHono(req, res);
    }
  };
}

/**
 * For `createNodeServer`'s `refused`: a publish request (`POST /events`, `POST /`,
 * `POST /webhooks/{id}`) refused before it reaches the listener (an invalid `Host`) counts in
 * `herald_events_rejected_total` by its code and is logged, like a request ingest refuses. It
 * runs on refusals only, so accepted events pay nothing for it.
 *
 * @example
 * createNodeServer(nodeListener(gateway), { refused: countPublishRefusal(gateway) });
 */
export function countPublishRefusal(
  gateway: Pick<Gateway, "metrics" | "problem">,
): (req: IncomingMessage, refusal: HeraldError) => void {
  return function countRefusal(req, refusal) {
    if (req.method !== "POST") return;
    const url = req.url ?? "/";
    const path = url.split("?", 1)[0] ?? "/";
    if (!INGEST.has(path) && !WEBHOOK.test(path)) return;
    gateway.metrics.rejected(refusal.code);
    gateway.problem(refusal, "POST", path);
  };
}

/** Every method some route of the gateway answers: `OPTIONS *`'s `Allow`. */
const SERVER_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS";

/** `/webhooks/{adapter-id}` as sent (the router's `/webhooks/:adapterId`). */
const WEBHOOK = /^\/webhooks\/[^/]+$/;

function isIngestPath(url: string | undefined): boolean {
  if (url === undefined) return false;
  return INGEST.has(pathOf(url));
}

/** The path of a request target, without its query. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return "";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/**
 * Closes `res`'s connection when, once its head is out, nothing more goes out for `ms` to `2 ms`
 * (the socket's `bytesWritten` stands still: the writer waits for a `drain` that never comes).
 * Not before the head: taking the copy may rightly take longer than that with nothing to send.
 */
function cutWhenStalled(res: ServerResponse, ms: number): void {
  let last = -1;
  const timer = setInterval(() => {
    if (!res.headersSent) return;
    const sent = res.socket?.bytesWritten ?? 0;
    if (sent === last) res.destroy();
    else last = sent;
  }, ms);
  // A download never keeps a stopping process alive.
  timer.unref();
  res.once("close", () => clearInterval(timer));
}

/**
 * `answer` with its body read through a guard: a body that errors part-way (a read of the
 * backup's copy that fails, its stall timer) is reported to `failed` (the JSON log, one line)
 * and the connection is closed, which tells the client the answer is cut short of its
 * `Content-Length`. Errored through to `@hono/node-server`, the body had its error printed with
 * its stack on stderr, outside the log. Nothing is read ahead: a client that stops reading still
 * stops the reads of the copy.
 */
function cutOnError(
  answer: Response,
  outgoing: ServerResponse | Http2ServerResponse,
  failed: (err: unknown) => void,
): Response {
  // A refusal's body is a whole text, sent with its length: only the copy (200) is streamed.
  if (answer.status !== 200) return answer;
  const source = answer.body;
  if (source === null) return answer;
  const reader = source.getReader();
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (err) {
          failed(err);
          outgoing.destroy();
          chunk = { done: true, value: undefined };
        }
        if (cancelled) return;
        if (chunk.done) controller.close();
        else controller.enqueue(chunk.value);
      },
      cancel(reason) {
        cancelled = true;
        return reader.cancel(reason).catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: answer.status, headers: answer.headers });
}

/**
 * The path a request target is routed by, as the router sees it: dot segments resolved, `%XX`
 * escapes decoded, an absolute-form target (`http://host/path`) reduced to its path. The target
 * as sent may name the same route (`/store/./backup`, `/store/%62ackup`).
 */
function routedPath(url: string | undefined): string {
  try {
    return decodeURI(new URL(url ?? "/", "http://localhost").pathname);
  } catch {
    return pathOf(url);
  }
}

async function ingest(gateway: Gateway, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    await gateway.ingest(incomingSource(req));
    res.writeHead(202, { ...successHeaders(req.url ?? "/"), "content-length": "0" }).end();
  } catch (err) {
    const path = req.url?.split("?", 1)[0] ?? "/";
    const { status, headers, body } = gateway.problem(err, "POST", path);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Refused before the body was read (e.g. 413 on Content-Length): close the connection
    // rather than read a large unwanted body just to keep it alive.
    const closing = bodyMayBeArriving(req);
    if (closing) closeAfterAnswer(req);
    const close = closing ? { connection: "close" } : {};
    res
      .writeHead(status, { ...headers, ...close, "content-length": Buffer.byteLength(body) })
      .end(body);
  }
}
