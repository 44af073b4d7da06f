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

/**
 * Query parameter names that carry credentials in webhook URLs (`?token=`, `?api_key=`, `?sig=`,
 * `?code=` as Azure Functions use it): their values are treated as secrets.
 */
const SECRET_PARAMETER = /token|secret|passw|key|signature|^sig$|auth|^code$/i;

/** Whether a query parameter of this (decoded) name carries a credential (`token`, `code`, ...). */
export function isSecretParameter(name: string): boolean {
  return SECRET_PARAMETER.test(name);
}

/** The values of a sink URL's credential-like query parameters, as written and decoded. */
export function secretParameterValues(sink: string): string[] {
  if (!URL.canParse(sink)) return [];
  const values: string[] = [];
  for (const [name, value] of new URL(sink).searchParams) {
    if (SECRET_PARAMETER.test(name) && value !== "") values.push(value, encodeURIComponent(value));
  }
  return values;
}

/**
 * The credential-like query parameters of a sink URL as written (`api_key=K123`), whatever the
 * length of their values: a sink that echoes its request URL shows them like that, and a short
 * value is still a secret there, where the name says what it is.
 */
function secretParameterPairs(sink: string): string[] {
  if (!URL.canParse(sink)) return [];
  const pairs: string[] = [];
  for (const pair of new URL(sink).search.slice(1).split("&")) {
    const at = pair.indexOf("=");
    if (at > 0 && at < pair.length - 1 && SECRET_PARAMETER.test(safeDecode(pair.slice(0, at)))) {
      pairs.push(pair);
    }
  }
  return pairs;
}

/**
 * Replaces the values of a URL's credential-like query parameters with `redacted`, in place
 * (for `heralderrordest`); other parameters and the path are kept. Says whether it changed any.
 *
 * @example
 * const url = new URL("https://hooks.example.com/in?token=abc123&team=a");
 * hideSecretParameters(url); // true; url.href: "https://hooks.example.com/in?token=redacted&team=a"
 */
export function hideSecretParameters(url: URL): boolean {
  let changed = false;
  for (const name of new Set(url.searchParams.keys())) {
    if (SECRET_PARAMETER.test(name)) {
      url.searchParams.set(name, "redacted");
      changed = true;
    }
  }
  return changed;
}

/**
 * What to replace in failure text, in order: the credential-like `name=value` pairs of the sink
 * URLs (kept named), then every secret value of the subscription, longest first (so a secret
 * that contains another is hidden whole).
 */
function replacementsOf(subscription: Subscription): [string, string][] {
  const pairs: [string, string][] = [];
  const secrets: string[] = Object.values(subscription.protocolsettings.headers);
  for (const secret of subscription.delivery.signingSecret?.split(/\s+/) ?? []) {
    secrets.push(secret, secret.replace(/^whsec_/, ""));
  }
  for (const sink of [subscription.sink, subscription.delivery.deadLetterSink]) {
    if (sink === undefined || !URL.canParse(sink)) continue;
    for (const pair of secretParameterPairs(sink)) {
      pairs.push([pair, `${pair.slice(0, pair.indexOf("="))}=${REDACTED}`]);
    }
    const { password } = new URL(sink);
    if (password !== "") secrets.push(password, safeDecode(password));
    secrets.push(...secretParameterValues(sink));
  }
  const values = secrets
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length)
    .map((secret): [string, string] => [secret, REDACTED]);
  return [...pairs, ...values];
}

/**
 * Failure text with the subscription's secrets hidden: its `protocolsettings` header values (an
 * `Authorization` token), its signing secrets, and the passwords and credential-like query
 * parameter values (`?token=...`; as `name=value` pairs whatever their length) in its sink URLs. A sink that
 * echoes the request back in an error body must not put them into logs, the dead set or a
 * dead-letter event (DESIGN.md: never a token or secret in a log).
 *
 * @example
 * redactSecrets("bad token Bearer abcdefgh123", subscription); // "bad token [redacted]"
 */
export function redactSecrets(text: string, subscription: Subscription): string {
  let redacted = text;
  for (const [secret, replacement] of replacementsOf(subscription)) {
    if (redacted.includes(secret)) redacted = redacted.split(secret).join(replacement);
  }
  return redacted;
}
