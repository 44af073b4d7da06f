import { STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { HeadersTooLarge, MalformedRequest, RequestTimeout } from "../../errors/errors.js";
import type { HeraldError } from "../../errors/herald-error.js";
import { problemParts } from "../../http/problem.js";

/**
 * The answer to a request node:http refuses before Herald sees it (its `clientError` event), as
 * a problem document like every other refusal, where Node would send a bare status line:
 * - header section over the server's limit (16 KiB by default): 431 `headers_too_large`;
 * - request not complete within `headersTimeout` / `requestTimeout`: 408 `request_timeout`;
 * - anything that is not HTTP/1.1 Herald can read: 400 `malformed_request`.
 * The connection is closed after the answer. A socket already gone, or one that already carries
 * a response, is only destroyed.
 *
 * @example
 * server.on("clientError", answerClientError);
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  const busy = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === "ECONNRESET" || !socket.writable || busy?.headersSent === true) {
    socket.destroy();
    return;
  }
  answerOnSocket(socket, problemOf(err));
}

/**
 * Writes `refusal` as a whole HTTP/1.1 answer straight to `socket`, then closes it: for requests
 * node:http hands over as a bare socket (a `clientError`, a `CONNECT`).
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
  // Then closed for good: node:http sockets allow half-open, and a slow client would keep it.
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`, () => socket.destroy());
}

function problemOf(err: NodeJS.ErrnoException): HeraldError {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return new HeadersTooLarge("the request's header section is over the server's limit");
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return new RequestTimeout("the request did not arrive whole in time");
    default:
      return new MalformedRequest("the request is not valid HTTP/1.1");
  }
}
