import type { Subscription } from "./subscription.js";

const encoder = new TextEncoder();

/**
 * The fingerprint of a subscription's definition: SHA-256 (hex) of its normalised JSON, the form
 * a config reload compares. A hash, so a store keeps no secret of the definition. A disabled
 * config subscription remembers it, so a changed definition enables it, even across a restart
 * (Node) or a deploy (Workers).
 *
 * @example
 * await definitionFingerprint(subscription); // "9f86d081884c7d65..."
 */
export async function definitionFingerprint(subscription: Subscription): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    encoder.encode(JSON.stringify(subscription)),
  );
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
