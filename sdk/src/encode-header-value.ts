import { LONE_SURROGATES } from "./charset.js";

/**
 * Percent-encodes a CloudEvents attribute value for an HTTP header (HTTP protocol binding
 * 3.1.3.2): space, double-quote, percent and everything outside U+0021..U+007E become `%XY` of
 * their UTF-8 bytes, upper-case hex.
 *
 * @example
 * encodeHeaderValue("Euro € 😀") // => "Euro%20%E2%82%AC%20%F0%9F%98%80"
 */
export function encodeHeaderValue(value: string): string {
  // encodeURIComponent writes the UTF-8 bytes, upper-case hex, of all these characters (and
  // throws for an unpaired surrogate: it goes as U+FFFD, as TextEncoder would write it).
  return value.replace(/[^\x21\x23\x24\x26-\x7e]+/g, (run) =>
    encodeURIComponent(run.replace(LONE_SURROGATES, "\ufffd")),
  );
}
