const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * An HMAC-SHA256 key for `secret` (WebCrypto), imported once per adapter.
 *
 * @example
 * const key = await hmacSha256Key(config.secret);
 */
export function hmacSha256Key(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

/**
 * True when `hex` (64 hex digits) is the HMAC-SHA256 of `body`. `crypto.subtle.verify` compares
 * in constant time, so the answer time does not tell how much of a forged signature was right.
 *
 * @example
 * await verifyHmacHex(key, "5257a869...", body);
 */
export async function verifyHmacHex(
  key: CryptoKey,
  hex: string,
  body: Uint8Array,
): Promise<boolean> {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return false;
  const signature = new Uint8Array(32);
  for (let i = 0; i < 32; i++) signature[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return crypto.subtle.verify("HMAC", key, signature, body as Uint8Array<ArrayBuffer>);
}

/**
 * Compares a presented token with the configured one in constant time: both are hashed
 * (SHA-256) and the digests compared byte by byte without an early exit, so neither the position
 * of the first difference nor the secret's length shows in the timing.
 *
 * @example
 * await tokensEqual(request.header("x-gitlab-token") ?? "", config.secret);
 */
export async function tokensEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(presented)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let difference = 0;
  for (let i = 0; i < x.length; i++) difference |= x[i]! ^ y[i]!;
  return difference === 0;
}

/**
 * A header's value as the text its sender wrote in UTF-8. Header values are bytes, and Node hands
 * them over as Latin-1, one character per byte: a secret token GitLab sent as UTF-8 (`café`)
 * arrived as `cafÃ©` and never equalled the configured secret, so every delivery was 401. A value
 * of bytes (characters up to U+00FF) that are valid UTF-8, with one above 0x7F, is decoded;
 * any other (plain ASCII, a runtime that already decoded it, Latin-1 text) is kept as it is.
 *
 * @example
 * headerUtf8("caf\u00c3\u00a9"); // "café"
 */
export function headerUtf8(value: string): string {
  const codes = Array.from(value, (c) => c.charCodeAt(0));
  if (!codes.some((code) => code > 0x7f) || codes.some((code) => code > 0xff)) return value;
  try {
    return utf8.decode(Uint8Array.from(codes));
  } catch {
    return value;
  }
}
