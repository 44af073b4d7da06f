/** `sns.<region>.amazonaws.com` (and `.com.cn` in the China regions): where SNS keys live. */
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$/;

/**
 * True when SNS may make Herald fetch `url` (its `SigningCertURL` or `SubscribeURL`): by default
 * only `https://sns.<region>.amazonaws.com/...`, as AWS advises ("Verifying the signatures of
 * Amazon SNS messages": check that the certificate comes from Amazon SNS); with `trusted`, only
 * URLs under one of those prefixes (same scheme, host and port, path starting with the prefix's
 * path). Never a URL with `user:password@`, nor one whose path holds an escaped `.`, `/` or
 * `\`. A message can otherwise make the gateway fetch any URL (SSRF) or bring its own key.
 *
 * @example
 * snsUrlTrusted("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem"); // true
 * snsUrlTrusted("https://sns.eu-west-1.amazonaws.com.evil.example/x.pem");                // false
 */
export function snsUrlTrusted(url: string, trusted?: readonly string[]): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.username !== "" || parsed.password !== "") return false;
  // An escaped `.`, `/` or `\` survives URL parsing (`/certs/..%2fadmin`) and is resolved by some
  // servers after the prefix was checked; no SNS certificate or SubscribeURL path has one.
  if (/%(?:2e|2f|5c)/i.test(parsed.pathname)) return false;
  if (trusted === undefined) {
    return parsed.protocol === "https:" && parsed.port === "" && SNS_HOST.test(parsed.hostname);
  }
  return trusted.some((prefix) => {
    const base = new URL(prefix);
    return parsed.origin === base.origin && parsed.pathname.startsWith(base.pathname);
  });
}
