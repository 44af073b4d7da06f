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
    if (sink !== undefined) collectUrlSecrets(sink, pairs, secrets);
  }
  return ordered(pairs, secrets);
}

/** Adds a URL's credential-like `name=value` pairs and its secret values (password, query). */
function collectUrlSecrets(url: string, pairs: [string, string][], secrets: string[]): void {
  if (!URL.canParse(url)) return;
  for (const pair of secretParameterPairs(url)) {
    pairs.push([pair, `${pair.slice(0, pair.indexOf("="))}=${REDACTED}`]);
  }
  const { password } = new URL(url);
  if (password !== "") secrets.push(password, safeDecode(password));
  secrets.push(...secretParameterValues(url));
}

function ordered(pairs: [string, string][], secrets: readonly string[]): [string, string][] {
  const values = secrets
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length)
    .map((secret): [string, string] => [secret, REDACTED]);
  return [...pairs, ...values];
}

function replaceAll(text: string, replacements: readonly [string, string][]): string {
  let redacted = text;
  for (const [secret, replacement] of replacements) {
    if (redacted.includes(secret)) redacted = redacted.split(secret).join(replacement);
  }
  return redacted;
}

/**
 * A URL as failure text may show it: without userinfo (`user:password@`), and with the values of
 * credential-like query parameters (`?token=`, `?api_key=`) replaced by `redacted`; other
 * parameters and the path are kept. A text that does not parse as a URL is returned as given.
 *
 * @example
 * hideUrlCredentials("https://bot:s3cret@hooks.example.com/in?token=abc&team=a");
 * // "https://hooks.example.com/in?token=redacted&team=a"
 */
export function hideUrlCredentials(text: string): string {
  if (!URL.canParse(text)) return text;
  const url = new URL(text);
  const hidden = hideSecretParameters(url);
  if (!hidden && url.username === "" && url.password === "") return text;
  url.username = "";
  url.password = "";
  return url.href;
}

/**
 * Failure text with the credentials of `url` hidden wherever they appear in it, as
 * `redactSecrets` hides those of a subscription's sink URLs: its credential-like `name=value`
 * query pairs (kept named), and its password and credential-like query values of 8 characters
 * or more. For a URL the sink named itself (a redirect's `Location`), which the subscription does
 * not know.
 *
 * @example
 * redactUrlSecrets("Redirecting to /login?code=abc123", "https://h.example/login?code=abc123");
 * // "Redirecting to /login?code=[redacted]"
 */
export function redactUrlSecrets(text: string, url: string): string {
  const pairs: [string, string][] = [];
  const secrets: string[] = [];
  collectUrlSecrets(url, pairs, secrets);
  return replaceAll(text, ordered(pairs, secrets));
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
  return replaceAll(text, replacementsOf(subscription));
}
