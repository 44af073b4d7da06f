import type { Subscription } from "../subscriptions/subscription.js";
import { MAX_ERROR_BYTES, truncateUtf8 } from "./failure-text.js";

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
 * Replaces the values of a URL's credential-like query parameters with `redacted`, in place,
 * through `searchParams`, so the query is written anew (`%20` becomes `+`): fine for comparing
 * definitions (`definition-fingerprint.ts`), not for showing a URL (`hideUrlCredentials` keeps the
 * other pairs as written). Says whether it changed any.
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
  const secrets: string[] = [];
  for (const value of Object.values(subscription.protocolsettings.headers)) {
    secrets.push(value, ...headerValueParts(value));
  }
  for (const secret of subscription.delivery.signingSecret?.split(/\s+/) ?? []) {
    secrets.push(secret, secret.replace(/^whsec_/, ""));
  }
  for (const sink of [subscription.sink, subscription.delivery.deadLetterSink]) {
    if (sink !== undefined) collectUrlSecrets(sink, pairs, secrets);
  }
  return ordered(pairs, secrets);
}

// RFC 9110 5.6.2 token: an auth-scheme (`Bearer`, `Basic`, `Token`, ...).
const AUTH_SCHEME = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s+(\S.*)$/s;

/**
 * The parts of a header value that a sink may echo on their own (`invalid token <token>`): the
 * credentials after an auth scheme (RFC 9110 11.4, `Bearer <token>`), for `Basic` also the
 * decoded `user:password` and the password, and the values of `name=value` parameters (auth
 * params, cookies). Over-matching only hides a little more failure text.
 */
function headerValueParts(value: string): string[] {
  const parts: string[] = [];
  const auth = AUTH_SCHEME.exec(value.trim());
  if (auth !== null) {
    const [, scheme = "", credentials = ""] = auth;
    parts.push(credentials);
    if (scheme.toLowerCase() === "basic") {
      const decoded = decodeBasic(credentials);
      if (decoded !== undefined) parts.push(decoded, decoded.slice(decoded.indexOf(":") + 1));
    }
  }
  for (const param of value.split(/[\s,;&]+/)) {
    const at = param.indexOf("=");
    if (at > 0) parts.push(param.slice(at + 1).replace(/^"(.*)"$/, "$1"));
  }
  return parts;
}

/** `user:password` of Basic credentials (RFC 7617), or `undefined` when they are not that. */
function decodeBasic(credentials: string): string | undefined {
  try {
    const bytes = Uint8Array.from(atob(credentials), (c) => c.charCodeAt(0));
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return text.includes(":") ? text : undefined;
  } catch {
    return undefined;
  }
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
  const search = hideSecretQueryValues(url.search);
  if (search === url.search && url.username === "" && url.password === "") return text;
  url.username = "";
  url.password = "";
  // Set as text, not through `searchParams`: that would write every other pair anew (`%20` as
  // `+`, `a/b` as `a%2Fb`), and the sink shown would no longer be the sink configured.
  url.search = search;
  return url.href;
}

/** A query as decoded by `URLSearchParams` (`+` is a space); as written when it is broken. */
function decodeQuery(text: string): string {
  return safeDecode(text.replace(/\+/g, " "));
}

/**
 * A URL's `search` (`?a=1&token=t`) with the non-empty value of each credential-like parameter
 * replaced by `redacted`, and every other byte kept as written.
 */
function hideSecretQueryValues(search: string): string {
  if (search.length <= 1) return search;
  const pairs = search
    .slice(1)
    .split("&")
    .map((pair) => {
      const at = pair.indexOf("=");
      if (at <= 0 || at === pair.length - 1) return pair;
      const name = pair.slice(0, at);
      return SECRET_PARAMETER.test(decodeQuery(name)) ? `${name}=redacted` : pair;
    });
  return `?${pairs.join("&")}`;
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
 * The most characters at the end of `text` that are the start of one of `secrets` (0 when none):
 * what is left of a secret when the text was cut inside it.
 */
function partialSecretAtEnd(text: string, secrets: readonly string[]): number {
  let longest = 0;
  const last = text.at(-1);
  for (const secret of secrets) {
    for (let k = Math.min(secret.length - 1, text.length); k > longest; k--) {
      if (secret[k - 1] !== last) continue;
      let i = 1;
      while (i < k && secret[k - 1 - i] === text[text.length - 1 - i]) i++;
      if (i === k) {
        longest = k;
        break;
      }
    }
  }
  return longest;
}

/**
 * Failure text as the gateway keeps and shows it (the dead set, the log, `heralderrordata`): the
 * subscription's secrets hidden (`redactSecrets`) *before* it is cut to `maxBytes`, so that no cut
 * goes through a secret; and when the text was cut, here or before (`cut`: the start of a sink's
 * answer that went on), an end that is the start of a secret is dropped. A sink that answers with
 * 1,000 bytes and then its token must not leave the first half of the token in the text.
 *
 * @example
 * // The sink's answer went on after "...Bearer abcd" (the header value is "Bearer abcdefgh123"):
 * redactFailureText("denied for Bearer abcd", subscription, true); // "denied for "
 */
export function redactFailureText(
  text: string,
  subscription: Subscription,
  cut: boolean,
  maxBytes: number = MAX_ERROR_BYTES,
): string {
  const replacements = replacementsOf(subscription);
  const redacted = replaceAll(text, replacements);
  const shown = truncateUtf8(redacted, maxBytes);
  if (!cut && shown.length === redacted.length) return shown;
  const partial = partialSecretAtEnd(
    shown,
    replacements.map(([secret]) => secret),
  );
  return shown.slice(0, shown.length - partial);
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
