import { type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { HeadersTooLarge, MalformedRequest, RequestTimeout } from "../../errors/errors.js";
import type { HeraldError } from "../../errors/herald-error.js";
import { problemParts } from "../../http/problem.js";
import { LINGER_MS } from "./linger-close.js";

/**
 * The answer to a request node:http refuses before Herald sees it (its `clientError` event), as
 * a problem document like every other refusal, where Node would send a bare status line:
 * - header section over the server's limit (16 KiB by default): 431 `headers_too_large`;
 * - request not complete within `headersTimeout` / `requestTimeout`: 408 `request_timeout`;
 * - anything that is not HTTP/1.1 Herald can read: 400 `malformed_request`.
 * The connection is closed after the answer. A socket already gone is only destroyed.
 *
 * The bad bytes may follow requests of the same connection that are still being answered
 * (pipelined, or sent before an ingest stored its event): those answers go out first, in order,
 * and the refusal after them (`afterEarlierAnswers`). Node (and Herald before) wrote the 400 at
 * once in their place, so a publisher read `400 malformed_request` as the answer to an event
 * that was stored (and delivered). Bytes after a request that asked to close (`Connection:
 * close`, HTTP/1.0) are not a request at all (RFC 9112 9.6: the server must not process them):
 * they are ignored, and the connection closes after that request's answer, as it asked.
 *
 * @example
 * server.on("clientError", answerClientError);
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // Refused already and lingering: the broken parser reports each further chunk it is fed.
  if (lingering.has(socket) && err.code !== "ECONNRESET") return;
  if (err.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  afterEarlierAnswers(socket, () => {
    if (!socket.writable) return; // the last answer closed it (it was asked to)
    // Bytes after a request that asked to close; or the broken request's own answer half
    // written: a refusal written now would corrupt it.
    const answering = (socket as Answering)._httpMessage;
    if (err.code === "HPE_CLOSED_CONNECTION" || answering?.headersSent === true) {
      socket.destroy();
      return;
    }
    answerOnSocket(socket, problemOf(err));
  });
}

/** A server socket as node:http keeps it: the response it is writing, and its parser. */
type Answering = Duplex & {
  _httpMessage?: (ServerResponse & { req?: IncomingMessage }) | null;
  parser?: { incoming?: IncomingMessage | null } | null;
};

/**
 * Calls `then` once node:http has written the answers to the requests before the broken one on
 * `socket`: the one it is writing, and those queued behind it (node:http hands the socket to the
 * next one as each finishes). A request whose body broke (a malformed chunk, a body that stopped
 * arriving) was already handed to the listener, which waits for that body: its own answer is not
 * waited for, the refusal takes its place.
 */
function afterEarlierAnswers(socket: Duplex, then: () => void): void {
  const incoming = (socket as Answering).parser?.incoming;
  const broken = incoming != null && !incoming.complete ? incoming : undefined;
  const wait = () => {
    const answering = (socket as Answering)._httpMessage;
    if (answering == null || answering.writableFinished || answering.req === broken) {
      then();
      return;
    }
    const next = () => {
      socket.off("close", gone);
      wait();
    };
    const gone = () => answering.off("finish", next);
    // node:http's own "finish" listener (added first) has moved the socket to the next response.
    answering.once("finish", next);
    socket.once("close", gone);
  };
  wait();
}

/** Sockets answered by `answerOnSocket` and still reading what the client sends. */
const lingering = new WeakSet<Duplex>();

/**
 * Writes `refusal` as a whole HTTP/1.1 answer straight to `socket`, then closes it: for requests
 * node:http hands over as a bare socket (a `clientError`, a `CONNECT`). The close lingers as
 * `lingerOnClose` does (RFC 9112 9.6): a half-close after the answer, then what the client still
 * sends (the body of the refused request) is read and dropped until it closes its side, for at
 * most `LINGER_MS`. Destroyed at once with that body unread, the socket reset the connection,
 * and the client lost the answer it had not read yet (`write EPIPE`, no answer at all).
 *
 * @example
 * answerOnSocket(socket, new MalformedRequest("the request is not valid HTTP/1.1"));
 */
export function answerOnSocket(socket: Duplex, refusal: HeraldError): void {
  const { status, headers, body } = problemParts(refusal);
  const fields = {
    ...headers,
    "content-length": String(Buffer.byteLength(body)),
    connection: "close",
  };
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`];
  for (const [name, value] of Object.entries(fields)) head.push(`${name}: ${value}`);
  lingering.add(socket);
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
  // Then closed for good: node:http sockets allow half-open, and a slow client would keep it.
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once("close", () => clearTimeout(timer));
  socket.once("end", () => socket.destroy());
  // A `data` listener also takes the socket back from node:http's parser where it read it
  // directly; the parser, broken, is still fed each chunk and reports it (ignored above).
  socket.on("data", () => {});
  socket.resume();
}

function problemOf(err: NodeJS.ErrnoException & { rawPacket?: unknown }): HeraldError {
  switch (err.code) {
    case "HPE_INVALID_VERSION":
      return new MalformedRequest(`${versionOf(err.rawPacket)} is not spoken here: send HTTP/1.1`);
    case "HPE_HEADER_OVERFLOW":
      return new HeadersTooLarge("the request's header section is over the server's limit");
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new RequestTimeout("the request did not arrive whole in time");
    default:
      return new MalformedRequest("the request is not valid HTTP/1.1");
  }
}

/**
 * The protocol version a refused request line names, as sent (`HTTP/1.2`, `HTTP/3.0`), for the
 * refusal's detail; a generic name when it cannot be shown (too long, or not printable).
 */
function versionOf(packet: unknown): string {
  if (!Buffer.isBuffer(packet)) return "that HTTP version";
  const line =
    packet.toString("latin1", 0, Math.min(packet.length, 8_192)).split("\r\n", 1)[0] ?? "";
  const version = /\s(HTTP\/[0-9.]{1,8})$/.exec(line)?.[1];
  return version ?? "that HTTP version";
}
