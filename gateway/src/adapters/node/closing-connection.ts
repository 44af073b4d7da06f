import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { lingerOnClose } from "./linger-close.js";

/** Connections answered with `Connection: close`: nothing more of them is processed. */
const closing = new WeakSet<Socket>();
/** The last request of each connection handed to the listener. */
const latest = new WeakMap<Socket, IncomingMessage>();

/**
 * Notes `req` as handed to the listener, and says whether it may be processed: not when an
 * earlier answer on its connection said `Connection: close`. RFC 9112 9.6: a server that sends
 * close "MUST NOT process any further requests received on that connection"; the connection
 * lingers after such an answer (`lingerOnClose`) and node:http parsed and handed over a request
 * that came meanwhile, whose event was stored and never answered.
 *
 * @example
 * if (!takeRequest(req)) return req.resume();
 */
export function takeRequest(req: IncomingMessage): boolean {
  if (closing.has(req.socket)) return false;
  latest.set(req.socket, req);
  return true;
}

/**
 * Whether `req`'s body may still be arriving: the request is not complete and no later request
 * of its connection was handed over (the parser reads a connection in order, so a later one
 * means this body was read through). A request answered before its body is read closes its
 * connection; one whose body was read keeps it, so the pipelined requests already handed over
 * are answered rather than dropped after they were processed.
 *
 * @example
 * if (bodyMayBeArriving(req)) closeAfterAnswer(req);
 */
export function bodyMayBeArriving(req: IncomingMessage): boolean {
  return !req.complete && latest.get(req.socket) === req;
}

/**
 * Marks `req`'s connection as closing after the answer being written (which must carry
 * `Connection: close`): no request of it is processed any more, and while its body may still be
 * arriving it lingers (`lingerOnClose`). Call it before the answer is written.
 *
 * @example
 * closeAfterAnswer(req);
 * res.writeHead(400, { connection: "close", ... }).end(body);
 */
export function closeAfterAnswer(req: IncomingMessage): void {
  closing.add(req.socket);
  if (bodyMayBeArriving(req)) lingerOnClose(req);
}

/**
 * For a request the Hono routes answer, which may not read its body (a 404, a 401 on a webhook, a
 * 413 on `Content-Length`): if its connection is closed while that body is still arriving, the
 * close lingers (`lingerOnClose`) and no later request of the connection is processed. Hono's
 * Node adapter answers such a request `keep-alive`, reads on and drops the body for 0.5 s, then
 * closes the socket (`destroySoon`); with the upload still arriving, that close reset the
 * connection: the client's next write failed (EPIPE) and a client that reads only once its body
 * is sent lost the answer. A body that arrives within those 0.5 s keeps the connection.
 *
 * @example
 * closeIfBodyUnread(req);
 * void viaHono(req, res);
 */
export function closeIfBodyUnread(req: IncomingMessage): void {
  if (!hasBody(req)) return;
  const { socket } = req;
  lingerOnClose(req);
  const linger = socket.destroySoon;
  socket.destroySoon = function closingLinger() {
    // A request parsed after this would be processed and its answer written to a closed socket.
    closing.add(socket);
    linger.call(socket);
  };
}

/** Whether `req` declares a body (RFC 9112 6.3: a `Transfer-Encoding`, or a non-zero length). */
function hasBody(req: IncomingMessage): boolean {
  if (req.headers["transfer-encoding"] !== undefined) return true;
  const length = req.headers["content-length"];
  return length !== undefined && Number(length) !== 0;
}
