import * as http from "node:http";
import * as https from "node:https";
import { describeError, MAX_ERROR_BYTES } from "../../deliver/failure-text.js";
import {
  DRAIN_LIMIT,
  type SinkAnswer,
  type SinkClient,
  type SinkMessage,
} from "../../deliver/sink-client.js";
import { SinkNetworkError, SinkTimeout } from "../../deliver/sink-error.js";

export interface NodeSinkClientOptions {
  /** Connections at once per origin (default 128); further messages wait for a free one. */
  readonly maxSockets?: number;
  /**
   * How long an idle pooled connection is kept (default 4 s), shortened further by a sink's
   * `Keep-Alive: timeout=n` hint (to n - 1 s). Below Node's default server `keepAliveTimeout`
   * (5 s), so the client usually closes an idle connection before the sink does. Deliveries in
   * flight are bounded by their own timeout, not this.
   */
  readonly idleTimeoutMs?: number;
}

/** A `SinkClient` that holds pooled connections, so it has to be closed. */
export interface NodeSinkClient extends SinkClient {
  /** Destroys every pooled and active connection (shutdown, tests). */
  close(): void;
}

/** Where a sink URL points, parsed once per URL. */
interface Target {
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
  /** The `Host` header: host and port as the URL has them (the port only when not the default). */
  readonly host: string;
}

// setTimeout fires at once for delays that do not fit in a signed 32-bit integer.
const MAX_TIMER_MS = 2 ** 31 - 1;
// Sinks come from the config, so few URLs repeat; the bound only guards against a config that
// keeps changing them.
const MAX_TARGETS = 1024;
const EMPTY = new Uint8Array(0);

/** The same text as `fetch`'s network errors, so outcomes read alike whichever client sent. */
function networkError(cause: unknown): SinkNetworkError {
  return new SinkNetworkError(`fetch failed: ${describeError(cause)}`, { cause });
}

function parseTarget(sink: string): Target {
  const url = new URL(sink);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`unsupported protocol ${url.protocol}`);
  }
  return {
    secure: url.protocol === "https:",
    // URL keeps IPv6 literals in brackets; node:http wants the bare address.
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    host: url.host,
  };
}

/**
 * The message's headers as node:http's flat list, plus `Host` (unless the message has one) and
 * `Content-Length` (a known length keeps the body out of chunked encoding). node:http writes a
 * list as it is, where it would copy an object into its own header map first; and on Node 20 an
 * object made with a spread (`{ ...headers, "content-length": n }`) cost ~10 µs more per request
 * than this.
 */
function headerList(headers: SinkMessage["headers"], host: string, length: number): string[] {
  const list: string[] = [];
  let hostValue = host;
  for (const name in headers) {
    const value = headers[name] as string;
    if (name === "host") hostValue = value;
    else if (name !== "content-length") list.push(name, value);
  }
  list.push("host", hostValue, "content-length", String(length));
  return list;
}

/** The `Retry-After` value among raw header lines, without building the `headers` object. */
function retryAfterOf(raw: readonly string[]): string | null {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 11 && name.toLowerCase() === "retry-after") return raw[i + 1] as string;
  }
  return null;
}

/**
 * A header among raw header lines, `null` when absent, repeated fields joined with ", " (as
 * `Headers.get` does). Called only when someone asks, so deliveries never build a header map.
 */
function headerOf(raw: readonly string[], name: string): string | null {
  const wanted = name.toLowerCase();
  let value: string | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const field = raw[i] as string;
    if (field.length === wanted.length && field.toLowerCase() === wanted) {
      const next = raw[i + 1] as string;
      value = value === null ? next : `${value}, ${next}`;
    }
  }
  return value;
}

/**
 * The Node `SinkClient`: `node:http`/`node:https` over keep-alive agents (LIFO, so idle
 * connections age out; Nagle off, Node's default), built for the delivery hot path: per message
 * one request with a flat header list and the body in one write, one timer for the whole
 * exchange, and no Web `Request`, `Response`, `Headers`, streams or `AbortController`. Sink URLs
 * are parsed once. See `SinkClient` for the contract (`sink-client.case.ts` checks it).
 *
 * Keep-alive races: idle connections are closed after `idleTimeoutMs` (before a Node sink's 5 s
 * default closes them), and a message that fails with `ECONNRESET` on a reused connection before
 * any answer is sent once more, within the same timeout: the sink closed the connection as the
 * message went out, so it never saw it.
 *
 * @example
 * const client = createNodeSinkClient({ maxSockets: 128 });
 * const answer = await client.send(message, 5_000); // { status: 204, retryAfter: null, head }
 * client.close();
 */
export function createNodeSinkClient(options: NodeSinkClientOptions = {}): NodeSinkClient {
  const { maxSockets = 128, idleTimeoutMs = 4_000 } = options;
  if (!Number.isInteger(maxSockets) || maxSockets < 1) {
    throw new TypeError("createNodeSinkClient: maxSockets must be a positive integer");
  }
  if (!Number.isFinite(idleTimeoutMs) || idleTimeoutMs <= 0 || idleTimeoutMs > MAX_TIMER_MS) {
    throw new TypeError("createNodeSinkClient: idleTimeoutMs must be a positive number of ms");
  }
  // `timeout` is the idle timeout of pooled sockets: the agent destroys a free socket when it
  // fires, and caps it by the sink's Keep-Alive hint. On a socket in use it only emits `timeout`
  // on the request, which nothing listens to: the exchange timer bounds a delivery.
  const agentOptions = {
    keepAlive: true,
    maxSockets,
    scheduling: "lifo",
    timeout: idleTimeoutMs,
  } as const;
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const targets = new Map<string, Target>();

  function targetOf(sink: string): Target {
    let target = targets.get(sink);
    if (target === undefined) {
      target = parseTarget(sink);
      if (targets.size >= MAX_TARGETS) targets.clear();
      targets.set(sink, target);
    }
    return target;
  }

  function exchange(
    target: Target,
    message: SinkMessage,
    timeoutMs: number,
    keepBytes: number,
    resolve: (answer: SinkAnswer) => void,
    reject: (err: unknown) => void,
  ): void {
    const { body } = message;
    const length =
      body === undefined ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.length;
    let response: http.IncomingMessage | undefined;
    let settled = false;
    let head: Uint8Array = EMPTY;
    let kept = 0;
    let total = 0;
    let ended = false;
    const drainLimit = Math.max(DRAIN_LIMIT, keepBytes);

    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const res = response as http.IncomingMessage;
      const raw = res.rawHeaders;
      resolve({
        status: res.statusCode ?? 0,
        retryAfter: retryAfterOf(raw),
        head: kept === 0 ? EMPTY : head.subarray(0, kept),
        complete: ended && total === kept,
        header: (name) => headerOf(raw, name),
        forEachHeader: (fn) => {
          for (let i = 0; i + 1 < raw.length; i += 2) {
            fn(raw[i + 1] as string, (raw[i] as string).toLowerCase());
          }
        },
      });
    };
    const fail = (err: SinkNetworkError | SinkTimeout) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err);
    };

    let req: http.ClientRequest | undefined;
    let retried = false;
    const timer = setTimeout(
      () => {
        if (response === undefined) {
          fail(new SinkTimeout(timeoutMs));
          req?.destroy();
        } else {
          // The body is still arriving: keep what came, close the connection.
          finish();
          response.destroy();
        }
      },
      Math.min(Math.max(timeoutMs, 0), MAX_TIMER_MS),
    );

    const attempt = (): void => {
      let sent: http.ClientRequest;
      try {
        sent = (target.secure ? https : http).request(
          {
            hostname: target.hostname,
            port: target.port,
            path: target.path,
            method: message.method,
            headers: headerList(message.headers, target.host, length),
            agent: target.secure ? httpsAgent : httpAgent,
          },
          (res) => {
            response = res;
            res.on("data", (chunk: Buffer) => {
              if (kept < keepBytes) {
                if (head === EMPTY) head = new Uint8Array(keepBytes);
                const take = Math.min(chunk.length, keepBytes - kept);
                head.set(chunk.subarray(0, take), kept);
                kept += take;
              }
              total += chunk.length;
              if (total > drainLimit) {
                // Reading on costs more than a new connection: destroying an unfinished response
                // closes its socket.
                finish();
                res.destroy();
              }
            });
            // `on`, not `once`: each fires at most once, and `finish` ignores the second.
            res.on("end", () => {
              ended = true;
              finish();
            });
            // A connection that drops mid-body closes the response without an `end`.
            res.on("close", finish);
          },
        );
      } catch (err) {
        // node:http refuses some URLs (a port out of range) before sending anything.
        fail(networkError(err));
        return;
      }
      req = sent;
      // Also after the answer (a reset mid-body), so there is always a listener.
      sent.on("error", (err: NodeJS.ErrnoException) => {
        // A request given up for a retry has nothing more to say.
        if (sent !== req) return;
        if (response !== undefined) finish();
        else if (!retried && !settled && sent.reusedSocket && err.code === "ECONNRESET") {
          // The sink closed the idle keep-alive connection as this message went out on it: it
          // never saw the message (Node's `request.reusedSocket` docs). Send it once more; the
          // body is in memory, and a fresh attempt gets a live socket or a new connection.
          retried = true;
          attempt();
        } else fail(networkError(err));
      });
      sent.end(body);
    };
    attempt();
  }

  return {
    send(message, timeoutMs, keepBytes = MAX_ERROR_BYTES) {
      let target: Target;
      try {
        target = targetOf(message.url);
      } catch (err) {
        return Promise.reject(networkError(err));
      }
      return new Promise<SinkAnswer>((resolve, reject) =>
        exchange(target, message, timeoutMs, keepBytes, resolve, reject),
      );
    },
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}
