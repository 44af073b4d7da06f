import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Requests of one connection handled at once, at most. HTTP/1.1 lets a client pipeline requests
 * without waiting for answers; node:http parses them all and stops reading only once answers
 * pile up unsent, but an ingest answers nothing until its event is stored, so a connection
 * sending 60,000 pipelined requests had them all in memory at once (1.2 GB).
 */
export const MAX_PIPELINED_REQUESTS = 16;

interface ConnectionState {
  inFlight: number;
  stopped: boolean;
}

const stateOf = Symbol("herald.pipeline");

/**
 * The parts of a server socket this reaches: node:http's parser reads the libuv stream
 * (`_handle`) directly, so `socket.pause()` does not stop it; `reading` is the flag node:http's
 * own pause and resume keep beside it, and `_paused` says node:http itself holds the socket.
 */
type Tracked = IncomingMessage["socket"] & {
  [stateOf]?: ConnectionState;
  _handle?: { reading?: boolean; readStop(): number; readStart(): number } | null;
  _paused?: boolean;
};

/**
 * Counts `req` as waiting on its connection until `res` closes (answered, or the connection is
 * gone), when it is pipelined: node:http gives the response of a request that arrived while an
 * earlier answer is unfinished no socket yet (it queues it), and one that did not costs nothing
 * here. Past `max` such requests at once the connection stops being read, and it is read again once answers
 * bring it back to `max`. Requests before the one that went over are whole (the parser reads a
 * connection in order), so they end without reading more and nothing waits on itself. The bound
 * is approximate: a read that carries several requests is parsed whole first, and node:http may
 * start reading again on its own (after a drain, or a body's pause and resume) until the next
 * pipelined request stops it again; memory stays bounded per connection. Node's own hold
 * (answers unsent, `_paused`) is left to Node to lift.
 *
 * @example
 * const server = createServer((req, res) => { limitPipelining(req, res); handle(req, res); });
 */
export function limitPipelining(
  req: IncomingMessage,
  res: ServerResponse,
  max = MAX_PIPELINED_REQUESTS,
): void {
  // Not pipelined (the usual case: one request at a time per connection): nothing to count.
  if (res.socket !== null) return;
  const socket = req.socket as Tracked;
  let state = socket[stateOf];
  if (state === undefined) {
    state = { inFlight: 0, stopped: false };
    socket[stateOf] = state;
  }
  const connection = state;
  connection.inFlight++;
  if (connection.inFlight > max) {
    connection.stopped = true;
    const handle = socket._handle;
    if (handle) {
      handle.reading = false;
      handle.readStop();
    }
  }
  res.once("close", () => {
    connection.inFlight--;
    if (!connection.stopped || connection.inFlight > max) return;
    connection.stopped = false;
    const handle = socket._handle;
    if (handle && !socket._paused && !socket.destroyed) {
      handle.reading = true;
      handle.readStart();
    }
  });
}
