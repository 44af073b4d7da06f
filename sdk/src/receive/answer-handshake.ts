/** Options of `answerWebhookHandshake`. */
export interface HandshakeOptions {
  /**
   * The senders (`WebHook-Request-Origin`) this sink takes deliveries from, or `"*"` for any
   * (default `["herald"]`, what Herald sends).
   */
  readonly origins?: readonly string[] | "*" | undefined;
  /** The most requests per minute granted (`WebHook-Allowed-Rate`); default no limit. */
  readonly maxRate?: number | undefined;
}

const POSITIVE_INTEGER = /^[1-9][0-9]*$/;

/**
 * Answers the CloudEvents webhook abuse-protection handshake (http-webhook.md 4) as a delivery
 * target: the `OPTIONS` request Herald sends before the first delivery of a subscription with
 * `delivery.handshake: true`. An allowed `WebHook-Request-Origin` gets `WebHook-Allowed-Origin`
 * (4.2.1) and `WebHook-Allowed-Rate` (4.2.2: the rate asked for, at most `maxRate`, or `*`);
 * any other request gets neither, which is no consent whatever the status (4.2). `Allow` lists
 * POST (4.2). Without an answer, Herald retries the deliveries and then dead-letters them. A
 * request that is not `OPTIONS` (a delivery routed here by mistake) is 405, never a 2xx that
 * would tell the gateway it was delivered.
 *
 * @example
 * app.options("/thumbnail", (c) => answerWebhookHandshake(c.req.raw));
 */
export function answerWebhookHandshake(request: Request, options: HandshakeOptions = {}): Response {
  const { origins = ["herald"], maxRate } = options;
  if (maxRate !== undefined && !(Number.isInteger(maxRate) && maxRate >= 1)) {
    throw new TypeError("answerWebhookHandshake: maxRate must be an integer >= 1 (per minute)");
  }
  // `origins: "herald"` (a string, in JavaScript) failed as "origins.some is not a function" on
  // every handshake: a 500, and the subscription's deliveries dead-lettered.
  if (origins !== "*" && !(Array.isArray(origins) && origins.every((o) => typeof o === "string"))) {
    throw new TypeError(
      'answerWebhookHandshake: origins must be an array of origin names (["herald"]) or "*"',
    );
  }
  // Any other method here is a delivery routed to the handshake by mistake (`app.all`): a 2xx
  // would tell Herald it was delivered, and the event would be lost. A 405 dead-letters it.
  if (request.method !== "OPTIONS") {
    return new Response(null, { status: 405, headers: { allow: "OPTIONS" } });
  }
  const headers = new Headers({ allow: "POST, OPTIONS" });
  const origin = request.headers.get("webhook-request-origin")?.trim() ?? "";
  // The origin is a DNS expression (4.1.2), and DNS names compare without case (RFC 4343).
  const name = origin.toLowerCase();
  const allowed =
    name !== "" &&
    (origins === "*" || origins.some((allowedOrigin) => allowedOrigin.toLowerCase() === name));
  if (allowed) {
    const asked = request.headers.get("webhook-request-rate")?.trim() ?? "";
    const wanted = POSITIVE_INTEGER.test(asked) ? asked : undefined;
    const rate =
      maxRate === undefined
        ? (wanted ?? "*")
        : String(Math.min(Number(wanted ?? maxRate), maxRate));
    headers.set("webhook-allowed-origin", origin);
    headers.set("webhook-allowed-rate", rate);
  }
  return new Response(null, { status: 204, headers });
}
