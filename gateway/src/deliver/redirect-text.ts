import { MAX_ERROR_BYTES, truncateUtf8 } from "./failure-text.js";
import { hideUrlCredentials, redactUrlSecrets } from "./redact-secrets.js";

/**
 * The failure text of a 3xx answer that names a `Location`: Herald never follows redirects (the
 * request is signed for, and may carry credentials meant for, the sink as configured), so the
 * operator needs to know where the sink points to fix the subscription. The `Location` is
 * resolved against the URL that was sent to (RFC 9110 10.2.2: it may be relative) and shown
 * without userinfo and with credential-like query values as `redacted`; wherever those
 * credentials also appear in `body` (a "Redirecting to ..." page), they are hidden too. A
 * `Location` that does not resolve is not shown. At most `maxBytes` (default `MAX_ERROR_BYTES`;
 * the deliverer cuts it itself, after hiding the subscription's secrets).
 *
 * @example
 * redirectText(301, "/v2/in?token=s3cr3t-value", "https://hooks.example.com/in", "");
 * // "HTTP 301 redirect to https://hooks.example.com/v2/in?token=redacted (redirects are not followed)"
 */
export function redirectText(
  status: number,
  location: string,
  sent: string,
  body: string,
  maxBytes: number = MAX_ERROR_BYTES,
): string {
  const target = URL.canParse(location, sent) ? new URL(location, sent).href : undefined;
  const head =
    target === undefined
      ? `HTTP ${status} redirect to a Location that is not a URL (redirects are not followed)`
      : `HTTP ${status} redirect to ${hideUrlCredentials(target)} (redirects are not followed)`;
  const text = body === "" ? head : `${head}: ${body}`;
  return truncateUtf8(target === undefined ? text : redactUrlSecrets(text, target), maxBytes);
}
