import * as http from "node:http";
import * as https from "node:https";
import { DRAIN_LIMIT, type SinkAnswer, type SinkMessage } from "../../deliver/sink-client.js";
import { SinkTimeout } from "../../deliver/sink-error.js";
import { timerDelay } from "../../deliver/timer-delay.js";
import { fetchFailed } from "./fetch-failed.js";
import { RawHeadersAnswer } from "./raw-headers-answer.js";
import type { SinkTarget } from "./sink-target.js";

const EMPTY = new Uint8Array(0);

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

/**
 * Whether a 204 or 304 declares a body (RFC 9110 8.6: a 204 must not send Content-Length): the
 * sink may send those bytes after all, so its connection is not reused.
 */
function declaresBodyItCannotHave(res: http.IncomingMessage): boolean {
  if (res.statusCode !== 204 && res.statusCode !== 304) return false;
  const length = res.headers["content-length"];
  return res.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * One exchange over `node:http`/`node:https` with `agent` (keep-alive), settling through
 * `resolve`/`reject` as the `SinkClient` contract says: one request with a flat header list and
 * the body in one write, one timer for the whole exchange, and no Web objects. A message that
 * fails with `ECONNRESET` on a reused connection before any answer is sent once more, within the
 * same timeout: the sink closed the connection as the message went out, so it never saw it.
 *
 * `createNodeSinkClient` sends `https:` sinks this way (plain `http:` ones over `Http1Client`).
 *
 * @example
 * new Promise((resolve, reject) =>
 *   nodeHttpExchange(agent, target, message, 5_000, 1024, resolve, reject));
 */
export function nodeHttpExchange(
  agent: http.Agent,
  target: SinkTarget,
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
    resolve(
      new RawHeadersAnswer(
        res.statusCode ?? 0,
        res.rawHeaders,
        kept === 0 ? EMPTY : head.subarray(0, kept),
        ended && total === kept,
      ),
    );
  };
  const fail = (err: unknown) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    reject(err);
  };

  let req: http.ClientRequest | undefined;
  let retried = false;
  const timer = setTimeout(() => {
    if (response === undefined) {
      fail(new SinkTimeout(timeoutMs));
      req?.destroy();
    } else {
      // The body is still arriving: keep what came, close the connection.
      finish();
      response.destroy();
    }
  }, timerDelay(timeoutMs));

  const attempt = (): void => {
    let sent: http.ClientRequest;
    try {
      sent = (target.secure ? https : http).request(
        {
          hostname: target.origin.host,
          port: target.port,
          path: target.path,
          method: message.method,
          headers: headerList(message.headers, target.host, length),
          agent,
        },
        (res) => {
          response = res;
          // As Http1ResponseParser: bytes of a body the status cannot have would be read as the
          // next message's answer on this connection (node:http reuses it otherwise).
          if (declaresBodyItCannotHave(res)) sent.shouldKeepAlive = false;
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
      // node:http refuses some messages (an invalid header) before sending anything.
      fail(fetchFailed(err));
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
      } else fail(fetchFailed(err));
    });
    sent.end(body);
  };
  attempt();
}
