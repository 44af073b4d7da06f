import {
  Forbidden,
  type HeraldError,
  InvalidEvent,
  PayloadTooLarge,
  type Problem,
  RateLimited,
  RequestRejected,
  Unauthorized,
  Unavailable,
} from "./errors.js";
import { parseRetryAfter } from "./retry-after.js";

/** Whether a refusal is worth another attempt: 408, 429 and 5xx (the rest will not change). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

async function readProblem(response: Response): Promise<Problem | undefined> {
  const text = await response.text().catch(() => "");
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
      ? (parsed as Problem)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A 3xx (or, where `fetch` hides it, an opaque redirect of status 0) is not followed: the POST
 * would become a GET without the event. The endpoint is wrong, so the message says where it led.
 */
function redirectMessage(response: Response): string {
  const location = response.headers.get("location");
  let target = "another URL";
  if (location !== null) {
    try {
      target = new URL(location, response.url || undefined).href;
    } catch {
      target = location;
    }
  }
  const status = response.status === 0 ? "" : ` (${response.status})`;
  return (
    `the endpoint redirects${status} to ${target}; redirects are not followed, as the event would ` +
    "be lost: point endpoint at the gateway's ingest URL"
  );
}

/**
 * The `HeraldError` for a gateway's non-2xx answer (a redirect is `RequestRejected`), with its
 * problem+json parsed (the body is consumed, so the connection can be reused).
 *
 * @example
 * if (!response.ok) throw await errorFromResponse(response, Date.now());
 */
export async function errorFromResponse(response: Response, nowMs: number): Promise<HeraldError> {
  const { status } = response;
  const problem = await readProblem(response);
  const code = typeof problem?.code === "string" ? ` ${problem.code}` : "";
  const detail = typeof problem?.detail === "string" ? `: ${problem.detail}` : "";
  const message = `the gateway answered ${status}${code}${detail}`;
  const details = { status, problem };
  if (response.type === "opaqueredirect" || (status >= 300 && status < 400)) {
    return new RequestRejected(redirectMessage(response), details);
  }
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), nowMs);
  if (status === 400) {
    return problem?.code === "invalid_request"
      ? new RequestRejected(message, details)
      : new InvalidEvent(message, details);
  }
  if (status === 401) return new Unauthorized(message, details);
  if (status === 403) return new Forbidden(message, details);
  if (status === 413) return new PayloadTooLarge(message, details);
  if (status === 429) return new RateLimited(message, details, retryAfterMs);
  if (status === 408 || status >= 500) return new Unavailable(message, details, retryAfterMs);
  return new RequestRejected(message, details);
}
