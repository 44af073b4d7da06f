import type { Prng } from "./prng.js";
import type { RawRequest } from "./raw-http.js";

const IDENTS = [
  "id",
  "source",
  "type",
  "subject",
  "time",
  "specversion",
  "fzx",
  "dataref",
  "sampledrate",
  "Upper",
  "data",
  "a_b",
];
const FUNCS = [
  "LENGTH",
  "CONCAT",
  "CONCAT_WS",
  "LOWER",
  "UPPER",
  "TRIM",
  "LEFT",
  "RIGHT",
  "SUBSTRING",
  "ABS",
  "INT",
  "BOOL",
  "STRING",
  "IS_INT",
  "IS_BOOL",
  "FOO",
];

/** A CESQL expression from the grammar of cesql/spec.md (section 4), sometimes broken. */
export function cesql(rng: Prng, depth = 0): string {
  const leaf = depth > 3 || rng.chance(0.3);
  if (leaf) {
    return rng.pick([
      () => rng.pick(IDENTS),
      () => `'${rng.word()}'`,
      () => `"${rng.word()}"`,
      () => `'it''s'`,
      () => String(rng.pick([0, 1, -1, 2147483647, 2147483648, -2147483648, 99999999999])),
      () => rng.pick(["TRUE", "FALSE", "true"]),
      () => `'${rng.oddText(4).replace(/'/g, "''")}'`,
    ])();
  }
  const a = () => cesql(rng, depth + 1);
  return rng.pick([
    () => `${a()} ${rng.pick(["=", "!=", "<>", "<", "<=", ">", ">="])} ${a()}`,
    () => `${a()} ${rng.pick(["AND", "OR", "XOR"])} ${a()}`,
    () => `NOT ${a()}`,
    () => `(${a()})`,
    () => `-${a()}`,
    () => `${a()} ${rng.pick(["+", "-", "*", "/", "%"])} ${a()}`,
    () =>
      `${a()} ${rng.chance(0.3) ? "NOT " : ""}LIKE '${rng.pick(["%", "_", "a%b", "\\%", "%%%_", "\\"])}'`,
    () =>
      `${a()} ${rng.chance(0.3) ? "NOT " : ""}IN (${Array.from({ length: rng.int(0, 3) }, a).join(", ")})`,
    () => `EXISTS ${rng.pick(IDENTS)}`,
    () => `${rng.pick(FUNCS)}(${Array.from({ length: rng.int(0, 3) }, a).join(", ")})`,
    () =>
      rng.pick([
        "(",
        ")",
        "AND",
        "''''",
        "1 +",
        "EXISTS",
        "'unterminated",
        "a..b",
        "$",
        "IN ()",
        "\u0000",
      ]),
  ])();
}

const DEEP = "\u0000deep-not:";

/** `body` with each deep-filter placeholder written out as that many nested `not`s. */
function expandDeep(body: string): string {
  return body.replace(/"\\u0000deep-not:(\d+)"/g, (_, n: string) => {
    const depth = Number(n);
    return `${'{"not":'.repeat(depth)}{"exact":{"type":"t"}}${"}".repeat(depth)}`;
  });
}

/** A filter tree (subscriptions spec 3.2.4), sometimes odd. */
export function filter(rng: Prng, depth = 0): unknown {
  if (depth > 4) return { exact: { type: rng.word() } };
  const roll = rng.int(0, 9);
  const attrs = () => {
    const o: Record<string, unknown> = {};
    for (let i = rng.int(0, 2); i > 0; i--)
      o[rng.pick(IDENTS)] = rng.chance(0.9) ? rng.word() : rng.pick([1, null, true, {}, ""]);
    return o;
  };
  switch (roll) {
    case 0:
      return { exact: attrs() };
    case 1:
      return { prefix: attrs() };
    case 2:
      return { suffix: attrs() };
    case 3:
      return { all: Array.from({ length: rng.int(0, 3) }, () => filter(rng, depth + 1)) };
    case 4:
      return { any: Array.from({ length: rng.int(0, 3) }, () => filter(rng, depth + 1)) };
    case 5:
      return { not: filter(rng, depth + 1) };
    case 6:
      return { sql: cesql(rng) };
    case 7: {
      const n = rng.int(10, 20_000);
      return {
        sql: rng.pick([
          () => `${"(".repeat(n)}TRUE${")".repeat(n)}`,
          () => `${"NOT ".repeat(n)}TRUE`,
          () => `${"-".repeat(n)}1 = 1`,
          () => `${"- ".repeat(n)}1 = 1`,
          () => Array.from({ length: Math.min(n, 6000) }, () => "TRUE").join(" AND "),
          () => `${"LOWER(".repeat(n)}type${")".repeat(n)} = 'a'`,
          () =>
            `type IN (${Array.from({ length: Math.min(n, 8000) }, (_, i) => `'${i}'`).join(",")})`,
          () => `type LIKE '${"%".repeat(n)}a'`,
          () => `'${"x".repeat(n)}' = type`,
          () => `${"1 + ".repeat(Math.min(n, 10_000))}1 = 2`,
        ])(),
      };
    }
    case 8:
      return rng.pick<unknown>([
        {},
        null,
        [],
        "x",
        { exact: {}, prefix: {} },
        { sql: 1 },
        { SQL: "TRUE" },
        { not: [] },
      ]);
    default:
      // Written out as text after JSON.stringify (which would overflow the stack here).
      return `${DEEP}${rng.int(50, 7000)}`;
  }
}

/** What the fuzz sink answers under `/api/{behaviour}-...` (see the test's sink). */
export const SINK_BEHAVIOURS = [
  "ok",
  "reply",
  "badreply",
  "gone",
  "error",
  "busy",
  "redirect",
  "huge",
  "bad",
] as const;

function oddDelivery(rng: Prng, sinkUrl: string): Record<string, unknown> {
  const d: Record<string, unknown> = {
    mode: rng.pick(["binary", "structured", "batch"]),
    retry: rng.int(0, 2),
    backoffDelay: "10ms",
    backoffMax: "50ms",
  };
  if (d.mode === "batch") {
    if (rng.chance(0.5)) d.maxBatchSize = rng.pick<unknown>([1, 2, 1000, 0, -1]);
    if (rng.chance(0.5)) d.maxBatchWait = rng.pick<unknown>(["0ms", "5ms", "1s", "x"]);
  } else {
    if (rng.chance(0.4))
      d.reply = rng.pick<unknown>([
        true,
        { sources: ["*"] },
        { types: ["com.example.fz.*"] },
        false,
      ]);
    if (rng.chance(0.15)) d.receipts = true;
  }
  if (rng.chance(0.3)) d.concurrency = rng.pick<unknown>([1, 2, 64, 0]);
  if (rng.chance(0.3)) d.rate = rng.pick<unknown>(["1/s", "1000/s", "5/m", "0/s", "x"]);
  if (rng.chance(0.2)) d.timeout = rng.pick(["100ms", "1s", "5s"]);
  if (rng.chance(0.2)) d.signingSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  if (rng.chance(0.2)) d.deadLetterSink = `${sinkUrl}/api/${rng.pick(SINK_BEHAVIOURS)}-dlq`;
  if (rng.chance(0.1)) d.handshake = true;
  return d;
}

/** A subscription body: valid-ish, delivering to `sinkUrl/api/...`, with random edits. */
export function subscriptionBody(rng: Prng, sinkUrl: string): unknown {
  const body: Record<string, unknown> = {
    sink: `${sinkUrl}/api/${rng.pick(SINK_BEHAVIOURS)}-${rng.word()}`,
  };
  if (rng.chance(0.12)) {
    // A catch-all: it delivers every later event, through odd settings to odd sink answers.
    body.filters = rng.pick<unknown>([
      [],
      [{ sql: "TRUE" }],
      [{ sql: "EXISTS subject" }],
      [{ not: { exact: { type: "x" } } }],
    ]);
    body.delivery = oddDelivery(rng, sinkUrl);
    return body;
  }
  if (rng.chance(0.5))
    body.types = rng.chance(0.9)
      ? [`com.example.fz.${rng.word()}`]
      : rng.pick<unknown>([[], "x", [1], null]);
  if (rng.chance(0.3)) body.source = rng.pick<unknown>([`/fz/${rng.word()}`, "", 1]);
  if (rng.chance(0.8)) body.filters = Array.from({ length: rng.int(0, 3) }, () => filter(rng));
  if (rng.chance(0.2)) body.protocol = rng.pick<unknown>(["HTTP", "http", "MQTT3", 1, null]);
  if (rng.chance(0.2))
    body.protocolsettings = rng.pick<unknown>([
      { headers: { authorization: "<redacted>" } },
      { headers: { "x-api-key": "<redacted>", cookie: "<redacted>" } },
      { headers: { "x-a": "b", authorization: "Bearer x" } },
      { method: "GET" },
      { headers: { "bad name": "v", "x-b": "\r\n" } },
      [],
    ]);
  if (rng.chance(0.3))
    body.delivery = {
      mode: rng.pick(["binary", "structured", "batch", "other"]),
      ...(rng.chance(0.5) ? { retry: rng.pick<unknown>([0, 1, -1, 1e9, "3", 2.5]) } : {}),
      ...(rng.chance(0.5)
        ? { timeout: rng.pick<unknown>(["5s", "PT5S", "0s", "-1s", "10000000h", "x", 5]) }
        : {}),
      ...(rng.chance(0.2)
        ? {
            signingSecret: rng.pick([
              "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
              "x",
              "",
              "<redacted>",
            ]),
          }
        : {}),
      ...(rng.chance(0.2)
        ? { deadLetterSink: rng.pick([`${sinkUrl}/api/dlq?token=abc`, "ftp://x", ""]) }
        : {}),
    };
  if (rng.chance(0.1)) body.config = rng.pick<unknown>([{ a: "b" }, { "": "x" }, {}, []]);
  if (rng.chance(0.1))
    body.sink = rng.pick<unknown>([
      "",
      "not a url",
      "ftp://x/y",
      `${sinkUrl}/api/%zz`,
      `${sinkUrl}/api/ok-r?token=<redacted>&code=<redacted>`,
      `${sinkUrl.replace("127.0.0.1", "localhost")}/api/ok-moved?token=<redacted>`,
      `${sinkUrl}/api/\u00e9`,
      1,
      null,
      `http://[::1`,
      "http://user:pw@127.0.0.1:1/x",
    ]);
  if (rng.chance(0.1))
    body[
      rng.pick([
        "filter",
        "sinkcredential",
        "sinkCredential",
        "id",
        "Unknown",
        "__proto__",
        "constructor",
        "disabled",
      ])
    ] = rng.pick<unknown>([{}, "x", 1, null]);
  return body;
}

/**
 * A reference to the k-th subscription the API created in this run (requests are generated
 * before any is sent, so ids are filled in when a request goes out: see `resolveRefs`).
 */
function apiRef(rng: Prng): string {
  return `~api${rng.int(0, 999)}~`;
}

/**
 * `text` with each `~apiK~`, `~deadsubK~` and `~deadjobK~` replaced by the K-th (modulo) id the
 * run has seen, or an id that names nothing while there is none.
 */
export function resolveRefs(
  text: string,
  ids: readonly string[],
  dead: readonly (readonly [string, string])[],
): string {
  return text.replace(/~(api|deadsub|deadjob)(\d+)~/g, (_, kind: string, n: string) => {
    const k = Number(n);
    if (kind === "api")
      return ids.length === 0 ? "no-such-subscription" : (ids[k % ids.length] as string);
    const pair = dead[k % Math.max(dead.length, 1)];
    if (pair === undefined) return kind === "deadsub" ? "no-such-subscription" : "no-such-job";
    return kind === "deadsub" ? pair[0] : pair[1];
  });
}

/** A Subscriptions API request (method, path, body) with an admin auth from `auth`. */
export function subscriptionRequest(
  rng: Prng,
  ctx: {
    readonly sinkUrl: string;
    readonly auth: readonly (readonly [string, string])[];
  },
): { label: string; req: RawRequest } {
  const id = rng.chance(0.6)
    ? apiRef(rng)
    : rng.pick(["s", "b", "nope", "%2e%2e", "..", "a%2Fb", "%00", "\u00e9", "x".repeat(500), ""]);
  const method = rng.pick([
    "GET",
    "POST",
    "POST",
    "POST",
    "PUT",
    "PUT",
    "PATCH",
    "DELETE",
    "HEAD",
    "OPTIONS",
  ]);
  const path = rng.pick([
    "/subscriptions",
    `/subscriptions/${encodeURIComponent(id)}`,
    `/subscriptions/${encodeURIComponent(id)}/dead`,
    `/subscriptions/${encodeURIComponent(id)}/dead?${rng.pick(["limit=abc", "limit=0", "limit=-1", "limit=1e3", "limit=99999999999999999999", "limit=1&limit=2", "after=", "after=%zz", "after=../x", `after=${"9".repeat(400)}`, "after=1&limit=1"])}`,
    `/subscriptions/${encodeURIComponent(id)}/redrive`,
    `/subscriptions/${encodeURIComponent(id)}/dead/${rng.word()}`,
    "/subscriptions/",
    `/subscriptions/${encodeURIComponent(id)}/`,
  ]);
  let body: string | Uint8Array | undefined;
  let contentType: string | undefined = "application/json";
  if (rng.chance(0.1)) {
    const sub = apiRef(rng);
    const headers: (readonly [string, string])[] = [
      ["Host", "127.0.0.1"],
      ["Connection", "close"],
      ...ctx.auth,
    ];
    return {
      label: "api-dead-list",
      req: { method: "GET", target: `/subscriptions/${sub}/dead`, headers },
    };
  }
  if (rng.chance(0.1)) {
    // Dead deliveries the fuzzer saw listed: read, delete or redrive them, or name odd ones.
    const k = rng.int(0, 999);
    const [sub, job] = [`~deadsub${k}~`, `~deadjob${k}~`];
    const m = rng.pick(["GET", "DELETE", "POST", "POST"]);
    const target =
      m === "POST"
        ? `/subscriptions/${encodeURIComponent(sub)}/redrive`
        : `/subscriptions/${encodeURIComponent(sub)}/dead/${encodeURIComponent(rng.chance(0.8) ? job : `${job}x`)}`;
    const redrive = rng.pick<unknown>([
      { jobIds: [job] },
      { jobIds: [job, job] },
      { jobIds: [] },
      { jobIds: "x" },
      { jobIds: [1, null] },
      { jobIds: Array.from({ length: 5000 }, (_, i) => `${job}${i}`) },
      {},
      [],
    ]);
    const bytes = Buffer.from(JSON.stringify(redrive));
    const headers: (readonly [string, string])[] = [
      ["Host", "127.0.0.1"],
      ["Connection", "close"],
      ...ctx.auth,
    ];
    return m === "POST" && rng.chance(0.8)
      ? {
          label: "api-redrive",
          req: {
            method: m,
            target,
            headers: [
              ...headers,
              ["Content-Type", "application/json"],
              ["Content-Length", String(bytes.length)],
            ],
            body: bytes,
          },
        }
      : { label: `api-dead-${m}`, req: { method: m, target, headers } };
  }
  if (method === "POST" || method === "PUT" || method === "PATCH" || rng.chance(0.1)) {
    const value = subscriptionBody(rng, ctx.sinkUrl);
    if (method === "PUT" && rng.chance(0.5))
      (value as Record<string, unknown>).id = rng.chance(0.5) ? id : rng.word();
    body = expandDeep(JSON.stringify(value));
    if (rng.chance(0.15)) {
      const roll = rng.int(0, 5);
      if (roll === 0) body = body.slice(0, rng.int(0, body.length));
      else if (roll === 1) body = body.replace('"sink"', '"sink":"x","sink"');
      else if (roll === 2)
        contentType = rng.pick([
          "text/plain",
          "application/json; charset=latin1",
          "application/json; charset=utf-8; charset=utf-8",
          undefined,
          "application/merge-patch+json",
        ]);
      else if (roll === 3) body = `{"sink":"${"a".repeat(70_000)}"}`;
      else if (roll === 4) body = `\ufeff${body}`;
      else body = rng.bytes(rng.int(0, 30));
    }
  }
  const bytes =
    body === undefined ? undefined : typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const headers: (readonly [string, string])[] = [
    ["Host", "127.0.0.1"],
    ["Connection", "close"],
    ...ctx.auth,
  ];
  if (bytes !== undefined) {
    if (contentType !== undefined) headers.push(["Content-Type", contentType]);
    headers.push(["Content-Length", String(bytes.length)]);
  }
  return {
    label: `api-${method}`,
    req:
      bytes === undefined
        ? { method, target: path, headers }
        : { method, target: path, headers, body: bytes },
  };
}
