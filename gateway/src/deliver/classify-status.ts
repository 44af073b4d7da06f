/** What an HTTP status means for a delivery (DESIGN.md "Delivery semantics"). */
export type StatusClass = "delivered" | "retry" | "dead";

/**
 * Classifies a sink's answer: 2xx is delivered; 408 (Request Timeout), 429 (Too Many Requests)
 * and 5xx are transient, so retried; everything else (3xx, since redirects are not followed,
 * and the other 4xx) will not get better by asking again, so it is dead.
 *
 * @example
 * classifyStatus(202); // "delivered"
 * classifyStatus(503); // "retry"
 * classifyStatus(404); // "dead"
 */
export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status <= 299) return "delivered";
  if (status === 408 || status === 429 || (status >= 500 && status <= 599)) return "retry";
  return "dead";
}
