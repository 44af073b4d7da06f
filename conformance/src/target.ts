import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/**
 * The gateway under test: a base URL reached over real HTTP, or an in-process app reached through
 * its `fetch` handler (Web Standards `Request` -> `Response`).
 *
 * @example
 * const overHttp: ConformanceTarget = { url: "http://127.0.0.1:8080" };
 * const inProcess: ConformanceTarget = { fetch: (req) => app.fetch(req) };
 */
/** The target sent no answer within the request timeout. */
export class TargetTimeout extends Error {
  override readonly name = "TargetTimeout";
}

export type ConformanceTarget =
  | { readonly url: string }
  | { readonly fetch: (request: Request) => Promise<Response> };

/** One request the suite sends. Header names are sent with the case given here (over HTTP). */
export interface GatewayRequest {
  readonly method: string;
  /** Path (and query) relative to the target's base URL, e.g. `/events`. */
  readonly path: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array | string;
  /**
   * The bearer token of this request: absent, the run's token (if any); `null`, no
   * `Authorization` header at all (give one in `headers` to send it verbatim); a string, that
   * token instead of the run's.
   */
  readonly bearer?: string | null;
}

/** The gateway's answer, fully read. */
export interface GatewayResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Uint8Array;
}

/** Sends one request and reads the whole response. */
export type Transport = ((request: GatewayRequest) => Promise<GatewayResponse>) & {
  /** Releases pooled connections. */
  close(): void;
};

/** Options of {@link createTransport}. */
export interface TransportOptions {
  /** Sent as `Authorization: Bearer <token>` on every request. */
  readonly token?: string | undefined;
  /** Abort a request that takes longer than this. */
  readonly requestTimeoutMs: number;
}

/**
 * Builds the transport for a target. Real targets are reached with `node:http` rather than
 * `fetch` so that header-name case is sent as written (binding 3.1.3.1 says names are
 * case-insensitive; `fetch` would lower-case them and hide the difference).
 *
 * @example
 * const send = createTransport({ url: "http://127.0.0.1:8080" }, { requestTimeoutMs: 10_000 });
 * const res = await send({ method: "OPTIONS", path: "/events" });
 * send.close();
 */
export function createTransport(target: ConformanceTarget, options: TransportOptions): Transport {
  const auth = (req: GatewayRequest): Record<string, string> => {
    const token = req.bearer === undefined ? options.token : req.bearer;
    return token === undefined || token === null ? {} : { Authorization: `Bearer ${token}` };
  };
  if ("url" in target) return httpTransport(new URL(target.url), auth, options.requestTimeoutMs);
  if ("fetch" in target && typeof target.fetch === "function") {
    return fetchTransport(target.fetch, auth, options.requestTimeoutMs);
  }
  throw new TypeError(
    "target must be { url: string } or { fetch: (request) => Promise<Response> }",
  );
}

function toBytes(body: Uint8Array | string | undefined): Uint8Array | undefined {
  return typeof body === "string" ? new TextEncoder().encode(body) : body;
}

function resolvePath(base: URL, path: string): URL {
  const dir = base.href.endsWith("/") ? base.href : `${base.href}/`;
  return new URL(path.replace(/^\//, ""), dir);
}

function fetchTransport(
  handler: (request: Request) => Promise<Response>,
  auth: (req: GatewayRequest) => Record<string, string>,
  timeoutMs: number,
): Transport {
  const base = new URL("http://gateway.conformance.test/");
  const send = async (req: GatewayRequest): Promise<GatewayResponse> => {
    const body = toBytes(req.body);
    const request = new Request(resolvePath(base, req.path), {
      method: req.method,
      headers: { ...auth(req), ...req.headers },
      ...(body === undefined ? {} : { body: body.slice() }),
    });
    const response = await withTimeout(handler(request), timeoutMs, `${req.method} ${req.path}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, body: bytes };
  };
  return Object.assign(send, { close() {} });
}

function httpTransport(
  base: URL,
  auth: (req: GatewayRequest) => Record<string, string>,
  timeoutMs: number,
): Transport {
  const secure = base.protocol === "https:";
  const agent = secure ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = (req: GatewayRequest): Promise<GatewayResponse> =>
    new Promise((resolve, reject) => {
      const url = resolvePath(base, req.path);
      const body = toBytes(req.body);
      const headers: Record<string, string> = { ...auth(req), ...req.headers };
      if (body !== undefined) headers["Content-Length"] = String(body.byteLength);
      const open = secure ? httpsRequest : httpRequest;
      const outgoing = open(
        url,
        { method: req.method, headers, agent, timeout: timeoutMs },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
          incoming.on("error", reject);
          incoming.on("end", () => {
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (value === undefined) continue;
              for (const v of Array.isArray(value) ? value : [value])
                responseHeaders.append(name, v);
            }
            resolve({
              status: incoming.statusCode ?? 0,
              headers: responseHeaders,
              body: new Uint8Array(Buffer.concat(chunks)),
            });
          });
        },
      );
      let timedOut = false;
      outgoing.on("timeout", () => {
        timedOut = true;
        outgoing.destroy(
          new TargetTimeout(`${req.method} ${req.path}: no response within ${timeoutMs} ms`),
        );
      });
      outgoing.on("error", (err: NodeJS.ErrnoException) => {
        // Node's own messages ("socket hang up", "connect ECONNREFUSED ...") name no request.
        reject(
          timedOut ? err : new Error(`${req.method} ${req.path}: ${connectionError(err, base)}`),
        );
      });
      outgoing.end(body === undefined ? undefined : Buffer.from(body));
    });
  return Object.assign(send, { close: () => agent.destroy() });
}

/** A connection failure in words, with a hint where one helps. */
function connectionError(err: NodeJS.ErrnoException, base: URL): string {
  if (err.code === "ECONNREFUSED")
    return `connection refused (is the target listening at ${base.origin}?)`;
  if (err.code === "ECONNRESET" || err.message === "socket hang up") {
    return `the target closed the connection without an answer (${err.message})`;
  }
  return err.message;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TargetTimeout(`${what}: no response within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
