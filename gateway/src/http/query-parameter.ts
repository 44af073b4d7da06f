import { MalformedRequest } from "../errors/errors.js";

/**
 * The one value of query parameter `name` in `url` (`undefined` when it is absent); a parameter
 * given more than once (`?limit=1&limit=500`) is refused with `MalformedRequest` (400
 * `malformed_request`) naming it. Nothing says which of several values counts (URLSearchParams
 * `get` takes the first, other readers the last), so a proxy or a log could read another request
 * than the one served; the client is asked to send one.
 *
 * @example
 * queryParameter(new URL("http://gw/x?limit=10"), "limit"); // "10"
 * queryParameter(new URL("http://gw/x"), "limit"); // undefined
 * queryParameter(new URL("http://gw/x?limit=1&limit=500"), "limit"); // throws MalformedRequest
 */
export function queryParameter(url: URL, name: string): string | undefined {
  const values = url.searchParams.getAll(name);
  if (values.length > 1) {
    throw new MalformedRequest(
      `the query parameter ${name} is given ${values.length} times; give it once`,
    );
  }
  return values[0];
}
