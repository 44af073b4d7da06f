import type { MiddlewareHandler } from "hono";
import { HeraldError } from "../errors.js";
import type { OptionNames } from "../known-options.js";
import { problemResponse } from "./problem-response.js";
import { checkMaxBytes } from "./read-body.js";
import {
  checkReceiveOptions,
  RECEIVE_OPTIONS,
  type ReceiveOptions,
  receive,
  receiveBatch,
} from "./receive.js";
import type { ReceivedEvent } from "./received-event.js";
import { checkToleranceSeconds, parseSigningSecrets } from "./verify-signature.js";

/** Context variables the middleware sets. */
export interface ReceiverVariables {
  /** The event (without `batch`). */
  cloudevent: ReceivedEvent;
  /** The events (with `batch: true`). */
  cloudevents: ReceivedEvent[];
}

/** Options of `heraldReceiver`. */
export interface HeraldReceiverOptions extends ReceiveOptions {
  /** Read batches too (`receiveBatch`) and set `cloudevents` instead of `cloudevent`. */
  readonly batch?: boolean | undefined;
}

const HERALD_RECEIVER_OPTIONS = {
  ...RECEIVE_OPTIONS,
  batch: true,
} satisfies OptionNames<HeraldReceiverOptions>;

/**
 * Hono middleware for a sink: verifies and decodes the delivery (`receive`, or `receiveBatch`
 * with `batch: true`) and puts the event in `c.get("cloudevent")` (or the list in
 * `c.get("cloudevents")`). A refused request is answered at once with its status
 * (401, 400, 413, 415) and an RFC 9457 problem document; the gateway does not retry 4xx, so a forged request costs
 * nothing more. hono is an optional peer dependency; only its types are used.
 *
 * @example
 * const app = new Hono<{ Variables: ReceiverVariables }>();
 * app.post("/thumbnails", heraldReceiver({ signingSecret: process.env.THUMBNAIL_SECRET }), (c) => {
 *   const event = c.get("cloudevent");
 *   return c.body(null, 204);
 * });
 */
export function heraldReceiver(
  options: HeraldReceiverOptions = {},
): MiddlewareHandler<{ Variables: ReceiverVariables }> {
  const { batch = false, ...receiveOptions } = options;
  // A malformed setting is found now, at start-up, not as a 500 to every delivery.
  checkReceiveOptions(options, "heraldReceiver", HERALD_RECEIVER_OPTIONS);
  if (options.signingSecret !== undefined) parseSigningSecrets(options.signingSecret);
  if (options.maxBytes !== undefined) checkMaxBytes(options.maxBytes);
  if (options.toleranceSeconds !== undefined) checkToleranceSeconds(options.toleranceSeconds);
  return async function heraldReceiverMiddleware(c, next) {
    try {
      if (batch) c.set("cloudevents", await receiveBatch(c.req.raw, receiveOptions));
      else c.set("cloudevent", await receive(c.req.raw, receiveOptions));
    } catch (err) {
      if (!(err instanceof HeraldError)) throw err;
      return problemResponse(err);
    }
    await next();
  };
}
