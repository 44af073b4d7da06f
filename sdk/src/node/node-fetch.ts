/// <reference types="node" />
import * as http from "node:http";
import * as https from "node:https";

export interface NodeFetchOptions {
  /** Connections at once per origin (default 256); further requests wait for a free one. */
  readonly maxSockets?: number;
  /** How long an idle kept-alive connection stays open (default 4 s). */
  readonly idleTimeoutMs?: number;
  /** Most bytes of an answer kept (default 1 MiB); the rest is dropped and the connection closed. */
  readonly maxAnswerBytes?: number;
}

/** A `fetch` for `createProducer` on Node, with `close()` for the pooled connections. */
export interface NodeFetch {
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Closes every pooled connection (they never keep the process alive either way). */
  close(): void;
}

/** Where a URL points, parsed once per URL. */
interface Target {
  readonly secure: boolean;
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
  readonly host: string;
  /** The URL, as fetch gives it in `response.url` (a relative `Location` is resolved on it). */
  readonly href: string;
}

const MAX_TARGETS = 256;
const NO_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

function parseTarget(url: URL): Target {
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`fetch failed: unsupported protocol ${url.protocol}`);
  }
  return {
    secure: url.protocol === "https:",
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    host: url.host,
    href: url.href,
  };
}

function bodyBytes(body: RequestInit["body"]): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string" || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body))
    return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError("createNodeFetch: the body must be a string, bytes or null");
}

/**
 * The header lines of `init`: a plain record (what the producer passes) as it is, node:http
 * checking names and values as it writes them; `Headers` or pairs through `Headers`.
 */
function headerEntries(init: HeadersInit | undefined): Iterable<[string, string]> {
  if (init === undefined) return [];
  if (init instanceof Headers || Array.isArray(init)) return new Headers(init);
  return Object.entries(init);
}

function headerList(init: HeadersInit | undefined, host: string, length: number | undefined) {
  const list: string[] = [];
  let hostValue = host;
  for (const [field, value] of headerEntries(init)) {
    const name = field.toLowerCase();
    if (name === "host") hostValue = value;
    else if (name !== "content-length" && name !== "transfer-encoding") list.push(name, value);
  }
  list.push("host", hostValue);
  if (length !== undefined) list.push("content-length", String(length));
  return list;
}

function toResponse(res: http.IncomingMessage, chunks: Buffer[], url: string): Response {
  const response = responseOf(res, chunks);
  // As fetch's: a redirect's relative Location is resolved on it (`new URL(location, url)`).
  Object.defineProperty(response, "url", { value: url });
  return response;
}

function responseOf(res: http.IncomingMessage, chunks: Buffer[]): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i] as string, raw[i + 1] as string);
    } catch {
      // A field the Fetch Headers API refuses (obs-text): fetch drops it too.
    }
  }
  const status = res.statusCode ?? 0;
  const body = NO_BODY_STATUS.has(status) || chunks.length === 0 ? null : Buffer.concat(chunks);
  try {
    return new Response(body, { status, statusText: res.statusMessage ?? "", headers });
  } catch {
    // A reason phrase `Response` refuses: the status is what matters.
    return new Response(body, { status, headers });
  }
}

/**
 * A `fetch` for `createProducer` on Node, on `node:http`/`node:https` keep-alive agents instead
 * of the global fetch (undici): well under half the CPU per event on this machine's bench
 * (`npm run bench:sdk`), with the same messages (less fetch's own `accept*`, `user-agent` and
 * `sec-fetch-mode` headers). It does what a producer needs, no more:
 * - `method`, `headers`, a body of text or bytes, and `signal` (an abort rejects with the
 *   signal's reason, as fetch does: a `TimeoutError` for `AbortSignal.timeout`);
 * - redirects are never followed (like `redirect: "manual"`: the 3xx is the answer);
 * - the answer is read whole (at most `maxAnswerBytes`) into a Web `Response`;
 * - a network failure is a `TypeError("fetch failed")` with the cause, as fetch's is;
 * - a request that finds its reused keep-alive connection closed by the server (`ECONNRESET`
 *   before any answer) is sent once more on a fresh one: the server never saw it.
 * A `Request` object as input is passed to the global fetch.
 *
 * @example
 * import { createProducer } from "@herald/sdk";
 * import { createNodeFetch } from "@herald/sdk/node";
 * const producer = createProducer({ endpoint, source: "/orders", fetch: createNodeFetch() });
 */
export function createNodeFetch(options: NodeFetchOptions = {}): NodeFetch {
  const { maxSockets = 256, idleTimeoutMs = 4_000, maxAnswerBytes = 1024 * 1024 } = options;
  if (!Number.isInteger(maxSockets) || maxSockets < 1) {
    throw new TypeError("createNodeFetch: maxSockets must be a positive integer");
  }
  if (!Number.isInteger(idleTimeoutMs) || idleTimeoutMs < 1 || idleTimeoutMs > 2 ** 31 - 1) {
    throw new TypeError("createNodeFetch: idleTimeoutMs must be an integer number of ms >= 1");
  }
  if (!Number.isInteger(maxAnswerBytes) || maxAnswerBytes < 0) {
    throw new TypeError("createNodeFetch: maxAnswerBytes must be an integer >= 0");
  }
  const agentOptions = { keepAlive: true, maxSockets, scheduling: "lifo", timeout: idleTimeoutMs };
  const httpAgent = new http.Agent(agentOptions as http.AgentOptions);
  const httpsAgent = new https.Agent(agentOptions as https.AgentOptions);
  const targets = new Map<string, Target>();

  function targetOf(input: string | URL): Target {
    const key = String(input);
    let target = targets.get(key);
    if (target === undefined) {
      target = parseTarget(new URL(key));
      if (targets.size >= MAX_TARGETS) targets.clear();
      targets.set(key, target);
    }
    return target;
  }

  function exchange(target: Target, init: RequestInit): Promise<Response> {
    const body = bodyBytes(init.body);
    const length =
      body === undefined
        ? undefined
        : typeof body === "string"
          ? Buffer.byteLength(body)
          : body.length;
    const headers = headerList(init.headers, target.host, length);
    const signal = init.signal ?? undefined;
    return new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let settled = false;
      let current: http.ClientRequest | undefined;
      const done = () => {
        settled = true;
        signal?.removeEventListener("abort", onAbort);
      };
      const fail = (error: unknown) => {
        if (settled) return;
        done();
        reject(error);
      };
      const onAbort = () => {
        fail(signal?.reason);
        current?.destroy();
      };
      signal?.addEventListener("abort", onAbort, { once: true });

      const send = (retried: boolean) => {
        let answered = false;
        const req = (target.secure ? https : http).request(
          {
            hostname: target.hostname,
            port: target.port,
            path: target.path,
            method: init.method ?? "GET",
            headers,
            agent: target.secure ? httpsAgent : httpAgent,
          },
          (res) => {
            answered = true;
            const chunks: Buffer[] = [];
            let kept = 0;
            const finish = () => {
              if (settled) return;
              done();
              resolve(toResponse(res, chunks, target.href));
            };
            res.on("data", (chunk: Buffer) => {
              if (kept + chunk.length > maxAnswerBytes) {
                chunks.push(chunk.subarray(0, maxAnswerBytes - kept));
                kept = maxAnswerBytes;
                finish();
                res.destroy();
                return;
              }
              chunks.push(chunk);
              kept += chunk.length;
            });
            res.on("end", finish);
            res.on("error", (err) => fail(new TypeError("fetch failed", { cause: err })));
            // The connection dropped mid-answer: no `end`, and maybe no `error` either.
            res.on("close", () => fail(new TypeError("fetch failed: the answer was cut off")));
          },
        );
        current = req;
        req.on("error", (err: NodeJS.ErrnoException) => {
          if (!answered && !retried && !settled && req.reusedSocket && err.code === "ECONNRESET") {
            send(true);
            return;
          }
          fail(new TypeError("fetch failed", { cause: err }));
        });
        req.end(body);
      };
      try {
        send(false);
      } catch (err) {
        // node:http refuses some requests before sending (a header value it does not allow).
        fail(new TypeError("fetch failed", { cause: err }));
      }
    });
  }

  const nodeFetch = ((input: string | URL | Request, init: RequestInit = {}) => {
    if (typeof input !== "string" && !(input instanceof URL)) return globalThis.fetch(input, init);
    let target: Target;
    try {
      target = targetOf(input);
    } catch (err) {
      return Promise.reject(
        err instanceof TypeError ? err : new TypeError("fetch failed", { cause: err }),
      );
    }
    return exchange(target, init);
  }) as NodeFetch;
  nodeFetch.close = () => {
    httpAgent.destroy();
    httpsAgent.destroy();
  };
  return nodeFetch;
}
