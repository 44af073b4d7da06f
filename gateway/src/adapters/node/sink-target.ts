import type { Http1Origin } from "./http1-client.js";

/** Where a sink URL points, parsed once per URL. */
export interface SinkTarget {
  readonly secure: boolean;
  /** The host to connect to (an IPv6 literal without its brackets) and the port. */
  readonly origin: Http1Origin;
  /** The URL's port, `undefined` for the scheme's default. */
  readonly port: number | undefined;
  /** The request target: path and query. */
  readonly path: string;
  /** The `Host` header: host and port as the URL has them (the port only when not the default). */
  readonly host: string;
}

/**
 * A sink URL taken apart for sending, or an `Error` for a URL that cannot be sent to (a scheme
 * other than `http:` and `https:`, a port out of range).
 *
 * @example
 * parseSinkTarget("http://[::1]:9000/hook?x=1");
 * // { secure: false, origin: { host: "::1", port: 9000, key: "::1:9000" }, port: 9000,
 * //   path: "/hook?x=1", host: "[::1]:9000" }
 */
export function parseSinkTarget(sink: string): SinkTarget {
  const url = new URL(sink);
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new Error(`unsupported protocol ${url.protocol}`);
  }
  const secure = url.protocol === "https:";
  // URL keeps IPv6 literals in brackets; sockets want the bare address.
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? undefined : Number(url.port);
  if (port !== undefined && (port < 1 || port > 65_535)) {
    throw new RangeError(`port ${port} is out of range`);
  }
  const path = `${url.pathname}${url.search}`;
  // A parsed URL percent-encodes what a request line cannot hold; this only guards that.
  if (!/^[\x21-\x7e]+$/.test(path))
    throw new TypeError("Request path contains unescaped characters");
  const to = port ?? (secure ? 443 : 80);
  return {
    secure,
    origin: { host: hostname, port: to, key: `${hostname}:${to}` },
    port,
    path,
    host: url.host,
  };
}
