import * as https from "node:https";
import { MAX_ERROR_BYTES } from "../../deliver/failure-text.js";
import { DRAIN_LIMIT, type SinkAnswer, type SinkClient } from "../../deliver/sink-client.js";
import { SinkTimeout } from "../../deliver/sink-error.js";
import { MAX_TIMER_MS, timerDelay } from "../../deliver/timer-delay.js";
import { fetchFailed } from "./fetch-failed.js";
import { createHttp1Client, type Http1Client, Http1Exchange } from "./http1-client.js";
import { encodeRequest } from "./http1-request.js";
import type { Http1ResponseParser } from "./http1-response-parser.js";
import { nodeHttpExchange } from "./node-http-exchange.js";
import { RawHeadersAnswer } from "./raw-headers-answer.js";
import { parseSinkTarget, type SinkTarget } from "./sink-target.js";

export interface NodeSinkClientOptions {
  /**
   * Connections at once per origin (default: no limit); further messages wait for a free one,
   * their timeout running. The gateway leaves it unlimited: the dispatcher bounds the requests in
   * flight per subscription (`delivery.concurrency`) and in all, and a cap per origin would be a
   * pool shared by every subscription whose sink is on that host and port, where one sink that
   * never answers could hold every connection and time out the others' deliveries unsent.
   */
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

// Sinks come from the config, so few URLs repeat; the bound only guards against a config that
// keeps changing them.
const MAX_TARGETS = 1024;
const EMPTY = new Uint8Array(0);

/**
 * One delivery over `Http1Client`, settling its `send` promise as the `SinkClient` contract says:
 * one timer for the whole exchange; the body's first `keepBytes` kept and the rest read up to
 * the drain limit; an answer with what arrived when the body breaks off or outlasts the timeout.
 */
class SinkExchange extends Http1Exchange {
  private readonly timer: NodeJS.Timeout;
  private settled = false;
  private status = 0;
  private raw: string[] | null = null;
  private head: Uint8Array = EMPTY;
  private kept = 0;
  private total = 0;

  constructor(
    private readonly client: Http1Client,
    bytes: Buffer,
    closeAfter: boolean,
    private readonly timeoutMs: number,
    private readonly keepBytes: number,
    private readonly resolve: (answer: SinkAnswer) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    super(bytes, closeAfter);
    this.timer = setTimeout(timeOut, timerDelay(timeoutMs), this);
  }

  onHead(parser: Http1ResponseParser): void {
    this.status = parser.status;
    this.raw = parser.rawHeaders;
    // A known length needs no more room than it has.
    if (parser.framing === "length" && parser.contentLength < this.keepBytes) {
      this.head = parser.contentLength === 0 ? EMPTY : new Uint8Array(parser.contentLength);
    }
  }

  onBody(chunk: Buffer, start: number, end: number): void {
    const { keepBytes } = this;
    if (this.kept < keepBytes) {
      if (this.head === EMPTY) this.head = new Uint8Array(keepBytes);
      const stop = Math.min(
        end,
        start + keepBytes - this.kept,
        start + this.head.length - this.kept,
      );
      this.head.set(chunk.subarray(start, stop), this.kept);
      this.kept += stop - start;
    }
    this.total += end - start;
    if (this.total > Math.max(DRAIN_LIMIT, keepBytes)) {
      // Reading on costs more than a new connection.
      this.answer(false);
      this.client.abort(this);
    }
  }

  onEnd(): void {
    this.answer(true);
  }

  onError(err: Error): void {
    // After the head the status line has said what happened: answer with what arrived.
    if (this.raw !== null) this.answer(false);
    else this.fail(fetchFailed(err));
  }

  /** The timeout passed: no answer, or one whose body is still arriving. */
  expire(): void {
    if (this.settled) return;
    if (this.raw !== null) this.answer(false);
    else this.fail(new SinkTimeout(this.timeoutMs));
    this.client.abort(this);
  }

  private answer(ended: boolean): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    const { kept } = this;
    this.resolve(
      new RawHeadersAnswer(
        this.status,
        this.raw as string[],
        kept === 0 ? EMPTY : kept === this.head.length ? this.head : this.head.subarray(0, kept),
        ended && this.total === kept,
      ),
    );
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.reject(err);
  }
}

function timeOut(exchange: SinkExchange): void {
  exchange.expire();
}

/**
 * The Node `SinkClient`, built for the delivery hot path. Plain `http:` sinks go over
 * `Http1Client` (`node:net`, pooled keep-alive connections, each request in one write, a strict
 * incremental response parser); `https:` sinks over `node:https` with a keep-alive agent
 * (certificate checks and TLS sessions as Node does them). Either way: one timer for the whole
 * exchange, and no Web `Request`, `Response`, `Headers`, streams or `AbortController`. Sink URLs
 * are parsed once. See `SinkClient` for the contract (`sink-client.case.ts` checks it).
 *
 * Keep-alive races: idle connections are closed after `idleTimeoutMs` (before a Node sink's 5 s
 * default closes them), and a message that fails on a reused connection before any answer (the
 * sink closed it as the message went out, so it never saw it) is sent once more, within the same
 * timeout.
 *
 * @example
 * const client = createNodeSinkClient();
 * const answer = await client.send(message, 5_000); // { status: 204, retryAfter: null, head }
 * client.close();
 */
export function createNodeSinkClient(options: NodeSinkClientOptions = {}): NodeSinkClient {
  const { maxSockets = Number.POSITIVE_INFINITY, idleTimeoutMs = 4_000 } = options;
  if (
    !(Number.isInteger(maxSockets) || maxSockets === Number.POSITIVE_INFINITY) ||
    maxSockets < 1
  ) {
    throw new TypeError("createNodeSinkClient: maxSockets must be a positive integer or Infinity");
  }
  if (!Number.isFinite(idleTimeoutMs) || idleTimeoutMs <= 0 || idleTimeoutMs > MAX_TIMER_MS) {
    throw new TypeError("createNodeSinkClient: idleTimeoutMs must be a positive number of ms");
  }
  const http1 = createHttp1Client({ maxSockets, idleTimeoutMs });
  // `timeout` is the idle timeout of pooled sockets: the agent destroys a free socket when it
  // fires, and caps it by the sink's Keep-Alive hint. On a socket in use it only emits `timeout`
  // on the request, which nothing listens to: the exchange timer bounds a delivery.
  const httpsAgent = new https.Agent({
    keepAlive: true,
    maxSockets,
    scheduling: "lifo",
    timeout: idleTimeoutMs,
  });
  const targets = new Map<string, SinkTarget>();

  function targetOf(sink: string): SinkTarget {
    let target = targets.get(sink);
    if (target === undefined) {
      target = parseSinkTarget(sink);
      if (targets.size >= MAX_TARGETS) targets.clear();
      targets.set(sink, target);
    }
    return target;
  }

  return {
    send(message, timeoutMs, keepBytes = MAX_ERROR_BYTES) {
      let target: SinkTarget;
      let request: ReturnType<typeof encodeRequest> | undefined;
      try {
        target = targetOf(message.url);
        if (!target.secure) {
          request = encodeRequest(
            message.method,
            target.path,
            target.host,
            message.headers,
            message.body,
          );
        }
      } catch (err) {
        return Promise.reject(fetchFailed(err));
      }
      return new Promise<SinkAnswer>((resolve, reject) => {
        if (request === undefined) {
          nodeHttpExchange(httpsAgent, target, message, timeoutMs, keepBytes, resolve, reject);
        } else {
          http1.send(
            target.origin,
            new SinkExchange(
              http1,
              request.bytes,
              request.closeAfter,
              timeoutMs,
              keepBytes,
              resolve,
              reject,
            ),
          );
        }
      });
    },
    close() {
      http1.close();
      httpsAgent.destroy();
    },
  };
}
