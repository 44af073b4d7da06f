import { importX509 } from "jose";
import { PayloadTooLarge, Unavailable } from "../errors/errors.js";
import { fetchKeepingAbort } from "../http/fetch-keeping-abort.js";
import { readStreamCapped } from "../ingest/read-body.js";
import type { FetchLike } from "../ports/fetch.js";
import { InvalidSignature } from "./webhook-errors.js";

/** SNS `SignatureVersion` 1 signs with SHA1withRSA, 2 with SHA256withRSA. */
export type SnsHash = "SHA-1" | "SHA-256";

/** Public keys of SNS signing certificates, fetched once per URL. */
export interface SnsCertificates {
  /** The certificate's RSA key for `hash`; 401 when it is not a certificate, 503 when unreachable. */
  key(url: string, hash: SnsHash): Promise<CryptoKey>;
}

const SCHEME = "x-amz-sns-signature";
/** Certificates kept; SNS signs with few, and a new one comes with a new URL. */
const MAX_CACHED = 32;
/** A signing certificate is about 2 KB of PEM. */
const MAX_PEM_BYTES = 16_384;

/**
 * Fetches SNS signing certificates (PEM X.509) through `fetch` and keeps their public keys
 * (SubjectPublicKeyInfo) by URL, so a topic's steady stream of messages costs one fetch. Only
 * successes are kept: a failed fetch is tried again with the next message. The caller checks the
 * URL is trusted first (`snsUrlTrusted`).
 *
 * @example
 * const certificates = createSnsCertificates({ fetch: (r) => fetch(r) });
 * const key = await certificates.key(message.SigningCertURL, "SHA-256");
 */
export function createSnsCertificates(options: {
  readonly fetch: FetchLike;
  readonly timeoutMs?: number;
}): SnsCertificates {
  const { fetch, timeoutMs = 5_000 } = options;
  const spkis = new Map<string, Promise<ArrayBuffer>>();
  const keys = new Map<string, Promise<CryptoKey>>();

  async function download(url: string): Promise<ArrayBuffer> {
    let response: Response;
    try {
      response = await fetchKeepingAbort(
        fetch,
        new Request(url, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) }),
      );
    } catch {
      throw new Unavailable("the SNS signing certificate cannot be fetched now", 5);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      // A trusted host that has no such certificate: the message names one SNS never used.
      throw new InvalidSignature(SCHEME, "SigningCertURL does not name an SNS certificate");
    }
    // Read no further than a certificate can be (a body that never ends held the request and
    // grew in memory until the timeout), and a body that breaks off is the host's passing
    // fault, 503 for SNS to retry, not an unexpected error (it was a 500).
    let text: string;
    try {
      text = new TextDecoder().decode(await readStreamCapped(response.body, MAX_PEM_BYTES));
    } catch (err) {
      if (err instanceof PayloadTooLarge) {
        throw new InvalidSignature(SCHEME, "SigningCertURL does not name an SNS certificate");
      }
      throw new Unavailable("the SNS signing certificate cannot be fetched now", 5);
    }
    try {
      const key = await importX509(text.trim(), "RS256", { extractable: true });
      return await crypto.subtle.exportKey("spki", key);
    } catch {
      throw new InvalidSignature(SCHEME, "SigningCertURL does not hold an RSA X.509 certificate");
    }
  }

  return {
    async key(url, hash) {
      const cacheKey = `${hash} ${url}`;
      let key = keys.get(cacheKey);
      if (key === undefined) {
        let spki = spkis.get(url);
        if (spki === undefined) {
          spki = download(url);
          remember(spkis, url, spki);
        }
        key = spki.then((der) =>
          crypto.subtle.importKey("spki", der, { name: "RSASSA-PKCS1-v1_5", hash }, false, [
            "verify",
          ]),
        );
        remember(keys, cacheKey, key);
      }
      return key;
    },
  };
}

/** Keeps `value` under `key` while it succeeds; the oldest entry goes when the cache is full. */
function remember<T>(cache: Map<string, Promise<T>>, key: string, value: Promise<T>): void {
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(key, value);
  value.catch(() => {
    if (cache.get(key) === value) cache.delete(key);
  });
}
