import type { MsgHdrs } from "@nats-io/transport-node";
import { PayloadTooLarge } from "../../errors/errors.js";
import type { EncodedMessage } from "./nats-job-codec.js";

/**
 * Bytes of each message kept free for what a job adds to its event later: its id, attempts and
 * due time, and the last failure (up to 1024 bytes of text, JSON-escaped and percent-encoded:
 * up to 6 bytes each), plus the msg id. Without it an event that just fits would be stored and
 * then fail every retry or dead-lettering, its job handed out again until JetStream gave up.
 */
export const DELIVERY_STATE_BYTES = 8_192;

/**
 * Refuses an event whose message would not fit the server's `max_payload` (default 1 MiB), with
 * room for the delivery state (`DELIVERY_STATE_BYTES`): a `PayloadTooLarge` (413), as sending it
 * again never fits, instead of the client's error becoming a 503 that asks for a retry. `index`
 * is the event's place in a batch (for the problem's `index`).
 *
 * @example
 * checkFitsNats(encodeEventMessage(event), nc.info?.max_payload);
 */
export function checkFitsNats(
  message: EncodedMessage,
  maxPayload: number | undefined,
  index?: number,
): void {
  if (maxPayload === undefined) return;
  const limit = maxPayload - DELIVERY_STATE_BYTES;
  const bytes = headerBytes(message.headers) + message.data.length;
  if (bytes <= limit) return;
  throw new PayloadTooLarge(
    `the event takes ${bytes} bytes as a NATS message (its attributes as headers, its data as ` +
      `the payload); the NATS server takes ${maxPayload} (its max_payload), of which ` +
      `${DELIVERY_STATE_BYTES} are kept for the delivery state, so at most ${limit}`,
    limit,
    index,
  );
}

/** The headers' size on the wire: `NATS/1.0`, a `name: value` line each, CRLFs (ADR-4). */
function headerBytes(headers: MsgHdrs): number {
  let bytes = "NATS/1.0\r\n\r\n".length;
  for (const [name, values] of headers) {
    for (const value of values) bytes += Buffer.byteLength(`\r\n${name}: ${value}`);
  }
  return bytes;
}
