import type { IncomingMessage } from "node:http";

/** How long a refused request's connection still reads (and drops) what the client sends. */
export const LINGER_MS = 2_000;

/**
 * Closes the connection of a request answered before its body was read (413 on Content-Length,
 * 401, 403, 415) as RFC 9112 9.6 asks of a server that closes with a request still arriving:
 * the answer, then a half-close, then what the client still sends is read and dropped, for at
 * most `lingerMs`. Node's own close destroys the socket once the answer is written, and the
 * client's next write of its body meets a reset, which throws away the answer it had not read
 * yet: a producer saw "write EPIPE" instead of 413, and retried the whole body. Call it before
 * an answer with `Connection: close` is written.
 *
 * @example
 * if (!req.complete) lingerOnClose(req);
 * res.writeHead(413, { connection: "close", ... }).end(body);
 */
export function lingerOnClose(req: IncomingMessage, lingerMs = LINGER_MS): void {
  const { socket } = req;
  // node:http ends a connection that is not kept alive with destroySoon() after the answer.
  socket.destroySoon = function lingeringClose() {
    const timer = setTimeout(() => socket.destroy(), lingerMs);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
    // The request body is still being read (and dropped, as the request was resumed) by the
    // HTTP parser until the client has sent it all and closes its side, or the time is up.
    socket.end();
  };
}
