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

/** Most bytes of an answer read, as `createNodeFetch`'s default: a problem document is far smaller. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * The body as text, read to its end (so the connection can be reused); "" when it fails midway or
 * passes `MAX_ANSWER_BYTES`, where the rest is cancelled: an endless or huge body from a broken or
 * hostile endpoint costs at most that much memory (`response.text()` would buffer all of it).
 *
 * @example
 * const text = await readAnswer(response);
 */
export async function readAnswer({ body }: Response): Promise<string> {
  if (body === null) return "";
  const reader = body.getReader();
  // A body's chunks are never views of a SharedArrayBuffer (which Blob refuses).
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return await new Blob(chunks).text();
      bytes += value.byteLength;
      if (bytes > MAX_ANSWER_BYTES) {
        await reader.cancel();
        return "";
      }
      chunks.push(value as Uint8Array<ArrayBuffer>);
    }
  } catch {
    return "";
  }
}

async function readProblem(response: Response): Promise<Problem | undefined> {
  const text = await readAnswer(response);
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
  return `the endpoint redirects${status} to ${target} (not followed); point endpoint at the gateway`;
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
  if (status === 429) return new RateLimited(message, details, retryAfterMs);
  if (isRetryableStatus(status)) return new Unavailable(message, details, retryAfterMs);
  const Refusal =
    status === 400 && problem?.code !== "invalid_request"
      ? InvalidEvent
      : status === 401
        ? Unauthorized
        : status === 403
          ? Forbidden
          : status === 413
            ? PayloadTooLarge
            : RequestRejected;
  return new Refusal(message, details);
}
