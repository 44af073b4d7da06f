import { UnsupportedMediaType } from "../errors/errors.js";
import { repeatedParameter } from "../event/media-type.js";

/**
 * Refuses (415) a request `Content-Type` that gives a parameter twice: RFC 6838 4.3 calls it an
 * error, and readers disagree on which one counts (WHATWG takes the first, others the last), so
 * `charset=iso-8859-1; charset=utf-8` would be decoded in one charset here and another elsewhere.
 * `acceptPost` as `UnsupportedMediaType` takes it (the endpoint's media types).
 *
 * @example
 * refuseRepeatedParameter(req.headers.get("content-type") ?? "", "application/json");
 */
export function refuseRepeatedParameter(contentType: string, acceptPost?: string): void {
  const repeated = repeatedParameter(contentType);
  if (repeated === undefined) return;
  throw new UnsupportedMediaType(
    `Content-Type gives the parameter ${repeated} twice; give it once (RFC 6838 4.3), as readers disagree on which one counts`,
    acceptPost,
  );
}
