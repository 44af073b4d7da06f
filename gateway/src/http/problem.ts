import { HeraldError } from "../errors/herald-error.js";

/** Media type of RFC 9457 problem details. */
export const PROBLEM_JSON = "application/problem+json";

/** Base of the `type` URI of every Herald problem; the code follows. */
export const PROBLEM_TYPE_BASE = "urn:herald:problem:";

/** A problem response in transport-neutral parts. */
export interface ProblemParts {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON problem document. */
  readonly body: string;
}

/**
 * The one place a Herald error becomes an HTTP response (RFC 9457). Anything that is not a
 * `HeraldError` is a bug: it is answered with a generic 500 that reveals nothing, and reported to
 * `onUnexpected` so it can be logged.
 *
 * @example
 * const { status, headers, body } = problemParts(err, (e) => logger.error("unexpected", { e }));
 */
export function problemParts(err: unknown, onUnexpected?: (err: unknown) => void): ProblemParts {
  if (err instanceof HeraldError) {
    const body = {
      type: PROBLEM_TYPE_BASE + err.code,
      title: err.title,
      status: err.status,
      detail: err.message,
      code: err.code,
      ...err.extensions,
    };
    return {
      status: err.status,
      headers: { "content-type": PROBLEM_JSON, ...err.headers },
      body: JSON.stringify(body),
    };
  }
  onUnexpected?.(err);
  const body = {
    type: `${PROBLEM_TYPE_BASE}internal_error`,
    title: "Internal error",
    status: 500,
    detail: "The gateway failed to handle this request; nothing was accepted.",
    code: "internal_error",
  };
  return { status: 500, headers: { "content-type": PROBLEM_JSON }, body: JSON.stringify(body) };
}

/**
 * `problemParts` as a Web `Response`.
 *
 * @example
 * app.onError((err) => problemResponse(err, (e) => logger.error("unexpected", { err: e })));
 */
export function problemResponse(err: unknown, onUnexpected?: (err: unknown) => void): Response {
  const { status, headers, body } = problemParts(err, onUnexpected);
  return new Response(body, { status, headers });
}
