import * as http from "node:http";
import * as https from "node:https";
import type { DeliveryMessage } from "../../deliver/build-delivery-message.js";
import type { MessageFetch } from "../../deliver/message-fetch.js";

export interface NodeFetchOptions {
  /** Connections at once per origin (default 128); further requests wait for a free one. */
  readonly maxSockets?: number;
}

/**
 * A `FetchLike` over `node:http`, with the deliverer's `sendMessage` fast path and `close()` to
 * drop its pooled connections.
 */
export type NodeFetch = MessageFetch & {
  /** Destroys every pooled and active connection (shutdown, tests). */
  close(): void;
};

/** What goes out: a `Request` and a `DeliveryMessage` both come down to this. */
interface Outgoing {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array | string | undefined;
}

// Statuses whose responses never have a body (Fetch standard "null body status").
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** A Web `ReadableStream` over a Node response, with backpressure and cancel-destroys-socket. */
function webBody(res: http.IncomingMessage, done: () => void): ReadableStream<Uint8Array> {
  let settled = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const finish = (err?: unknown) => {
        if (settled) return;
        settled = true;
        done();
        if (err === undefined) controller.close();
        else controller.error(err);
      };
      res.on("data", (chunk: Buffer) => {
        if (settled) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) res.pause();
      });
      res.once("end", () => finish());
      res.on("error", (err) => finish(err));
      // A connection that drops mid-body closes the response without an `end`.
      res.once("close", () => {
        if (!settled) finish(new Error("the connection closed before the body ended"));
      });
    },
    pull() {
      res.resume();
    },
    cancel() {
      settled = true;
      done();
      // An unread body cannot leave the socket reusable: close it.
      res.destroy();
    },
  });
}

function networkError(cause: unknown): TypeError {
  // The same shape as `fetch`'s network errors, so callers handle both alike.
  return new TypeError("fetch failed", { cause });
}

/**
 * A fast `FetchLike` for Node: `node:http`/`node:https` with keep-alive agents (LIFO, so idle
 * connections age out) instead of the global `fetch`, for the delivery hot path. It also offers
 * `sendMessage` (see `deliver/message-fetch.ts`), which sends a delivery without building a
 * `Request` at all. Both honour the abort signal before the request, while waiting for the
 * response and while reading the body, rejecting with the signal's reason; network failures
 * reject with `TypeError("fetch failed")` and the cause, like `fetch`. Redirects are never
 * followed (deliveries treat a 3xx as the answer). As with `fetch`, read or cancel every response
 * body, or its connection stays busy.
 *
 * @example
 * const fetch = createNodeFetch({ maxSockets: 128 });
 * const response = await fetch(new Request("http://127.0.0.1:9000/hook", { method: "POST", body }));
 * await response.body?.cancel();
 * fetch.close();
 */
export function createNodeFetch(options: NodeFetchOptions = {}): NodeFetch {
  const { maxSockets = 128 } = options;
  if (!Number.isInteger(maxSockets) || maxSockets < 1) {
    throw new TypeError("createNodeFetch: maxSockets must be a positive integer");
  }
  const agentOptions = { keepAlive: true, maxSockets, scheduling: "lifo" } as const;
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);

  async function send(outgoing: Outgoing, signal: AbortSignal): Promise<Response> {
    signal.throwIfAborted();
    const url = new URL(outgoing.url);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw networkError(new Error(`unsupported protocol ${url.protocol}`));
    }
    const { method, body } = outgoing;
    let headers = outgoing.headers;
    // A known length keeps the body out of chunked encoding.
    if (body !== undefined || (method !== "GET" && method !== "HEAD")) {
      const length =
        body === undefined
          ? 0
          : typeof body === "string"
            ? Buffer.byteLength(body)
            : body.byteLength;
      headers = { ...headers, "content-length": String(length) };
    }

    const secure = url.protocol === "https:";
    return new Promise<Response>((resolve, reject) => {
      let response: http.IncomingMessage | undefined;
      const onAbort = () => {
        if (response === undefined) req.destroy(signal.reason);
        else response.destroy(signal.reason);
      };
      const done = () => signal.removeEventListener("abort", onAbort);

      const req = (secure ? https : http).request(
        {
          protocol: url.protocol,
          // URL keeps IPv6 literals in brackets; node:http wants the bare address.
          hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
          port: url.port === "" ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method,
          headers,
          agent: secure ? httpsAgent : httpAgent,
        },
        (res) => {
          response = res;
          try {
            const status = res.statusCode ?? 0;
            const headers = new Headers();
            const raw = res.rawHeaders;
            for (let i = 0; i + 1 < raw.length; i += 2) {
              headers.append(raw[i] as string, raw[i + 1] as string);
            }
            const init = { status, statusText: res.statusMessage ?? "", headers };
            // No stream for a body that is known to be empty: most sinks answer 2xx with none.
            const empty = res.headers["content-length"] === "0";
            if (empty || NULL_BODY_STATUSES.has(status) || method === "HEAD") {
              res.once("end", done);
              res.on("error", done);
              res.resume();
              resolve(new Response(null, init));
            } else {
              resolve(new Response(webBody(res, done), init));
            }
          } catch (err) {
            // `Response` rejects statuses outside 200..599, `Headers` values it finds invalid.
            done();
            res.destroy();
            reject(networkError(err));
          }
        },
      );
      req.on("error", (err) => {
        done();
        reject(signal.aborted ? signal.reason : networkError(err));
      });
      signal.addEventListener("abort", onAbort, { once: true });
      req.end(body);
    });
  }

  async function nodeFetch(request: Request): Promise<Response> {
    request.signal.throwIfAborted();
    const body = request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
    const headers: Record<string, string> = {};
    for (const [name, value] of request.headers) headers[name] = value;
    return send({ url: request.url, method: request.method, headers, body }, request.signal);
  }

  return Object.assign(nodeFetch, {
    sendMessage: (message: DeliveryMessage, signal: AbortSignal) => send(message, signal),
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  });
}
