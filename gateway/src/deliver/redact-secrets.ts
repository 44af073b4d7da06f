import type { Subscription } from "../subscriptions/subscription.js";

/** What replaces a secret found in failure text. */
export const REDACTED = "[redacted]";

// Shorter values are too likely to be ordinary words ("json", "true") to be worth hiding.
const MIN_SECRET_LENGTH = 8;

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function secretsOf(subscription: Subscription): string[] {
  const secrets: string[] = Object.values(subscription.protocolsettings.headers);
  for (const secret of subscription.delivery.signingSecret?.split(/\s+/) ?? []) {
    secrets.push(secret, secret.replace(/^whsec_/, ""));
  }
  for (const sink of [subscription.sink, subscription.delivery.deadLetterSink]) {
    if (sink !== undefined && URL.canParse(sink)) {
      const { password } = new URL(sink);
      if (password !== "") secrets.push(password, safeDecode(password));
    }
  }
  // Longest first, so a secret that contains another is hidden whole.
  return secrets.filter((s) => s.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length);
}

/**
 * Failure text with the subscription's secrets hidden: its `protocolsettings` header values (an
 * `Authorization` token), its signing secrets and the passwords in its sink URLs. A sink that
 * echoes the request back in an error body must not put them into logs, the dead set or a
 * dead-letter event (DESIGN.md: never a token or secret in a log).
 *
 * @example
 * redactSecrets("bad token Bearer abcdefgh123", subscription); // "bad token [redacted]"
 */
export function redactSecrets(text: string, subscription: Subscription): string {
  let redacted = text;
  for (const secret of secretsOf(subscription)) {
    if (redacted.includes(secret)) redacted = redacted.split(secret).join(REDACTED);
  }
  return redacted;
}
