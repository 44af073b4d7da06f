import { HeraldError } from "../errors/herald-error.js";

/** Media type of RFC 9457 problem details. */
export const PROBLEM_JSON = "application/problem+json";

/** Base of the `type` URI of every Herald problem; the code follows. */
export const PROBLEM_TYPE_BASE = "urn:herald:problem:";

/**
 * The one place a Herald error becomes an HTTP response (RFC 9457). Anything that is not a
 * `HeraldError` is a bug: it is answered with a generic 500 that reveals nothing, and reported to
 * `onUnexpected` so it can be logged.
 *
 * @example
 * app.onError((err) => problemResponse(err, (e) => logger.error("unexpected", { err: e })));
 */
export function problemResponse(err: unknown, onUnexpected?: (err: unknown) => void): Response {
  if (err instanceof HeraldError) {
    const body = {
      type: PROBLEM_TYPE_BASE + err.code,
      title: err.title,
      status: err.status,
      detail: err.message,
      code: err.code,
      ...err.extensions,
    };
    return new Response(JSON.stringify(body), {
      status: err.status,
      headers: { "content-type": PROBLEM_JSON, ...err.headers },
    });
  }
  onUnexpected?.(err);
  const body = {
    type: `${PROBLEM_TYPE_BASE}internal_error`,
    title: "Internal error",
    status: 500,
    detail: "The gateway failed to handle this request; nothing was accepted.",
    code: "internal_error",
  };
  return new Response(JSON.stringify(body), {
    status: 500,
    headers: { "content-type": PROBLEM_JSON },
  });
}
