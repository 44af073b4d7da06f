import type { Prng } from "./prng.js";
import type { RawRequest } from "./raw-http.js";

/** An attribute value of the CloudEvents type system as JSON carries it. */
export type Attr = string | number | boolean;

/** The data of a generated event. */
export type EventData =
  | { readonly kind: "json"; readonly text: string }
  | { readonly kind: "text"; readonly text: string; readonly charset: "utf-8" | "iso-8859-1" }
  | { readonly kind: "bytes"; readonly bytes: Uint8Array };

/** A valid event the generator knows the meaning of. */
export interface EventModel {
  readonly attrs: Record<string, Attr>;
  readonly data?: EventData;
}

/**
 * An event sent in a request: `strict` when the request only used encodings that keep its
 * meaning (then a 202 means a sink must get exactly `model`), else only `id`/`source` are known
 * to be as sent (a 202 still means a sink must get it).
 */
export interface SentEvent {
  readonly model: EventModel;
  readonly strict: boolean;
  /** Binary-mode ingest: unknown extensions arrive as strings whatever their JSON type. */
  readonly viaBinary: boolean;
  /** The publisher token's `sub` (`undefined`: no auth, so `authtype: unauthenticated`). */
  readonly authid?: string;
  /** The request that carried it, for reports. */
  readonly request?: string;
}

export interface Generated {
  readonly label: string;
  readonly req: RawRequest;
  /** Events that a 202 answer makes the gateway responsible for. */
  readonly events: readonly SentEvent[];
}

const SAFE_UNICODE = [
  "é",
  "€",
  "😀",
  "日本",
  " ",
  "%",
  '"',
  "\\",
  "'",
  "+",
  "/",
  "#",
  "?",
  "&",
  "=",
];

/** A string that is a valid CloudEvents String: no controls, lone surrogates or noncharacters. */
function validText(rng: Prng, max = 12): string {
  let out = "";
  const n = rng.int(1, max);
  for (let i = 0; i < n; i++) out += rng.chance(0.3) ? rng.pick(SAFE_UNICODE) : rng.word(1, 3);
  return out;
}

function validTime(rng: Prng): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  const date = `${rng.int(1970, 2099)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`;
  const leap = rng.chance(0.05);
  const time = leap
    ? "23:59:60"
    : `${pad(rng.int(0, 23))}:${pad(rng.int(0, 59))}:${pad(rng.int(0, 59))}`;
  const frac = rng.chance(0.5) ? `.${rng.text(rng.int(1, 9), "0123456789")}` : "";
  const zone = leap ? rng.pick(["Z", "z"]) : rng.pick(["Z", "z", "+00:00", "-05:30", "+14:00"]);
  return `${date}${rng.pick(["T", "t"])}${time}${frac}${zone}`;
}

function validSource(rng: Prng): string {
  return rng.pick([
    `/fz/${rng.word()}`,
    `urn:fz:${rng.word()}`,
    `https://example.com/${rng.word()}?q=${rng.word()}#f`,
    `fz-${rng.word()}`,
    `/fz/a%20b/${rng.word()}`,
    "//host.example/p",
    `mailto:${rng.word()}@example.com`,
  ]);
}

/** JSON text of a value with edge numbers, escapes and nesting that stays valid JSON. */
export function jsonText(rng: Prng, depth = 0): string {
  const roll = rng.int(0, depth > 4 ? 5 : 8);
  switch (roll) {
    case 0:
      return rng.pick([
        "0",
        "-0",
        "1e400",
        "-1e-400",
        "12345678901234567890123",
        "2147483648",
        "-2147483649",
        "1.5E+10",
        "0.1",
        "9007199254740993",
      ]);
    case 1:
      return rng.pick(["true", "false", "null"]);
    case 2:
      return JSON.stringify(validText(rng));
    case 3:
      return rng.pick([
        '"\\u0000"',
        '"\\ud800"',
        '"\\udc00x"',
        '"\\ud83d\\ude00"',
        '"\\/"',
        '"\\u001b[2J"',
        '"\u2028"',
        '"\uffff"',
      ]);
    case 4:
      return `"${rng.word()}"`;
    case 5:
      return String(rng.int(-1000, 1000));
    case 6:
    case 7: {
      const n = rng.int(0, 4);
      const members: string[] = [];
      for (let i = 0; i < n; i++)
        members.push(
          `${JSON.stringify(rng.chance(0.2) ? rng.pick(["__proto__", "constructor", "", "data"]) : rng.word())}:${jsonText(rng, depth + 1)}`,
        );
      return `{${members.join(rng.pick([",", " , "]))}}`;
    }
    default: {
      const n = rng.int(0, 4);
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(jsonText(rng, depth + 1));
      return `[${items.join(",")}]`;
    }
  }
}

const KNOWN_CT_JSON = ["application/json", "application/vnd.fz+json", "text/json; charset=utf-8"];

/** A valid event, its `id` prefixed by `tag` so that it is unique across the run. */
export function validEvent(rng: Prng, tag: string, binary: boolean): EventModel {
  const attrs: Record<string, Attr> = {
    specversion: "1.0",
    id: rng.chance(0.5) ? `${tag}-${validText(rng, 4)}` : tag,
    source: validSource(rng),
    type: rng.chance(0.7) ? `com.example.fz.${rng.word()}` : validText(rng),
  };
  if (rng.chance(0.4)) attrs.subject = validText(rng);
  if (rng.chance(0.4)) attrs.time = validTime(rng);
  if (rng.chance(0.2)) attrs.dataschema = `https://schemas.example.com/${rng.word()}`;
  const extensions = rng.chance(0.05) ? rng.int(30, 120) : rng.int(0, 4);
  for (let i = 0; i < extensions; i++) {
    const name = `fz${rng.word(1, 10)}${i}`.slice(0, 20);
    attrs[name] = binary
      ? validText(rng, 6)
      : rng.pick<Attr>([
          validText(rng, 6),
          rng.pick([0, 1, -1, 2147483647, -2147483648]),
          rng.chance(0.5),
        ]);
  }
  if (rng.chance(0.1)) attrs.sampledrate = rng.pick([1, 2147483647]);
  if (rng.chance(0.1)) attrs.deprecated = rng.chance(0.5);
  const dataKind = rng.int(0, 4);
  let data: EventData | undefined;
  if (dataKind === 0) {
    // no data
  } else if (dataKind === 1 || dataKind === 2) {
    data = { kind: "json", text: jsonText(rng) };
    const ct = rng.pick([...KNOWN_CT_JSON, undefined]);
    if (ct !== undefined || binary) attrs.datacontenttype = ct ?? "application/json";
  } else if (dataKind === 3) {
    const latin = rng.chance(0.3);
    data = {
      kind: "text",
      text: latin ? `caf${rng.pick(["é", "e", "ü"])} ${rng.word()}` : validText(rng, 20),
      charset: latin ? "iso-8859-1" : "utf-8",
    };
    attrs.datacontenttype = latin
      ? rng.pick(["text/plain; charset=iso-8859-1", "text/plain;charset=ISO-8859-1"])
      : rng.pick(["text/plain", "text/plain; charset=utf-8", 'text/plain; charset="UTF-8"']);
  } else {
    data = { kind: "bytes", bytes: rng.bytes(rng.int(0, 64)) };
    attrs.datacontenttype = rng.pick(["application/octet-stream", "image/png"]);
  }
  return data === undefined ? { attrs } : { attrs, data };
}

/** The binding's percent-encoding (3.1.3.2), plus, at random, characters that need none. */
export function percentEncode(rng: Prng, value: string, extra: number): string {
  let out = "";
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    const must = code <= 0x20 || code >= 0x7f || ch === '"' || ch === "%";
    if (must || rng.chance(extra)) {
      for (const byte of Buffer.from(ch, "utf8")) {
        const hex = byte.toString(16).padStart(2, "0");
        out += `%${rng.chance(0.5) ? hex.toUpperCase() : hex}`;
      }
    } else out += ch;
  }
  return out;
}

function headerCase(rng: Prng, name: string): string {
  if (rng.chance(0.7)) return name;
  return [...name].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c)).join("");
}

/** The bytes of `data` as a binary-mode body. */
export function dataBytes(data: EventData): Uint8Array {
  if (data.kind === "bytes") return data.bytes;
  if (data.kind === "text" && data.charset === "iso-8859-1")
    return Buffer.from(data.text, "latin1");
  return Buffer.from(data.text, "utf8");
}

/** The event as a structured-mode JSON member list (text), data as `data` or `data_base64`. */
export function structuredText(rng: Prng, model: EventModel): string {
  const members = Object.entries(model.attrs).map(([k, v]) => [
    JSON.stringify(k),
    JSON.stringify(v),
  ]);
  const data = model.data;
  if (data?.kind === "json") members.push(['"data"', data.text]);
  else if (data?.kind === "text") members.push(['"data"', JSON.stringify(data.text)]);
  else if (data?.kind === "bytes")
    members.push(['"data_base64"', JSON.stringify(Buffer.from(data.bytes).toString("base64"))]);
  for (let i = members.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [members[i], members[j]] = [members[j] as string[], members[i] as string[]];
  }
  const ws = rng.chance(0.3) ? rng.pick([" ", "\n", "\t", "\r\n  "]) : "";
  return `${ws}{${members.map(([k, v]) => `${ws}${k}${ws}:${ws}${v}`).join(`,${ws}`)}${ws}}${ws}`;
}

export interface EncodeContext {
  readonly auth: readonly (readonly [string, string])[];
  readonly target: string;
}

/** A binary-mode request for `model` (meaning kept), ready for mutation. */
export function binaryRequest(rng: Prng, model: EventModel, ctx: EncodeContext): RawRequest {
  const headers: (readonly [string, string])[] = [
    ["Host", "127.0.0.1"],
    ["Connection", "close"],
    ...ctx.auth,
  ];
  const extra = rng.chance(0.3) ? 0.3 : 0;
  for (const [name, value] of Object.entries(model.attrs)) {
    if (name === "datacontenttype") continue;
    headers.push([headerCase(rng, `ce-${name}`), percentEncode(rng, String(value), extra)]);
  }
  const ct = model.attrs.datacontenttype;
  if (typeof ct === "string") headers.push([headerCase(rng, "Content-Type"), ct]);
  const body = model.data === undefined ? new Uint8Array() : dataBytes(model.data);
  headers.push(["Content-Length", String(body.length)]);
  return { method: "POST", target: ctx.target, headers, body };
}

const STRUCTURED_CT = [
  "application/cloudevents+json",
  "application/cloudevents+json; charset=utf-8",
  "Application/CloudEvents+JSON; charset=UTF-8",
  'application/cloudevents+json;charset="utf-8"',
];
const BATCH_CT = [
  "application/cloudevents-batch+json",
  "application/cloudevents-batch+json; charset=utf-8",
];

/** A request with a JSON body of the given content type. */
export function jsonRequest(
  ctx: EncodeContext,
  contentType: string | undefined,
  body: string | Uint8Array,
): RawRequest {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const headers: (readonly [string, string])[] = [
    ["Host", "127.0.0.1"],
    ["Connection", "close"],
    ...ctx.auth,
  ];
  if (contentType !== undefined) headers.push(["Content-Type", contentType]);
  headers.push(["Content-Length", String(bytes.length)]);
  return { method: "POST", target: ctx.target, headers, body: bytes };
}

export function structuredRequest(rng: Prng, model: EventModel, ctx: EncodeContext): RawRequest {
  return jsonRequest(ctx, rng.pick(STRUCTURED_CT), structuredText(rng, model));
}

export function batchRequest(
  rng: Prng,
  models: readonly EventModel[],
  ctx: EncodeContext,
): RawRequest {
  return jsonRequest(
    ctx,
    rng.pick(BATCH_CT),
    `[${models.map((m) => structuredText(rng, m)).join(",")}]`,
  );
}

/** Replaces the first header named `name` (any case) or adds it. */
export function setHeader(req: RawRequest, name: string, value: string | undefined): RawRequest {
  const headers = req.headers.filter(([n]) => n.toLowerCase() !== name.toLowerCase());
  if (value !== undefined) headers.push([name, value]);
  return { ...req, headers };
}

/** The request with a new body and a matching `Content-Length`. */
export function withBody(req: RawRequest, body: Uint8Array | string): RawRequest {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  return { ...setHeader(req, "Content-Length", String(bytes.length)), body: bytes };
}
