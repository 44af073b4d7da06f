import type { IncomingMessage } from "node:http";
import { MalformedRequest } from "../../errors/errors.js";

// RFC 9110 7.2: Host = uri-host [ ":" port ]; uri-host (RFC 3986 3.2.2) is an IP-literal (IPv6,
// with an RFC 6874 zone, or IPvFuture), an IPv4 address or a reg-name (unreserved, pct-encoded,
// sub-delims), which may be empty.
const HOST =
  /^(?:\[[0-9A-Za-z:._~%!$&'()*+,;=-]+\]|(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})*)(?::[0-9]*)?$/;

/**
 * The refusal RFC 9112 3.2 requires for a request's `Host`, or `undefined` when it is fine: an
 * HTTP/1.1 request without one, any request with more than one `Host` line or an invalid value;
 * also a request line of another major version than 1 (Node's parser lets `HTTP/2.0` through).
 * HTTP/1.0 may omit it. Node's own check (`requireHostHeader`) answers a bare 400 and lets two
 * lines through, so `createNodeServer` turns it off and asks this instead.
 *
 * @example
 * const refusal = checkHost(req); // MalformedRequest | undefined
 */
export function checkHost(req: IncomingMessage): MalformedRequest | undefined {
  // Node's parser reads a request line ending `HTTP/2.0` (other versions it refuses itself):
  // HTTP/2 has no such line (RFC 9113 3), so this is no request Herald can answer as meant.
  if (req.httpVersionMajor !== 1) {
    return new MalformedRequest(
      `HTTP/${req.httpVersion} is not spoken here: send HTTP/1.1 (RFC 9112 2.3)`,
    );
  }
  let count = 0;
  let value = "";
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === "host") {
      count++;
      value = raw[i + 1]!;
    }
  }
  if (count > 1) return new MalformedRequest("the request has more than one Host header");
  if (count === 0) {
    const http10 = req.httpVersionMajor === 1 && req.httpVersionMinor === 0;
    return http10 ? undefined : new MalformedRequest("an HTTP/1.1 request needs a Host header");
  }
  return HOST.test(value) ? undefined : new MalformedRequest("the Host header is not a valid host");
}
