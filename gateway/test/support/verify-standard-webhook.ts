import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/**
 * A Standard Webhooks receiver's check (spec "Verifying webhook authenticity"), written from the
 * spec with node:crypto and independent of Herald's signer: the key is the base64 after `whsec_`,
 * the signed content `${webhook-id}.${webhook-timestamp}.${body}`, and the message is authentic
 * when any `v1,<base64 HMAC-SHA256>` in `webhook-signature` matches. Also checks the timestamp is
 * within `toleranceSeconds` of `nowSeconds`.
 *
 * @example
 * expect(verifyStandardWebhook(request.headers, request.body, "whsec_...", now)).toBe(true);
 */
export function verifyStandardWebhook(
  headers: IncomingHttpHeaders,
  body: Buffer,
  secret: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): boolean {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (typeof id !== "string" || typeof timestamp !== "string" || typeof signatures !== "string") {
    return false;
  }
  if (!/^\d+$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) {
    return false;
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key)
    .update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`, "utf8"), body]))
    .digest();
  return signatures.split(" ").some((entry) => {
    const [version, signature] = entry.split(",", 2);
    if (version !== "v1" || signature === undefined) return false;
    const given = Buffer.from(signature, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
