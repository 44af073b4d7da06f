import { encodeRaw, type RawRequest, type RawResponse } from "./raw-http.js";

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
  "backup_in_progress",
  "backup_no_room",
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
  const tokenInUrl = /[?&]access_token=[^&]/.test(req.target);
  // README, "Authentication": a 202/204 to a request with the token in the URL is private.
  if (
    (res.status === 202 || res.status === 204) &&
    tokenInUrl &&
    !/\b(private|no-store)\b/.test(res.headers.get("cache-control") ?? "")
  ) {
    out.push(`${res.status} to a token in the URL without Cache-Control: private`);
  }
  if (res.status < 400) return out;
  const header = (name: string) => res.headers.get(name) ?? "";
  if (res.status === 405 && header("allow") === "") out.push("405 without Allow");
  if ((res.status === 429 || res.status === 503) && header("retry-after") === "")
    out.push(`${res.status} without Retry-After`);
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
  if (doc.type !== `urn:herald:problem:${String(doc.code)}`)
    out.push(`type ${JSON.stringify(doc.type)} for code ${String(doc.code)}`);
  // DESIGN.md, "HTTP surface": 401 for a token with WWW-Authenticate: Bearer; invalid events name
  // their attributes. README "Errors": 403 forbidden says insufficient_scope.
  if (
    (doc.code === "missing_token" || doc.code === "invalid_token") &&
    !/^Bearer\b/.test(header("www-authenticate"))
  ) {
    out.push(
      `${String(doc.code)} with WWW-Authenticate ${JSON.stringify(header("www-authenticate"))}`,
    );
  }
  const bearer = /^Bearer\s/i.test(headerOf(req, "authorization")) || tokenInUrl;
  if (
    doc.code === "forbidden" &&
    bearer &&
    !/insufficient_scope/.test(header("www-authenticate"))
  ) {
    out.push(
      `forbidden to a bearer token with WWW-Authenticate ${JSON.stringify(header("www-authenticate"))}`,
    );
  }
  if (
    doc.code === "invalid_event" &&
    (!Array.isArray(doc.attributes) || !Array.isArray(doc.errors))
  ) {
    out.push("invalid_event without attributes and errors");
  }
  return out;
}

function headerOf(req: RawRequest, name: string): string {
  return req.headers.find(([n]) => n.toLowerCase() === name)?.[1] ?? "";
}

/** What in an answer's body shows the gateway's insides: a stack frame, a source path. */
const INSIDES = [
  /\n\s+at\s/,
  /\bat [^\s"]+ \([^)]*:\d+:\d+\)/,
  /node:internal/,
  /file:\/\//,
  /\/(src|dist)\/[\w/.-]+\.[jt]s\b/,
  /node_modules/,
  /\b(TypeError|RangeError|ReferenceError|SyntaxError): /,
];

/**
 * What an answer gives away (empty: nothing): a stack trace or a source path, or any of
 * `secrets` (adapter secrets, tokens, key material) in its body or headers that the request did
 * not carry itself. The `200` of
 * `GET /store/backup` is the store itself, so its body is not looked at.
 */
export function leakProblems(
  req: RawRequest,
  res: RawResponse,
  secrets: readonly string[],
): string[] {
  const out: string[] = [];
  const backup = res.status === 200 && req.target.startsWith("/store/backup");
  const body = backup ? "" : res.body.toString("latin1");
  const headers = [...res.headers].map(([n, v]) => `${n}: ${v}`).join("\n");
  for (const pattern of INSIDES) {
    if (pattern.test(body)) out.push(`${res.status} body shows ${pattern}: ${body.slice(0, 300)}`);
  }
  const sent = encodeRaw(req).toString("latin1");
  for (const secret of secrets) {
    // What the request carried itself may come back (a path echoed in a 404's detail).
    if (secret.length < 8 || sent.includes(secret)) continue;
    if (body.includes(secret) || headers.includes(secret))
      out.push(`${res.status} gives away a secret (${secret.slice(0, 6)}...)`);
  }
  return out;
}
