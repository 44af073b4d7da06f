/**
 * @herald/sdk/receive: the sink side. Read the CloudEvents Herald delivers (binary, structured
 * and batch mode) from a Web `Request`, verifying Standard Webhooks signatures; a Hono middleware.
 *
 * @example
 * import { receive } from "@herald/sdk/receive";
 * const event = await receive(request, { signingSecret: process.env.THUMBNAIL_SECRET });
 */

export { HeraldError, type HeraldErrorCode } from "../errors.js";
export { answerWebhookHandshake, type HandshakeOptions } from "./answer-handshake.js";
export {
  type HeraldReceiverOptions,
  heraldReceiver,
  type ReceiverVariables,
} from "./hono-receiver.js";
export { problemResponse } from "./problem-response.js";
export { type ReceiveOptions, receive, receiveBatch } from "./receive.js";
export {
  MalformedMessage,
  MessageTooLarge,
  SignatureInvalid,
  SignatureMissing,
  SignatureStale,
  UnsupportedMode,
} from "./receive-errors.js";
export type { ReceivedEvent } from "./received-event.js";
export {
  parseSigningSecrets,
  type VerifyInput,
  verifyWebhookSignature,
} from "./verify-signature.js";
