import { hideSecretParameters } from "../deliver/redact-secrets.js";
import type { Subscription } from "./subscription.js";

const encoder = new TextEncoder();
const REDACTED = "<redacted>";

/** A sink URL without its password and credential-like query values (as the API shows them). */
function withoutUrlSecrets(sink: string): string {
  if (!URL.canParse(sink)) return sink;
  const url = new URL(sink);
  if (url.password !== "") url.password = REDACTED;
  hideSecretParameters(url);
  return url.href;
}

/** The definition with every secret replaced: header values, signing secrets, URL credentials. */
function withoutSecrets(subscription: Subscription): Subscription {
  const { delivery, protocolsettings } = subscription;
  const headers = Object.fromEntries(
    Object.keys(protocolsettings.headers).map((name) => [name, REDACTED]),
  );
  return {
    ...subscription,
    sink: withoutUrlSecrets(subscription.sink),
    protocolsettings: { ...protocolsettings, headers },
    delivery: {
      ...delivery,
      ...(delivery.signingSecret === undefined ? {} : { signingSecret: REDACTED }),
      ...(delivery.deadLetterSink === undefined
        ? {}
        : { deadLetterSink: withoutUrlSecrets(delivery.deadLetterSink) }),
    },
  };
}

/**
 * The fingerprint of a subscription's definition: SHA-256 (hex) of its normalised JSON with every
 * secret replaced (header values, signing secrets, URL passwords and credential-like query
 * values), so a store that keeps it holds nothing a guess could be checked against. A disabled
 * config subscription remembers it, so a changed definition enables it, even across a restart
 * (Node) or a deploy (Workers); changing only a secret is not a new definition.
 *
 * @example
 * await definitionFingerprint(subscription); // "9f86d081884c7d65..."
 */
export async function definitionFingerprint(subscription: Subscription): Promise<string> {
  const json = JSON.stringify(withoutSecrets(subscription));
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(json));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
