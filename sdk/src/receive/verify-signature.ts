import { decodeBase64 } from "../base64.js";
import { SignatureInvalid, SignatureMissing, SignatureStale } from "./receive-errors.js";

/** What `verifyWebhookSignature` needs: the secrets, the three headers, the raw body, a clock. */
export interface VerifyInput {
  /** One or more `whsec_<base64>` secrets, space-separated (during a rotation). */
  readonly secrets: string;
  readonly headers: Headers;
  readonly body: Uint8Array;
  /** Largest accepted distance between `webhook-timestamp` and now, in seconds (default 300). */
  readonly toleranceSeconds?: number | undefined;
  /** Now in milliseconds (default `Date.now()`). */
  readonly nowMs?: number | undefined;
}

const PREFIX = "whsec_";
const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey[]>>();

/**
 * The key bytes of each `whsec_<base64>` secret in `secrets` (space-separated). A malformed
 * secret is a configuration mistake: `TypeError`, naming its position, never its text.
 *
 * @example
 * parseSigningSecrets("whsec_AQID whsec_BAUG"); // [Uint8Array [1, 2, 3], Uint8Array [4, 5, 6]]
 */
export function parseSigningSecrets(secrets: string): Uint8Array<ArrayBuffer>[] {
  if (typeof secrets !== "string") throw new TypeError("signingSecret must be a string");
  const parts = secrets.split(/\s+/).filter((s) => s !== "");
  if (parts.length === 0) throw new TypeError("signingSecret is empty");
  return parts.map((part, i) => {
    const raw = part.startsWith(PREFIX) ? decodeBase64(part.slice(PREFIX.length)) : undefined;
    if (raw === undefined || raw.length === 0) {
      throw new TypeError(
        `signingSecret ${i + 1} of ${parts.length} is not whsec_ followed by base64`,
      );
    }
    return raw;
  });
}

/** Throws a `TypeError` unless `toleranceSeconds` is a finite number of seconds, 0 or more. */
export function checkToleranceSeconds(toleranceSeconds: number): void {
  if (
    typeof toleranceSeconds !== "number" ||
    !Number.isFinite(toleranceSeconds) ||
    toleranceSeconds < 0
  ) {
    throw new TypeError("toleranceSeconds must be a number of seconds >= 0");
  }
}

/** The HMAC keys of `secrets`, imported once per secrets string. */
function keysOf(secrets: string): Promise<CryptoKey[]> {
  let imported = keys.get(secrets);
  if (imported === undefined) {
    const raws = parseSigningSecrets(secrets);
    imported = Promise.all(
      raws.map((raw) =>
        crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
      ),
    );
    if (keys.size >= 64) keys.clear();
    keys.set(secrets, imported);
  }
  return imported;
}

/** Compares in time that depends on the length only, never on where the bytes differ. */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Verifies a Standard Webhooks signature (spec "Verifying webhook authenticity"): the
 * `webhook-timestamp` must be within `toleranceSeconds` of now (replays and stale messages are
 * refused), and one of the `v1,<base64>` signatures in `webhook-signature` must equal
 * HMAC-SHA256(`${id}.${timestamp}.` + body) under one of the secrets, compared in constant time.
 * Resolves with the `webhook-id` (a receiver can drop repeats by it); rejects with
 * `SignatureMissing`, `SignatureStale` or `SignatureInvalid`.
 *
 * @example
 * const body = new Uint8Array(await request.arrayBuffer());
 * await verifyWebhookSignature({ secrets: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers: request.headers, body });
 */
export async function verifyWebhookSignature(input: VerifyInput): Promise<string> {
  const { headers, body, toleranceSeconds = 300, nowMs = Date.now() } = input;
  checkToleranceSeconds(toleranceSeconds);
  const cryptoKeys = await keysOf(input.secrets);
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signature = headers.get("webhook-signature");
  if (id === null || timestamp === null || signature === null) {
    throw new SignatureMissing(
      "the request is not signed: webhook-id, webhook-timestamp and webhook-signature are required",
    );
  }
  if (!/^\d{1,15}$/.test(timestamp)) {
    throw new SignatureInvalid(
      `webhook-timestamp ${JSON.stringify(timestamp.slice(0, 20))} is not whole seconds since the epoch`,
    );
  }
  const seconds = Number(timestamp);
  if (!(Math.abs(nowMs / 1000 - seconds) <= toleranceSeconds)) {
    throw new SignatureStale(
      `webhook-timestamp ${JSON.stringify(timestamp.slice(0, 20))} is more than ${toleranceSeconds} s from now`,
    );
  }
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const content = new Uint8Array(prefix.length + body.length);
  content.set(prefix, 0);
  content.set(body, prefix.length);
  const expected = await Promise.all(
    cryptoKeys.map(async (key) => new Uint8Array(await crypto.subtle.sign("HMAC", key, content))),
  );
  // Space-separated (Standard Webhooks); two webhook-signature fields reach us joined by ", "
  // (RFC 9110 5.3), which leaves a comma at the end of all but the last field's last signature.
  const given = signature
    .split(/\s+/)
    .map((s) => (s.endsWith(",") ? s.slice(0, -1) : s))
    .filter((s) => s.startsWith("v1,"))
    .map((s) => decodeBase64(s.slice(3)))
    .filter((b) => b !== undefined);
  let matched = false;
  // Every pair is compared, so the time taken says nothing about which one matched.
  for (const mac of expected)
    for (const sig of given) matched = constantTimeEqual(mac, sig) || matched;
  if (!matched) throw new SignatureInvalid("no webhook-signature matches the signing secret");
  return id;
}
