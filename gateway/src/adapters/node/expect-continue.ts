import type { IncomingMessage, ServerResponse } from "node:http";

const owed = new WeakMap<IncomingMessage, ServerResponse>();

/**
 * For node:http's `checkContinue` event: notes that `req` asked for `100 (Continue)` before it
 * sends its body (RFC 9110 10.1.1), and that no one has answered it yet. Node, left alone, sends
 * the 100 before any handler runs, so a publisher that asked precisely to learn of a refusal
 * first (413 on `Content-Length`, 415, 401, 403) was told to go on and uploaded the whole body
 * anyway. `sendContinue` sends it once the body is wanted; a request refused before that gets
 * its final answer only (RFC 9110 10.1.1: a server MAY answer with a final status instead).
 *
 * @example
 * server.on("checkContinue", (req, res) => { oweContinue(req, res); listener(req, res); });
 */
export function oweContinue(req: IncomingMessage, res: ServerResponse): void {
  owed.set(req, res);
}

/**
 * Sends the `100 (Continue)` owed to `req` (see `oweContinue`), if any and no answer has started:
 * call it right before reading the body. Does nothing for a request that did not ask.
 *
 * @example
 * sendContinue(req);
 * req.on("data", onData);
 */
export function sendContinue(req: IncomingMessage): void {
  const res = owed.get(req);
  if (res === undefined) return;
  owed.delete(req);
  if (!res.headersSent && !res.writableEnded) res.writeContinue();
}

/**
 * Sends the `100 (Continue)` owed to `req` (see `oweContinue`) when something first reads its
 * body, for code that reads it on its own terms: Hono's Node adapter turns the body into a stream
 * only when a handler asks for it, so a request refused on its headers (401, 403, 404, 413 on
 * `Content-Length`, 415) gets its final answer only, and one whose body is read gets the 100 as
 * the read starts. Does nothing for a request that did not ask.
 *
 * @example
 * continueOnRead(req);
 * void viaHono(req, res);
 */
export function continueOnRead(req: IncomingMessage): void {
  if (!owed.has(req)) return;
  // `_read` is how a Readable asks its source for data (node:stream's implementer API): the
  // first call, from whichever reader, is the moment the body is wanted.
  const read = req._read;
  req._read = function readOnceContinued(this: IncomingMessage, size: number) {
    req._read = read;
    sendContinue(req);
    return read.call(this, size);
  };
}
