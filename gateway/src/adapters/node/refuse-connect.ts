import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { MethodNotAllowed } from "../../errors/errors.js";
import { answerOnSocket } from "./answer-client-error.js";

/** Every method some route of the gateway answers. */
const SERVED = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"] as const;

/**
 * The answer to a `CONNECT` (RFC 9110 9.3.6): the gateway is no proxy, so 405
 * `method_not_allowed` as a problem document, then the connection is closed. node:http hands a
 * CONNECT to its `connect` event, and with no listener there it dropped the connection without a
 * word, as if the gateway had crashed.
 *
 * @example
 * server.on("connect", refuseConnect);
 */
export function refuseConnect(_req: IncomingMessage, socket: Duplex): void {
  socket.on("error", () => socket.destroy());
  answerOnSocket(socket, new MethodNotAllowed("CONNECT", SERVED));
}
