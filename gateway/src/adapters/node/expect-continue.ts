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
