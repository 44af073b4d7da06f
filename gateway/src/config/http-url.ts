/**
 * True when `text` is an absolute `http:` or `https:` URL with a host, written without spaces or
 * control characters: what a subscription `sink` (Subscriptions API 3.2.1, "sink": a URI valid for
 * the `HTTP` protocol) or a dead-letter sink must be.
 *
 * @example
 * isAbsoluteHttpUrl("https://example.com/hook"); // true
 * isAbsoluteHttpUrl("/hook"); // false: relative
 * isAbsoluteHttpUrl("ftp://example.com/"); // false: not HTTP
 */
export function isAbsoluteHttpUrl(text: string): boolean {
  // The WHATWG parser repairs a lot (`http:example.com`, stray spaces); a config value should not
  // need repairing, so the written form must already be absolute.
  if (!/^https?:\/\/[^\s/?#]/i.test(text) || /[\s\p{Cc}]/u.test(text)) return false;
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

/**
 * True when the authority of an http(s) URL holds userinfo (`user:password@`). The WHATWG parser
 * ends the authority of an http(s) URL at `/`, `\`, `?` or `#`, so an `@` before any of them is
 * userinfo, even an empty one.
 *
 * @example
 * hasUserinfo("https://user:pass@example.com/hook"); // true
 * hasUserinfo("https://example.com/@team"); // false: the @ is in the path
 */
export function hasUserinfo(text: string): boolean {
  return /^https?:\/\/[^/\\?#]*@/i.test(text);
}
