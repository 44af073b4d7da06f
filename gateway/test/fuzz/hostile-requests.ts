import {
  binaryRequest,
  type EventModel,
  jsonRequest,
  type SentEvent,
  setHeader,
  structuredRequest,
  validEvent,
  withBody,
} from "./events.js";
import type { Prng } from "./prng.js";
import type { RawRequest } from "./raw-http.js";
import { FUZZ_ADAPTERS } from "./webhook-requests.js";

/**
 * Hostile requests for `../http-hostile-fuzz.test.ts`, aimed at what the structure-aware probe
 * (`./run-fuzz.ts`) reaches less: random bytes and random JSON on every route, header edge
 * cases, forged tokens, odd ids, `/store/backup`, the OPTIONS handshake, and slow clients.
 */

type Header = readonly [string, string];

/** The credentials a hostile request may carry. */
export interface HostileContext {
  readonly publisher: string | undefined;
  readonly admin: string | undefined;
  /** Tokens that must be refused (forged, expired, another audience...), by name. */
  readonly forged: readonly (readonly [string, string])[];
  nextTag(): string;
}

/** A generated request and the events a `202` to it makes the gateway responsible for. */
export interface Hostile {
  readonly label: string;
  readonly req: RawRequest;
  readonly events: readonly SentEvent[];
}

const ADAPTER_IDS = Object.values(FUZZ_ADAPTERS).map((a) => a.id);

/** Every route, with ids that exist (`s`, the adapters) and some that do not. */
function anyPath(rng: Prng): string {
  return rng.pick([
    "/events",
    "/",
    `/webhooks/${rng.pick(ADAPTER_IDS)}`,
    "/subscriptions",
    "/subscriptions/s",
    "/subscriptions/s/dead",
    "/subscriptions/s/dead/nope",
    "/subscriptions/s/redrive",
    "/metrics",
    "/healthz",
    "/readyz",
    "/store/backup",
    "/store",
    "/nowhere",
    `/${rng.word()}/${rng.word()}`,
  ]);
}

function anyAuth(rng: Prng, ctx: HostileContext): Header[] {
  const roll = rng.next();
  const bearer = (t: string | undefined): Header[] =>
    t === undefined ? [] : [["Authorization", `Bearer ${t}`]];
  if (roll < 0.35) return bearer(ctx.publisher);
  if (roll < 0.6) return bearer(ctx.admin);
  if (roll < 0.85 && ctx.forged.length > 0) return bearer(rng.pick(ctx.forged)[1]);
  return [];
}

const base = (auth: readonly Header[]): Header[] => [
  ["Host", "127.0.0.1"],
  ["Connection", "close"],
  ...auth,
];

const ODD_CONTENT_TYPES = [
  undefined,
  "",
  "application/json",
  "application/cloudevents+json",
  "application/cloudevents-batch+json",
  "application/json; charset=utf-16le",
  "application/json; charset=UTF-32",
  "application/json; charset=x-user-defined",
  "application/json; charset=",
  'application/json; charset="utf-8',
  "application/json; charset=utf-8; charset=utf-16",
  "application/cloudevents+json; charset=iso-8859-1",
  "application/cloudevents-batch+json; charset=ebcdic",
  "text/plain; charset=utf-8",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=----x",
  "application/octet-stream",
  "application/xml",
  "application/json\u0000",
  "APPLICATION/CLOUDEVENTS+JSON",
  "application/cloudevents+json;;;",
  "/",
  "*/*",
  "a".repeat(3000),
];

/** Random JSON-ish text: nesting, huge numbers, duplicate keys, escapes, raw bad bytes. */
export function hostileJson(rng: Prng): Uint8Array {
  const ev = (extra: string) =>
    `{"specversion":"1.0","id":"hj","source":"/hj","type":"com.example.fz.hj"${extra}}`;
  const text = rng.pick<() => string | Uint8Array>([
    () => {
      const n = rng.pick([129, 1000, 100_000, 1_000_000]);
      const [open, close] = rng.pick([
        ["[", "]"],
        ['{"a":', "}"],
      ]);
      return ev(`,"data":${open.repeat(n)}1${close.repeat(rng.chance(0.8) ? n : n - 1)}`);
    },
    () => `${"[".repeat(rng.int(1, 200_000))}`,
    () =>
      ev(
        `,"data":${rng.pick(["1e999999", "-1e-999999", "9".repeat(5000), "0.".concat("0".repeat(5000), "1"), "1E+", "-", "01", "NaN", "Infinity", "0x10"])}`,
      ),
    () =>
      ev(
        `,"sampledrate":${rng.pick(["1e999", "2147483648", "-2147483649", "1.0000000000000001", "9".repeat(400)])}`,
      ),
    () => ev(`,"id":"dup-${rng.word()}","id":"dup2-${rng.word()}"`),
    () => ev(`,"data":{"a":1,"a":2,"a":{"a":[]}}`),
    () => ev(`,"fzsur":"\\ud800","fzsur2":"\\udfff\\ud800"`),
    () => ev(`,"data":"\\u0000\\u0001\\u001f"`),
    () => ev(`,"data":"raw\u0000nul"`),
    () => ev(`,"data":"raw\ttab\nline"`),
    () =>
      Buffer.concat([
        Buffer.from(ev(`,"data":"`).slice(0, -1)),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]),
    () =>
      Buffer.concat([
        Buffer.from(ev(`,"data":"`).slice(0, -1)),
        Buffer.from([0xc0, 0xaf, 0xff, 0xfe]),
        Buffer.from('"}'),
      ]),
    () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ev(""))]),
    () => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(ev(""), "utf16le")]),
    () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), Buffer.from(ev(""))]),
    () => Buffer.from(ev(""), "utf16le"),
    () => ev(`,"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}}`),
    () => `[${Array.from({ length: rng.int(1, 50) }, () => ev(`,"id":"${rng.word()}"`)).join(",")}`,
    () => `[${ev("")},]`,
    () => `${ev("")}${ev("")}`,
    () => `${ev("")} // comment`,
    () => `{'specversion':'1.0'}`,
    () => ev(`,"data":"${"\\\\".repeat(rng.int(1, 20_000))}"`),
    () => ev(`,"data":"${"\\u".repeat(rng.int(1, 100))}"`),
    () => ev(`,${Array.from({ length: rng.int(100, 5000) }, (_, i) => `"k${i}":${i}`).join(",")}`),
    () =>
      `{"sink":"http://127.0.0.1:1/${"x".repeat(rng.int(0, 5000))}","id":"${rng.oddText(8).replace(/["\\]/g, "")}"}`,
    () => `{"sink":"\\ud800","filters":[{"sql":"\\u0000"}]}`,
    () =>
      `{"jobIds":[${Array.from({ length: rng.int(0, 3000) }, () => `"${rng.word()}"`).join(",")}]}`,
    () => `{"jobIds":${"[".repeat(500)}${"]".repeat(500)}}`,
    () => rng.bytes(rng.int(0, 2000)),
    () => "",
    () => "null",
    () => "\u0000",
  ])();
  return typeof text === "string" ? Buffer.from(text, "utf8") : text;
}

/** Random bytes (or random JSON) to any route with any method and content type. */
function randomBody(rng: Prng, ctx: HostileContext): Hostile {
  const json = rng.chance(0.6);
  const body = json ? hostileJson(rng) : rng.bytes(rng.int(0, rng.pick([16, 512, 70_000])));
  const method = rng.pick(["POST", "POST", "POST", "PUT", "PATCH", "DELETE", "GET"]);
  const headers = base(anyAuth(rng, ctx));
  const ct = rng.pick(ODD_CONTENT_TYPES);
  if (ct !== undefined) headers.push(["Content-Type", ct]);
  headers.push(["Content-Length", String(body.length)]);
  return {
    label: `${json ? "json" : "bytes"}-${method}`,
    req: { method, target: anyPath(rng), headers, body, headEncoding: "latin1" },
    events: [],
  };
}

/** A valid event with one header oddity (repeats, huge, obs-fold, non-ASCII, empty, bad %). */
function headerEdge(rng: Prng, ctx: HostileContext): Hostile {
  const model = validEvent(rng, ctx.nextTag(), true);
  const auth: Header[] =
    ctx.publisher === undefined ? [] : [["Authorization", `Bearer ${ctx.publisher}`]];
  const req = binaryRequest(rng, model, { auth, target: rng.pick(["/events", "/"]) });
  const headers = [...req.headers] as Header[];
  const events: SentEvent[] = [{ model, strict: false, viaBinary: true }];
  const ce = (name: string) => headers.findIndex(([n]) => n.toLowerCase() === name);
  const edit = rng.int(0, 14);
  switch (edit) {
    case 0:
      headers.push(["ce-id", `${String(model.attrs.id)}-again`]);
      break;
    case 1:
      headers.push(["Content-Type", rng.pick(["text/plain", "application/json", "image/png"])]);
      break;
    case 2:
      headers.push(["Authorization", rng.pick(["Bearer x", `Bearer ${ctx.publisher ?? "y"}`, ""])]);
      break;
    case 3:
      headers.push(["Host", rng.pick(["evil.example", "127.0.0.1", ""])]);
      break;
    case 4:
      headers.push(["ce-fzhuge", "h".repeat(rng.pick([4000, 15_000, 17_000, 40_000, 100_000]))]);
      break;
    case 5:
      for (let i = rng.int(50, 2500); i > 0; i--) headers.push([`X-Fz-${i}`, rng.word()]);
      break;
    case 6: {
      // obs-fold (RFC 9112 5.2): a line starting with a space continues the header before it.
      const i = ce("ce-type");
      const [n, v] = headers[i] as Header;
      headers[i] = [n, `${v}\r\n ${rng.word()}`];
      break;
    }
    case 7: {
      // Raw bytes 0x80-0xFF in a value (latin1 head: one byte each).
      const i = ce(rng.pick(["ce-id", "ce-source", "ce-type", "ce-subject"]));
      if (i >= 0) {
        const [n, v] = headers[i] as Header;
        headers[i] = [n, `${v}${String.fromCharCode(rng.int(0x80, 0xff), rng.int(0x80, 0xff))}`];
      }
      return { label: "hdr-nonascii", req: { ...req, headers, headEncoding: "latin1" }, events };
    }
    case 8: {
      const i = ce(rng.pick(["ce-id", "ce-source", "ce-type", "ce-specversion"]));
      headers[i] = [(headers[i] as Header)[0], ""];
      break;
    }
    case 9: {
      const i = ce(rng.pick(["ce-id", "ce-source", "ce-type", "ce-subject"]));
      if (i >= 0) {
        const [n, v] = headers[i] as Header;
        headers[i] = [
          n,
          `${v}${rng.pick(["%", "%4", "%zz", "%C3", "%C3%28", "%ED%A0%80", "%F4%90%80%80", "%C0%AF", "%00", "%0D%0A", "%25", "%%", "%E2%80%AE", "%EF%BB%BF"])}`,
        ];
      }
      break;
    }
    case 10:
      headers.push([rng.pick(["ce-", "ce-ID", "Ce-Id", "CE-SOURCE"]), rng.word()]);
      break;
    case 11:
      headers.push([
        "Content-Length",
        String(Number((req.body as Uint8Array).length) + rng.pick([0, 1])),
      ]);
      break;
    case 12:
      headers.push([
        rng.pick(["X-Empty", "ce-fzempty", "Traceparent", "Tracestate", "Baggage"]),
        "",
      ]);
      break;
    case 13:
      headers.push([
        rng.pick(["Traceparent", "Tracestate", "Baggage"]),
        rng.pick([
          `00-${"0".repeat(32)}-${"0".repeat(16)}-01`,
          "ff-x-y-z",
          "a=".repeat(5000),
          "\u00ff\u00fe",
        ]),
      ]);
      return { label: "hdr-trace", req: { ...req, headers, headEncoding: "latin1" }, events };
    default:
      headers.push([`X-${"n".repeat(rng.int(1, 9000))}`, "v"]);
      break;
  }
  return { label: `hdr-${edit}`, req: { ...req, headers }, events };
}

/** A forged, expired or otherwise bad token on a publish, a webhook or an admin route. */
function badToken(rng: Prng, ctx: HostileContext): Hostile {
  if (ctx.forged.length === 0) return randomBody(rng, ctx);
  const [name, token] = rng.pick(ctx.forged);
  const model = validEvent(rng, ctx.nextTag(), false);
  const where = rng.int(0, 3);
  const viaQuery = rng.chance(0.15);
  const auth: Header[] = viaQuery ? [] : [["Authorization", `Bearer ${token}`]];
  const q = viaQuery ? `?access_token=${encodeURIComponent(token)}` : "";
  if (where === 0) {
    const req = structuredRequest(rng, model, { auth, target: `/events${q}` });
    return { label: `jwt-${name}-publish`, req, events: [] };
  }
  if (where === 1) {
    const req = jsonRequest(
      { auth, target: `/webhooks/${rng.pick(ADAPTER_IDS)}${q}` },
      "application/json",
      "{}",
    );
    return { label: `jwt-${name}-webhook`, req, events: [] };
  }
  const method = rng.pick(["GET", "HEAD", "POST", "DELETE"]);
  const target = `${rng.pick(["/subscriptions", "/subscriptions/s", "/metrics", "/store/backup", "/subscriptions/s/dead"])}${q}`;
  return { label: `jwt-${name}-admin`, req: { method, target, headers: base(auth) }, events: [] };
}

/** Path traversal and odd encodings in subscription, dead-delivery and adapter ids. */
const ODD_IDS = [
  "..",
  "%2e%2e",
  "%2E%2E%2F%2E%2E%2Fetc%2Fpasswd",
  "..%2f..%2f..%2fetc%2fpasswd",
  "..%5c..%5cwindows",
  "%c0%ae%c0%ae",
  "%252e%252e",
  "%u002e%u002e",
  "%",
  "%zz",
  "%ff%fe",
  "%ed%a0%80",
  "%00",
  "s%00",
  "s%0d%0aSet-Cookie:%20x=1",
  "%E2%80%AE",
  "%EF%BC%85",
  "s;x=1",
  "s%3Fa=b",
  "s%23f",
  "S",
  "s%20",
  "%20s",
  "s.",
  "~",
  "a".repeat(5000),
  "%41".repeat(2000),
  "\u0130",
  "*",
  "(",
  "'",
  "s'%20OR%20'1'='1",
];

function oddId(rng: Prng, ctx: HostileContext): Hostile {
  const id = rng.pick(ODD_IDS);
  const [method, target] = rng.pick<[string, string]>([
    [rng.pick(["GET", "PUT", "DELETE", "HEAD"]), `/subscriptions/${id}`],
    ["GET", `/subscriptions/${id}/dead`],
    [rng.pick(["GET", "DELETE"]), `/subscriptions/s/dead/${id}`],
    [rng.pick(["GET", "DELETE"]), `/subscriptions/${id}/dead/${id}`],
    ["POST", `/subscriptions/${id}/redrive`],
    [rng.pick(["POST", "OPTIONS"]), `/webhooks/${id}`],
    ["GET", `/${id}`],
    ["GET", `/store/${id}`],
    ["GET", `/subscriptions/s/dead?after=${id}&limit=${rng.pick(["1", id])}`],
  ]);
  const auth =
    ctx.admin === undefined ? [] : ([["Authorization", `Bearer ${ctx.admin}`]] as Header[]);
  const headers = base(auth);
  if (method === "PUT" || method === "POST") {
    const body = Buffer.from(
      method === "PUT"
        ? JSON.stringify({ id: decodeSafely(id), sink: "http://127.0.0.1:1/odd" })
        : JSON.stringify({ jobIds: [decodeSafely(id)] }),
    );
    headers.push(["Content-Type", "application/json"], ["Content-Length", String(body.length)]);
    return {
      label: `id-${method}`,
      req: { method, target, headers, body, headEncoding: "latin1" },
      events: [],
    };
  }
  return {
    label: `id-${method}`,
    req: { method, target, headers, headEncoding: "latin1" },
    events: [],
  };
}

function decodeSafely(id: string): string {
  try {
    return decodeURIComponent(id);
  } catch {
    return id;
  }
}

/** `/store/backup` with every method, token and header a client might send. */
function backupRequest(rng: Prng, ctx: HostileContext): Hostile {
  const method = rng.pick(["GET", "GET", "HEAD", "POST", "OPTIONS", "DELETE"]);
  const token = rng.pick([ctx.admin, ctx.admin, ctx.publisher, undefined]);
  const viaQuery = token !== undefined && rng.chance(0.2);
  const headers = base(
    token === undefined || viaQuery ? [] : [["Authorization", `Bearer ${token}`]],
  );
  if (rng.chance(0.3))
    headers.push([
      rng.pick(["Range", "If-Range", "If-None-Match", "Accept", "Accept-Encoding"]),
      rng.pick(["bytes=0-10", "bytes=-1", "bytes=99999999-", "bytes=0-1,5-6", "*", "gzip, br", ""]),
    ]);
  return {
    label: `backup-${method}`,
    req: {
      method,
      target: `/store/backup${viaQuery ? `?access_token=${token}` : rng.chance(0.1) ? "?x=%zz" : ""}`,
      headers,
    },
    events: [],
  };
}

/** The Webhook handshake (CloudEvents HTTP Webhook spec, section 4) with odd headers. */
function optionsHandshake(rng: Prng, ctx: HostileContext): Hostile {
  const headers = base(rng.chance(0.5) ? anyAuth(rng, ctx) : []);
  const n = rng.int(0, 4);
  for (let i = 0; i < n; i++)
    headers.push([
      rng.pick([
        "WebHook-Request-Origin",
        "WebHook-Request-Rate",
        "WebHook-Request-Callback",
        "Origin",
        "Access-Control-Request-Method",
      ]),
      rng.pick([
        "",
        "a.example",
        "*",
        "a.example, b.example",
        "é.example",
        "x".repeat(8000),
        "-1",
        "0",
        "1e9",
        "120",
        "abc",
        "http://127.0.0.1:1/cb",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://[::1",
        "POST",
      ]),
    ]);
  return {
    label: "options",
    req: { method: "OPTIONS", target: anyPath(rng), headers, headEncoding: "latin1" },
    events: [],
  };
}

/** A method nobody routes, on any path. */
function oddMethod(rng: Prng, ctx: HostileContext): Hostile {
  const method = rng.pick([
    "TRACE",
    "CONNECT",
    "PROPFIND",
    "MKCOL",
    "LOCK",
    "QUERY",
    "SEARCH",
    "BREW",
    "PURGE",
    "LINK",
  ]);
  const target = method === "CONNECT" ? rng.pick(["127.0.0.1:1", anyPath(rng)]) : anyPath(rng);
  return {
    label: `method-${method}`,
    req: { method, target, headers: base(anyAuth(rng, ctx)) },
    events: [],
  };
}

/** A valid event from a slow client: its bytes dribble in. Must be accepted and delivered. */
function dribbled(rng: Prng, ctx: HostileContext): Hostile {
  const binary = rng.chance(0.5);
  const model: EventModel = validEvent(rng, ctx.nextTag(), binary);
  const auth: Header[] =
    ctx.publisher === undefined ? [] : [["Authorization", `Bearer ${ctx.publisher}`]];
  const req = binary
    ? binaryRequest(rng, model, { auth, target: "/events" })
    : structuredRequest(rng, model, { auth, target: "/events" });
  return {
    label: "slow-valid",
    req: { ...req, dribble: { chunk: rng.int(1, 64), delayMs: rng.int(1, 15) } },
    events: [{ model, strict: true, viaBinary: binary }],
  };
}

/** A request cut short: the body shorter than its framing says, ended by a half-close. */
function truncated(rng: Prng, ctx: HostileContext): Hostile {
  const model = validEvent(rng, ctx.nextTag(), false);
  const auth: Header[] =
    ctx.publisher === undefined ? [] : [["Authorization", `Bearer ${ctx.publisher}`]];
  const req = structuredRequest(rng, model, {
    auth,
    target: rng.pick(["/events", "/", `/webhooks/${rng.pick(ADAPTER_IDS)}`, "/subscriptions"]),
  });
  const body = Buffer.from(req.body as Uint8Array);
  const cut = body.subarray(0, rng.int(0, body.length - 1));
  if (rng.chance(0.5)) {
    // Chunked, and the chunks stop (no last chunk).
    const headers = setHeader(req, "Content-Length", undefined).headers.concat([
      ["Transfer-Encoding", "chunked"],
    ]);
    const chunked = Buffer.from(
      `${cut.length.toString(16)}\r\n${cut.toString("latin1")}\r\n`,
      "latin1",
    );
    return {
      label: "cut-chunked",
      req: { ...req, headers, body: chunked, halfClose: true },
      events: [],
    };
  }
  return {
    label: "cut-length",
    req: { ...withBody(req, body), body: cut, halfClose: true },
    events: [],
  };
}

/**
 * One hostile request, its kind drawn at random (`weights`: how often each kind comes, in the
 * order random body, header edge, bad token, odd id, backup, handshake, method, slow, cut).
 */
export function hostileRequest(rng: Prng, ctx: HostileContext): Hostile {
  const kinds = [
    randomBody,
    headerEdge,
    badToken,
    oddId,
    backupRequest,
    optionsHandshake,
    oddMethod,
    dribbled,
    truncated,
  ];
  const weights = [30, 20, 12, 12, 4, 6, 4, 4, 8];
  let roll = rng.int(0, weights.reduce((a, b) => a + b, 0) - 1);
  for (const [i, w] of weights.entries()) {
    if (roll < w) return (kinds[i] as typeof randomBody)(rng, ctx);
    roll -= w;
  }
  return randomBody(rng, ctx);
}

/**
 * Requests that stall: a head that never ends, a body that stops short of its length, chunks
 * that stop, a connection that sends nothing. They are held open during the run; the gateway
 * must keep serving the others, and answer an unfinished head with `408` (its 20 s limit).
 */
export function stalledRequests(
  publisher: string | undefined,
): { label: string; bytes: Buffer; headDone: boolean }[] {
  const auth = publisher === undefined ? "" : `Authorization: Bearer ${publisher}\r\n`;
  const ev = '{"specversion":"1.0","id":"stall","source":"/stall","type":"com.example.fz.stall"}';
  return [
    { label: "stall-nothing", bytes: Buffer.alloc(0), headDone: false },
    { label: "stall-request-line", bytes: Buffer.from("POST /ev"), headDone: false },
    {
      label: "stall-head",
      bytes: Buffer.from(`POST /events HTTP/1.1\r\nHost: x\r\n${auth}Content-Ty`),
      headDone: false,
    },
    {
      label: "stall-body",
      bytes: Buffer.from(
        `POST /events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/cloudevents+json\r\nContent-Length: ${ev.length + 10}\r\n\r\n${ev}`,
      ),
      headDone: true,
    },
    {
      label: "stall-chunks",
      bytes: Buffer.from(
        `POST /events HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/cloudevents+json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"spe\r\n`,
      ),
      headDone: true,
    },
  ];
}
