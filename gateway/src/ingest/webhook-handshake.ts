/**
 * Answers the CloudEvents webhook abuse-protection handshake as a delivery target
 * (http-webhook.md section 4): an `OPTIONS` request with `WebHook-Request-Origin` gets
 * `WebHook-Allowed-Origin` (the origin, as this gateway accepts every origin; publishers are
 * authorised per request instead) and `WebHook-Allowed-Rate` (the requested rate, or `*` for no
 * limit, 4.2.2), plus `Allow` listing POST (4.2). A repeated origin is answered `*`.
 *
 * @example
 * webhookHandshake(new Request("http://gw/events", { method: "OPTIONS",
 *   headers: { "WebHook-Request-Origin": "eventemitter.example.com" } }))
 */
export function webhookHandshake(request: Request, allow: readonly string[]): Response {
  // RFC 9110 9.3.7: a 200 to OPTIONS without content MUST carry Content-Length: 0 (a null body
  // alone goes out chunked on Node).
  const headers = new Headers({ allow: allow.join(", "), "content-length": "0" });
  const origin = request.headers.get("webhook-request-origin");
  const rate = request.headers.get("webhook-request-rate");
  // 4.2.1: the one origin supplied, or "*". Repeated lines arrive joined ("a, b"), which is
  // neither, and a DNS name never holds a comma: grant every origin, as Herald does anyway.
  // Echoed only when it is printable ASCII (a DNS name is): the runtime hands other header
  // bytes over as Latin-1 characters and writes them back as their UTF-8, so a raw UTF-8
  // `café.example` went back as another byte string, neither the origin nor "*".
  const one = origin?.trim();
  headers.set("webhook-allowed-origin", one && ORIGIN.test(one) ? one : "*");
  headers.set(
    "webhook-allowed-rate",
    rate && /^[1-9][0-9]*$/.test(rate.trim()) ? rate.trim() : "*",
  );
  return new Response(null, { status: 200, headers });
}

/** One origin that can be echoed byte for byte: printable ASCII without a comma (4.1.2). */
const ORIGIN = /^[\x21-\x2b\x2d-\x7e]+$/;
