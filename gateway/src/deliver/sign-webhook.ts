import { encodeBase64 } from "../event/event-data.js";

/** Prefix of a Standard Webhooks signing secret (spec "Signature scheme: symmetric"). */
export const SECRET_PREFIX = "whsec_";

/** What a signature covers and with which secrets. */
export interface SignInput {
  /** `webhook-id`: the message id, the same on every retry of a message. */
  readonly id: string;
  /** `webhook-timestamp`: integer seconds since the epoch. */
  readonly timestamp: number;
  /** The exact body bytes that go on the wire. */
  readonly body: Uint8Array;
  /** `delivery.signingSecret`: one or more `whsec_<base64>`, separated by spaces. */
  readonly secrets: string;
}

/** The three Standard Webhooks headers, names in lower case. */
export interface WebhookHeaders {
  readonly "webhook-id": string;
  readonly "webhook-timestamp": string;
  readonly "webhook-signature": string;
}

/** Signs one message; rejects with a `TypeError` when a secret is malformed. */
export type WebhookSigner = (input: SignInput) => Promise<WebhookHeaders>;

export interface WebhookSignerOptions {
  /** Imported keys kept for reuse (default 1024); the oldest is forgotten past that. */
  readonly maxKeys?: number;
}

// Standard base64; the padding may be left out (atob then checks the length).
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeBase64(encoded: string): Uint8Array<ArrayBuffer> | undefined {
  if (!BASE64.test(encoded)) return undefined;
  try {
    return Uint8Array.from(atob(encoded), (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * The key bytes of each secret in `secrets` (space-separated while one is rotated): the base64
 * after `whsec_`. Throws a `TypeError` that names the secret's position, never its text.
 *
 * @example
 * parseSigningSecrets("whsec_AQID whsec_BAUG"); // [Uint8Array [1, 2, 3], Uint8Array [4, 5, 6]]
 */
export function parseSigningSecrets(secrets: string): Uint8Array<ArrayBuffer>[] {
  const parts = secrets.split(/\s+/).filter((part) => part !== "");
  if (parts.length === 0) throw new TypeError("signingSecret is empty");
  return parts.map((part, index) => {
    const key = part.startsWith(SECRET_PREFIX)
      ? decodeBase64(part.slice(SECRET_PREFIX.length))
      : undefined;
    // WebCrypto refuses an empty HMAC key; say so here, where the position is known.
    if (key === undefined || key.length === 0) {
      throw new TypeError(
        `signingSecret ${index + 1} of ${parts.length} is not ${SECRET_PREFIX} followed by base64`,
      );
    }
    return key;
  });
}

const encoder = new TextEncoder();
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * A Standard Webhooks signer (spec "Signature scheme", version `v1`): HMAC-SHA256 with each
 * secret's key over `${id}.${timestamp}.` followed by the body bytes, base64; the
 * `webhook-signature` header lists `v1,<signature>` for every secret, space-separated, so a
 * receiver that knows either the old or the new secret during a rotation accepts the message.
 * Each secret's `CryptoKey` is imported once (`crypto.subtle`, any runtime) and reused.
 *
 * @example
 * const sign = createWebhookSigner();
 * await sign({ id: "msg_1", timestamp: 1700000000, body, secrets: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" });
 * // { "webhook-id": "msg_1", "webhook-timestamp": "1700000000", "webhook-signature": "v1,K5oZ..." }
 */
export function createWebhookSigner(options: WebhookSignerOptions = {}): WebhookSigner {
  const { maxKeys = 1024 } = options;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) {
    throw new TypeError("createWebhookSigner: maxKeys must be a positive integer");
  }
  // Keyed by the whole `signingSecret` text: parsing and importing happen once per setting.
  const keys = new Map<string, Promise<CryptoKey[]>>();

  function keysOf(secrets: string): Promise<CryptoKey[]> {
    let imported = keys.get(secrets);
    if (imported === undefined) {
      imported = Promise.resolve(secrets)
        .then(parseSigningSecrets)
        .then((raws) =>
          Promise.all(
            raws.map((raw) =>
              crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
                "sign",
              ]),
            ),
          ),
        );
      // A malformed secret is not cached: a corrected setting must not find the failure.
      const failed = imported;
      failed.catch(() => {
        if (keys.get(secrets) === failed) keys.delete(secrets);
      });
      if (keys.size >= maxKeys) {
        const oldest = keys.keys().next();
        if (oldest.done !== true) keys.delete(oldest.value);
      }
      keys.set(secrets, imported);
    }
    return imported;
  }

  return async function signWebhook({ id, timestamp, body, secrets }) {
    // Both go into a header and into the signed content: printable, no spaces, no surprises.
    if (!VISIBLE_ASCII.test(id)) throw new TypeError("webhook-id must be visible ASCII");
    if (!Number.isSafeInteger(timestamp)) {
      throw new TypeError("webhook-timestamp must be an integer");
    }
    const cryptoKeys = await keysOf(secrets);
    const prefix = encoder.encode(`${id}.${timestamp}.`);
    const content = new Uint8Array(prefix.length + body.length);
    content.set(prefix, 0);
    content.set(body, prefix.length);
    const signatures = await Promise.all(
      cryptoKeys.map(async (key) => {
        const mac = await crypto.subtle.sign("HMAC", key, content);
        return `v1,${encodeBase64(new Uint8Array(mac))}`;
      }),
    );
    return {
      "webhook-id": id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": signatures.join(" "),
    };
  };
}
