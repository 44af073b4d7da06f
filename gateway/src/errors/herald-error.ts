/**
 * Base class of every domain error Herald raises on bad *data* (a caller's programming mistake is a
 * `TypeError` instead). Each subclass has a stable `code`, on the class and on the instance, and
 * the HTTP status it maps to; `http/problem.ts` is the one place that turns them into
 * RFC 9457 `application/problem+json`.
 *
 * @example
 * try { ... } catch (err) {
 *   if (err instanceof HeraldError && err.code === "invalid_event") console.log(err.violations);
 * }
 */
export abstract class HeraldError extends Error {
  static readonly code: string = "herald_error";
  abstract readonly code: string;
  abstract readonly status: number;
  abstract readonly title: string;
  /** Extra members for the problem document (e.g. `errors`, `index`). Never secrets. */
  readonly extensions: Readonly<Record<string, unknown>> = {};
  /** Extra response headers (e.g. `Allow`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>> = {};
}
