import { checkJsonSyntax } from "../config/json-syntax.js";

/**
 * Why a request body `JSON.parse` refused is not JSON, quoting none of it: where it breaks and
 * what was expected there. The engine's own message quotes the text around the error (V8:
 * `Unexpected token 'w', ..."ngSecret":whsec_MfKQ"... is not valid JSON`), and a problem's
 * `detail` goes into the log too: that would put part of an event's data, or of a
 * subscription's signing secret, into a log line. At most the one character at the error is
 * named.
 *
 * @example
 * jsonSyntaxReason('{"a": secret}'); // "unexpected 's'; expected a value (...) at position 6"
 */
export function jsonSyntaxReason(text: string): string {
  const error = checkJsonSyntax(text, "body");
  // JSON.parse refuses a byte order mark, which the grammar check skips as RFC 8259 allows.
  if (error === undefined) {
    return text.charCodeAt(0) === 0xfeff ? "a byte order mark before the JSON" : "unparseable";
  }
  return `${error.message} at position ${error.offset}`;
}
