import type { HeraldError } from "../errors.js";

/**
 * The answer to a refused delivery: the error's status (401, 400, 413, 415) and an RFC 9457
 * problem document (`type`, `title`, `status`, `detail`, `code`). Herald does not retry a 4xx, so
 * a forged request costs nothing more; an uncaught error would be a 500, which it retries.
 *
 * @example
 * try {
 *   event = await receive(request, { signingSecret });
 * } catch (err) {
 *   if (err instanceof HeraldError) return problemResponse(err);
 *   throw err;
 * }
 */
export function problemResponse(error: HeraldError): Response {
  const problem = {
    type: `urn:herald:problem:${error.code}`,
    title: error.name,
    status: error.status,
    detail: error.message,
    code: error.code,
  };
  return new Response(JSON.stringify(problem), {
    status: error.status,
    headers: { "content-type": "application/problem+json" },
  });
}
