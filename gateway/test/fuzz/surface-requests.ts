import type { Prng } from "./prng.js";
import type { RawRequest } from "./raw-http.js";

const PATHS = [
  "/",
  "/events",
  "/events/",
  "//events",
  "/EVENTS",
  "/events%2F",
  "/%65vents",
  "/./events",
  "/a/../events",
  "/events/..",
  "/webhooks/",
  "/webhooks/gh",
  "/webhooks/%2e%2e",
  "/webhooks/..%2Fevents",
  "/webhooks/g%68",
  "/webhooks/\u00e9",
  "/webhooks/nope",
  "/healthz",
  "/readyz",
  "/metrics",
  "/openapi.json",
  "/subscriptions",
  "/subscriptions%2Fs",
  "/%",
  "/%zz",
  "/%00",
  "/\u2028",
  "*",
  "http://127.0.0.1/events",
  "http://other.example/healthz",
  "/events?",
  "/events#frag",
  `/${"a".repeat(9000)}`,
];
const METHODS = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "PROPFIND",
  "get",
  "FOO",
  "M-SEARCH",
];

/** The methods of `METHODS` that the Workers runtime hands to the Worker (it knows WebDAV's). */
const WORKERD_METHODS = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "PATCH",
  "DELETE",
  "OPTIONS",
  "TRACE",
  "PROPFIND",
]);

/**
 * Whether the Workers runtime answers `req` itself, before the Worker sees it (README,
 * "Differences from Node"): framing oddities over raw sockets, a method it does not know (`FOO`,
 * `M-SEARCH`, and `get`, as methods are case-sensitive: `501` as text), and a target not in
 * origin form (`*`, `http://host/events`: `500`), a NUL or a bare CR or LF in a header (`400`
 * as text), and a `Transfer-Encoding` (the generators never chunk a body they send with one:
 * `500`, or the platform waits for chunks that never come).
 */
export function answeredByPlatform(req: RawRequest): boolean {
  return (
    req.raw !== undefined ||
    !WORKERD_METHODS.has(req.method) ||
    !req.target.startsWith("/") ||
    req.headers.some(
      ([name, value]) =>
        name.toLowerCase() === "transfer-encoding" ||
        // As sent: in a latin1 head, U+0100 goes out as a NUL byte.
        /[\0\r\n]/.test(
          Buffer.from(`${name}${value}`, req.headEncoding ?? "utf8").toString("latin1"),
        ),
    )
  );
}

/** A query string with tokens, repeats, odd encodings. */
function query(rng: Prng, token: string | undefined): string {
  const parts: string[] = [];
  for (let i = rng.int(0, 3); i > 0; i--) {
    parts.push(
      rng.pick([
        `access_token=${token ?? "x"}`,
        "access_token=",
        "access_token",
        `access_token=${token ?? "x"}&access_token=${token ?? "x"}`,
        "db=fz",
        "db=%zz",
        "a=%",
        "%=%",
        "&&&",
        `q=${"x".repeat(3000)}`,
        "a[b]=c",
        "=",
        "\u00e9=\u00e9",
      ]),
    );
  }
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}

/** A malformed or odd bearer token derived from `good` (a token the gateway would accept). */
export function oddToken(rng: Prng, good: string): string {
  const [h = "", p = "", s = ""] = good.split(".");
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return rng.pick([
    () => "",
    () => " ",
    () => "x",
    () => `${h}.${p}`,
    () => `${h}.${p}.`,
    () => `${h}..${s}`,
    () => `.${p}.${s}`,
    () => `${h}.${p}.${s}.${s}`,
    () => `${h}.${p}.${s.slice(0, -2)}`,
    () => `${h}.${p}.${s}==`,
    () => `${b64({ alg: "none" })}.${p}.`,
    () => `${b64({ alg: "HS256", typ: "JWT" })}.${p}.${s}`,
    () => `${b64({ alg: "ES256", crit: ["x"] })}.${p}.${s}`,
    () => `${b64("str")}.${p}.${s}`,
    () => `${b64({ alg: "ES256", kid: "\u0000".repeat(5) })}.${p}.${s}`,
    () => `${h}.${b64({ sub: 1, exp: "never", aud: [1, null] })}.${s}`,
    () => `${h}.${b64([])}.${s}`,
    () => `${h}.!!!.${s}`,
    () => `${h}.${p}.${s}`.replace(/[A-Za-z]/, "\u00e9"),
    () => "a".repeat(rng.pick([8193, 20_000])),
    () => `${good} ${good}`,
    () => `${good}\t`,
    () => Buffer.from(good).toString("base64"),
    () => rng.oddText(10).replace(/[\r\n]/g, ""),
  ])();
}

/** A request to anywhere, with any method, query and odd auth headers. */
export function surfaceRequest(
  rng: Prng,
  good: string | undefined,
): { label: string; req: RawRequest } {
  const method = rng.pick(METHODS);
  const target = `${rng.pick(PATHS)}${query(rng, rng.chance(0.5) && good !== undefined ? good : undefined)}`;
  const headers: [string, string][] = [
    ["Host", "127.0.0.1"],
    ["Connection", "close"],
  ];
  if (good !== undefined && rng.chance(0.7)) {
    headers.push([
      "Authorization",
      rng.pick([
        () => `Bearer ${good}`,
        () => `Bearer ${oddToken(rng, good)}`,
        () => `bearer ${good}`,
        () => `Bearer  ${good}`,
        () => `Basic ${Buffer.from("a:b").toString("base64")}`,
        () => "Bearer",
        () => `Bearer ${good}, Bearer ${good}`,
        () => `Token ${good}`,
      ])(),
    ]);
    if (rng.chance(0.1)) headers.push(["Authorization", `Bearer ${good}`]);
  }
  if (rng.chance(0.3))
    headers.push([
      rng.pick([
        "Origin",
        "WebHook-Request-Origin",
        "WebHook-Request-Rate",
        "WebHook-Request-Callback",
        "Accept",
        "Accept-Encoding",
        "If-None-Match",
        "Range",
        "X-Forwarded-For",
        "Traceparent",
        "Expect",
      ]),
      rng.pick([
        "*",
        "a.example",
        "https://x",
        "-1",
        "999999999999",
        "gzip",
        "bytes=0-1",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "100-continue",
        "",
      ]),
    ]);
  let body: Uint8Array | undefined;
  if (rng.chance(0.4)) {
    body = rng.bytes(rng.int(0, 100));
    headers.push([
      "Content-Type",
      rng.pick([
        "application/json",
        "application/cloudevents+json",
        "text/plain",
        "application/octet-stream",
      ]),
    ]);
    headers.push(["Content-Length", String(body.length)]);
  }
  return {
    label: `surface-${method}`,
    req: body === undefined ? { method, target, headers } : { method, target, headers, body },
  };
}

/** Framing oddities only a raw socket sends (RFC 9112 sections 6 and 7). */
export function framingRequest(rng: Prng, auth: string): { label: string; req: RawRequest } {
  const ev = '{"specversion":"1.0","id":"frame","source":"/f","type":"t"}';
  const ct = "Content-Type: application/cloudevents+json\r\n";
  const head = (extra: string) =>
    `POST ${rng.pick(["/events", "/subscriptions", "/webhooks/s3", "/healthz"])} HTTP/1.1\r\nHost: 127.0.0.1\r\n${auth}${ct}${extra}`;
  const chunk = (s: string) => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
  const raw = rng.pick([
    () => `${head(`Content-Length: ${ev.length + rng.int(1, 50)}\r\n\r\n`)}${ev}`,
    () => `${head(`Content-Length: ${rng.int(0, ev.length - 1)}\r\n\r\n`)}${ev}`,
    () =>
      `${head(`Content-Length: ${ev.length}\r\nContent-Length: ${ev.length + 1}\r\n\r\n`)}${ev}`,
    () => `${head(`Content-Length: ${ev.length}, ${ev.length}\r\n\r\n`)}${ev}`,
    () => `${head(`Content-Length: +${ev.length}\r\n\r\n`)}${ev}`,
    () => `${head("Content-Length: -1\r\n\r\n")}${ev}`,
    () => `${head("Content-Length: 99999999999999999999\r\n\r\n")}${ev}`,
    () =>
      `${head(`Transfer-Encoding: chunked\r\nContent-Length: ${ev.length}\r\n\r\n`)}${chunk(ev)}0\r\n\r\n`,
    () => `${head("Transfer-Encoding: chunked\r\n\r\n")}${chunk(ev)}0\r\n\r\n`,
    () =>
      `${head("Transfer-Encoding: chunked\r\n\r\n")}${chunk(ev.slice(0, 10))}${chunk(ev.slice(10))}0\r\nX-Trailer: a\r\n\r\n`,
    () => `${head("Transfer-Encoding: chunked\r\n\r\n")}zz\r\n${ev}\r\n0\r\n\r\n`,
    () => `${head("Transfer-Encoding: chunked\r\n\r\n")}${chunk(ev)}`,
    () => `${head("Transfer-Encoding: gzip, chunked\r\n\r\n")}${chunk(ev)}0\r\n\r\n`,
    () => `${head("Transfer-Encoding: chunked, identity\r\n\r\n")}${chunk(ev)}0\r\n\r\n`,
    () =>
      `${head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n")}${chunk(ev)}0\r\n\r\n`,
    () => `${head("Transfer-Encoding: xchunked\r\n\r\n")}${chunk(ev)}0\r\n\r\n`,
    () => `${head("Transfer-Encoding : chunked\r\n\r\n")}${chunk(ev)}0\r\n\r\n`,
    () => `${head(`Content-Length: ${ev.length}\r\n X-Folded: yes\r\n\r\n`)}${ev}`,
    () => `${head(`Content-Length:${ev.length}\r\nX-Nul: a\u0000b\r\n\r\n`)}${ev}`,
    () => `${head(`Content-Length: ${ev.length}\n\n`)}${ev}`,
    () =>
      `${head(`content-length: ${ev.length}\r\n\r\n`)}${ev}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`,
    () =>
      `POST /events HTTP/1.0\r\n${ct}${auth}Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n${chunk(ev)}0\r\n\r\n`,
    () => `POST /events HTTP/2.0\r\nHost: x\r\n\r\n`,
    () => `POST /events\r\nHost: x\r\n\r\n`,
    () => `POST  /events  HTTP/1.1\r\nHost: x\r\n\r\n`,
    () => `GET /healthz HTTP/1.1\r\n\r\n`,
    () => `GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`,
    () => `\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`,
    () => `${"A".repeat(rng.int(1, 100))}\r\n\r\n`,
    () => `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(20_000)}\r\n\r\n`,
    () => `CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n`,
    () =>
      `GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n`,
    () => `${head(`Content-Length: ${ev.length}\r\nExpect: 100-continue\r\n\r\n`)}${ev}`,
    () => `${head("Expect: 100-continue\r\nContent-Length: 999999999\r\n\r\n")}`,
    () => `${head(`Content-Length: ${ev.length}\r\nContent-Encoding: gzip\r\n\r\n`)}${ev}`,
  ])();
  return {
    label: "framing",
    req: {
      method: "RAW",
      target: "",
      headers: [],
      raw: Buffer.from(raw, "latin1"),
      halfClose: true,
    },
  };
}
