import type { RawRequest, RawResponse } from "./raw-http.js";

/** Every `code` the README's error tables name. */
export const KNOWN_CODES: ReadonlySet<string> = new Set([
  "invalid_event",
  "malformed_request",
  "not_found",
  "conflict",
  "method_not_allowed",
  "payload_too_large",
  "batch_too_large",
  "request_timeout",
  "headers_too_large",
  "unsupported_media_type",
  "invalid_request",
  "invalid_subscription",
  "missing_token",
  "invalid_token",
  "forbidden",
  "invalid_payload",
  "invalid_signature",
  "rate_limited",
  "unavailable",
  "keys_unavailable",
]);

/**
 * What is wrong with an answer, by the brief's per-request invariants (empty: nothing): no 5xx
 * but a 503 with `Retry-After`; every 4xx an RFC 9457 problem with a known `code` and its own
 * status. `status` 0 (closed without an answer) is allowed only for bytes that are not HTTP a
 * server can answer (`raw` requests).
 */
export function answerProblems(req: RawRequest, res: RawResponse): string[] {
  const out: string[] = [];
  if (res.status === 0) {
    if (req.raw === undefined) out.push("connection closed without an answer");
    return out;
  }
  if (res.status >= 500 && !(res.status === 503 && res.headers.has("retry-after"))) {
    out.push(`status ${res.status}: ${res.body.toString("utf8").slice(0, 300)}`);
  }
  if (res.status < 400) return out;
  const type = res.headers.get("content-type") ?? "";
  if (!/^application\/problem\+json\b/i.test(type))
    out.push(`${res.status} with content-type "${type}"`);
  if (req.method === "HEAD") return out;
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(res.body.toString("utf8")) as Record<string, unknown>;
  } catch {
    out.push(
      `${res.status} body is not JSON: ${JSON.stringify(res.body.toString("latin1").slice(0, 200))}`,
    );
    return out;
  }
  if (typeof doc.code !== "string" || !KNOWN_CODES.has(doc.code))
    out.push(`unknown code ${JSON.stringify(doc.code)}`);
  if (doc.status !== res.status)
    out.push(`problem status ${String(doc.status)} on a ${res.status}`);
  if (typeof doc.title !== "string" || typeof doc.detail !== "string")
    out.push("problem without title/detail");
  return out;
}
