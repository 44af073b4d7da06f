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
 * The `HeraldError` for a gateway's non-2xx answer, with its problem+json parsed (the body is
 * consumed, so the connection can be reused).
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
