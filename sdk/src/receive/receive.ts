import { checkKnownOptions, type OptionNames } from "../known-options.js";
import { decodeBatch, decodeBinary, decodeStructured, modeOf } from "./decode-event.js";
import { checkCodings, readBody } from "./read-body.js";
import { UnsupportedMode } from "./receive-errors.js";
import type { ReceivedEvent } from "./received-event.js";
import { verifyWebhookSignature } from "./verify-signature.js";

/** Options of `receive` and `receiveBatch`. */
export interface ReceiveOptions {
  /**
   * The subscription's `delivery.signingSecret` (`whsec_...`, several space-separated during a
   * rotation). When set, every request must carry a valid Standard Webhooks signature. Given as
   * `undefined` (an unset variable: `{ signingSecret: env.SECRET }`) it is a `TypeError`, never
   * verification switched off by accident; leave the option out to take unsigned deliveries.
   */
  readonly signingSecret?: string | undefined;
  /** Largest accepted age (or lead) of `webhook-timestamp`, in seconds (default 300). */
  readonly toleranceSeconds?: number | undefined;
  /**
   * Largest body read, in bytes (default 64 MiB: a Herald batch delivery holds up to
   * `maxBatchSize` events of up to `limits.maxEventBytes` each, 100 x 256 KiB by default, and
   * in the JSON format an event can be larger than as it was sent: bytes become `data_base64`,
   * 4/3 as many; see `DEFAULT_MAX_BYTES`). A
   * larger one is refused with `MessageTooLarge` (413) before it is all in memory, and before any
   * signature check, which needs the whole body.
   */
  readonly maxBytes?: number | undefined;
  /** Clock in milliseconds (tests). */
  readonly now?: (() => number) | undefined;
}

/** The options `receive` and `receiveBatch` take. */
export const RECEIVE_OPTIONS = {
  signingSecret: true,
  toleranceSeconds: true,
  maxBytes: true,
  now: true,
} satisfies OptionNames<ReceiveOptions>;

/**
 * Refuses options that would weaken verification without a word: a key the function does not
 * take (a misspelt `signingsecret` would leave deliveries unchecked), and a `signingSecret` key
 * whose value is `undefined`: that is an unset variable (`{ signingSecret: env.SECRET }`), and
 * taking it as "no secret" would accept forged deliveries. Failing closed is what webhook
 * libraries do (a missing secret is an error).
 *
 * @example
 * checkReceiveOptions({ signingSecret: process.env.THUMBNAIL_SECRET }); // TypeError when unset
 */
export function checkReceiveOptions(
  options: ReceiveOptions,
  where = "receive",
  names: Readonly<Record<string, true>> = RECEIVE_OPTIONS,
): void {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${where}: options must be an object`);
  }
  checkKnownOptions(where, options, names);
  if (Object.hasOwn(options, "signingSecret") && options.signingSecret === undefined) {
    throw new TypeError(
      "signingSecret is undefined (an unset environment variable?): give the subscription's whsec_ secret, or leave the option out to accept unsigned deliveries",
    );
  }
}

/**
 * `ReceiveOptions.maxBytes` when not given: 64 MiB, above the largest delivery of a gateway on
 * its default limits, a batch of 100 events of 256 KiB, each in the JSON format: bytes sent in
 * binary mode are `data_base64` there, 4/3 as many (100 events of 256 KiB of bytes are a 35 MB
 * batch, over the 32 MiB this was), and text the JSON format escapes or UTF-8 widens (`"`,
 * ISO-8859-1 letters) up to twice. Refusing a delivery would dead-letter it.
 */
export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

async function verifiedBody(request: Request, options: ReceiveOptions): Promise<Uint8Array> {
  // The signature covers the exact bytes, so the body is read once, raw, and decoded from them.
  const { signingSecret, toleranceSeconds, now, maxBytes = DEFAULT_MAX_BYTES } = options;
  checkReceiveOptions(options);
  const body = await readBody(request, maxBytes);
  if (signingSecret !== undefined) {
    await verifyWebhookSignature({
      secrets: signingSecret,
      headers: request.headers,
      body,
      toleranceSeconds,
      nowMs: now?.(),
    });
  }
  checkCodings(request.headers);
  return body;
}

/**
 * Reads the CloudEvent of a delivery (a Web `Request` in binary or structured mode), after
 * verifying its Standard Webhooks signature when `signingSecret` is given. Rejects with a
 * `HeraldError` whose `status` is what to answer: `SignatureMissing`, `SignatureInvalid`,
 * `SignatureStale` (401), `MalformedMessage` (400), `MessageTooLarge` (413, over `maxBytes`),
 * `UnsupportedMode` (415, e.g. a batch, or a compressed body).
 *
 * @example
 * export default {
 *   async fetch(request: Request, env: Env) {
 *     let event: ReceivedEvent;
 *     try {
 *       event = await receive(request, { signingSecret: env.THUMBNAIL_SECRET });
 *     } catch (err) {
 *       if (err instanceof HeraldError) return problemResponse(err); // 401, 400, 413, 415
 *       throw err;
 *     }
 *     await makeThumbnail(event.dataref);
 *     return new Response(null, { status: 204 });
 *   },
 * };
 */
export async function receive<TData = unknown>(
  request: Request,
  options: ReceiveOptions = {},
): Promise<ReceivedEvent<TData>> {
  // The signature first (README): a forged or unsigned request is 401 whatever it holds, not a
  // 415 or 400 that answers for what the sender claims to have sent.
  const body = await verifiedBody(request, options);
  const contentType = request.headers.get("content-type") ?? undefined;
  const mode = modeOf(contentType ?? null);
  if (mode === "batch") {
    throw new UnsupportedMode(
      "this is a batch (application/cloudevents-batch+json): use receiveBatch",
    );
  }
  const event =
    mode === "binary" ? decodeBinary(request.headers, body) : decodeStructured(body, contentType);
  return event as ReceivedEvent<TData>;
}

/**
 * The events of a delivery in any mode, in order: a batch's events (HTTP binding 3.3), or the one
 * event of a binary or structured request. Verification and errors as for `receive`.
 *
 * @example
 * const events = await receiveBatch(request, { signingSecret });
 * for (const event of events) await handle(event);
 */
export async function receiveBatch<TData = unknown>(
  request: Request,
  options: ReceiveOptions = {},
): Promise<ReceivedEvent<TData>[]> {
  const body = await verifiedBody(request, options);
  const contentType = request.headers.get("content-type") ?? undefined;
  const mode = modeOf(contentType ?? null);
  const events =
    mode === "batch"
      ? decodeBatch(body, contentType)
      : [
          mode === "binary"
            ? decodeBinary(request.headers, body)
            : decodeStructured(body, contentType),
        ];
  return events as ReceivedEvent<TData>[];
}
