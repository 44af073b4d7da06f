/**
 * What is wrong with `host` as an address to listen on (`listen.host`, `herald serve --host`), or
 * `undefined` when it can be one: an IP address (IPv6 without brackets) or a host name.
 * `portSetting` is where the port goes instead (`--port` for the flag). Written
 * otherwise (a URL, a port appended, spaces) it passes as a string and only fails at start, as
 * `getaddrinfo ENOTFOUND`, though `herald validate` promises that a valid config starts.
 *
 * @example
 * listenHostProblem("0.0.0.0"); // undefined
 * listenHostProblem("127.0.0.1:8080"); // "must not include a port; the port is listen.port"
 */
export function listenHostProblem(host: string, portSetting = "listen.port"): string | undefined {
  if (host.includes("://")) return "must be a host name or IP address, not a URL";
  if (/\s/.test(host)) return "must be a host name or IP address, without spaces";
  if (host.startsWith("[")) return "must be written without brackets (::1, not [::1])";
  if (/^[^:]*:\d*$/.test(host)) {
    return `must not include a port; the port is ${portSetting}`;
  }
  if (host.includes(":") ? IPV6.test(host) : HOST_NAME.test(host)) return undefined;
  return "must be a host name or IP address";
}

/** Hex groups, colons and an embedded IPv4 address, with an optional zone (`fe80::1%eth0`). */
const IPV6 = /^[0-9A-Fa-f:.]+(?:%[A-Za-z0-9_.-]+)?$/;
/** Dot-separated labels (an IPv4 address is one too); a trailing dot is the DNS root. */
const HOST_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/;
