/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) values, parsed strictly and cheaply:
 * ingest reads them from every request, so a malformed one must cost little and never fail.
 */
export interface TraceContext {
  /** 32 lower-case hex digits, not all zero. */
  readonly traceId: string;
  /** 16 lower-case hex digits, not all zero. */
  readonly spanId: string;
  /** The trace-flags byte (bit 0: sampled). */
  readonly flags: number;
  /** A valid `tracestate` list, or `undefined`. */
  readonly tracestate?: string;
}

const HEX = /^[0-9a-f]+$/;
const ZERO_TRACE = "00000000000000000000000000000000";
const ZERO_SPAN = "0000000000000000";

/**
 * The trace-flags bits Herald passes on: sampled (01) and Level 2's random trace id (02; Herald
 * keeps the trace id). Section 3.2.2.5: the others are reserved and vendors MUST set them to
 * zero, so a `-ff` from a producer goes on as `-03`.
 */
const KNOWN_FLAGS = 0x03;

/**
 * Parses a `traceparent` value (section 3.2): `version-traceid-parentid-flags`. Version `00` must
 * be exactly 55 characters; a later version may carry more after a `-` (3.2.4: parse what this
 * version knows). Upper-case hex, version `ff`, all-zero ids and anything else malformed give
 * `undefined`: the request then simply has no incoming trace context. Reserved flag bits are
 * cleared.
 *
 * @example
 * parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
 * // { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7", flags: 1 }
 */
export function parseTraceparent(value: string | undefined): TraceContext | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text.length < 55 || text.length > 512) return undefined;
  const version = text.slice(0, 2);
  if (!HEX.test(version) || version === "ff") return undefined;
  if (version === "00" ? text.length !== 55 : text.length > 55 && text[55] !== "-") {
    return undefined;
  }
  if (text[2] !== "-" || text[35] !== "-" || text[52] !== "-") return undefined;
  const traceId = text.slice(3, 35);
  const spanId = text.slice(36, 52);
  const flags = text.slice(53, 55);
  if (!HEX.test(traceId) || !HEX.test(spanId) || !HEX.test(flags)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId, spanId, flags: Number.parseInt(flags, 16) & KNOWN_FLAGS };
}

/** Level 2's random trace-id flag (section 3.2.2.5): the trace id's right-most 7 bytes are random. */
const RANDOM_FLAG = 0x02;

/**
 * `own`, a context that continues `parent`'s trace, with `parent`'s random trace-id flag: Level 2
 * 3.2.2.5 says an outgoing `traceparent` with the incoming trace id MUST have that flag as it
 * came. An OpenTelemetry span's context carries only the sampled bit, so it is put back here.
 * `own` is returned as it is when it is another trace, or when the flag already agrees.
 *
 * @example
 * withParentRandomFlag({ traceId: T, spanId: S, flags: 1 }, { traceId: T, spanId: P, flags: 3 });
 * // { traceId: T, spanId: S, flags: 3 }
 */
export function withParentRandomFlag<C extends TraceContext>(
  own: C,
  parent: TraceContext | undefined,
): C {
  if (parent === undefined || parent.traceId !== own.traceId) return own;
  const flags = (own.flags & ~RANDOM_FLAG) | (parent.flags & RANDOM_FLAG);
  return flags === own.flags ? own : { ...own, flags };
}

/** `traceparent` text of a context (version 00). */
export function formatTraceparent(context: Omit<TraceContext, "tracestate">): string {
  const flags = (context.flags & 0xff).toString(16).padStart(2, "0");
  return `00-${context.traceId}-${context.spanId}-${flags}`;
}

const SIMPLE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;
const TENANT_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/;
// Printable ASCII except "," and "=", not ending in a space (section 3.3.1.3.2).
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
/** Longest `tracestate` passed on (3.3.1.5 asks to propagate at least 512 characters). */
export const MAX_TRACESTATE_LENGTH = 512;

/**
 * Checks a `tracestate` value (section 3.3): at most 32 `key=value` members, valid keys and
 * values, no key twice; empty members are allowed. Returns it in canonical form (members joined
 * with ","), or `undefined` when it is invalid or empty: a vendor may drop a tracestate it cannot
 * trust, and Herald does rather than pass on garbage. A valid one longer than 512 characters is
 * cut as section 3.3.1.5 says (propagate at least 512; truncate members over 128 characters
 * first, then from the end), not dropped: its first members are the latest vendors'.
 *
 * @example
 * parseTracestate("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE"); // "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
 * parseTracestate("Bad Key=1"); // undefined
 */
export function parseTracestate(value: string | undefined): string | undefined {
  if (value === undefined || value.length > 8192) return undefined;
  const members: string[] = [];
  const keys = new Set<string>();
  for (const raw of value.split(",")) {
    const member = raw.trim();
    if (member === "") continue;
    const eq = member.indexOf("=");
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const val = member.slice(eq + 1);
    if (!(SIMPLE_KEY.test(key) || TENANT_KEY.test(key)) || !VALUE.test(val)) return undefined;
    if (keys.has(key)) return undefined;
    keys.add(key);
    members.push(member);
    if (members.length > 32) return undefined;
  }
  const joined = members.join(",");
  if (joined === "") return undefined;
  return joined.length > MAX_TRACESTATE_LENGTH ? truncateTracestate(members) : joined;
}

/** Longest member kept while the whole is over the limit (section 3.3.1.5). */
const LONG_MEMBER = 128;

/** Valid members whose list is too long, cut to at most 512 characters (section 3.3.1.5). */
function truncateTracestate(members: readonly string[]): string | undefined {
  const kept = members.filter((member) => member.length <= LONG_MEMBER);
  let length = kept.reduce((sum, member) => sum + member.length, kept.length - 1);
  while (length > MAX_TRACESTATE_LENGTH) {
    const dropped = kept.pop() as string;
    length -= dropped.length + 1;
  }
  return kept.length === 0 ? undefined : kept.join(",");
}

/**
 * The trace context of an incoming request's `traceparent` and `tracestate` headers, or
 * `undefined` when there is no valid `traceparent` (a `tracestate` alone means nothing, 3.3).
 */
export function incomingTraceContext(
  traceparent: string | undefined,
  tracestate: string | undefined,
): TraceContext | undefined {
  const parent = parseTraceparent(traceparent);
  if (parent === undefined) return undefined;
  const state = parseTracestate(tracestate);
  return state === undefined ? parent : { ...parent, tracestate: state };
}

const HEX_BYTE = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
/** Random bytes drawn in bulk: one `getRandomValues` call serves many ids. */
const pool = new Uint8Array(4096);
let poolAt = pool.length;

/**
 * Random ids for trace context that must exist without a tracing SDK (the gateway still starts
 * a trace for events that come without one, and each delivery still sends a `traceparent`).
 * `length` hex digits from the Web Crypto random source, drawn from a pool refilled in bulk.
 */
export function randomHex(length: 16 | 32): string {
  const bytes = length / 2;
  if (poolAt + bytes > pool.length) {
    crypto.getRandomValues(pool);
    poolAt = 0;
  }
  let out = "";
  let zero = true;
  for (let i = 0; i < bytes; i++) {
    const byte = pool[poolAt++] as number;
    if (byte !== 0) zero = false;
    out += HEX_BYTE[byte];
  }
  // An all-zero id is invalid; the odds are 2^-64 at worst, but never send one.
  return zero ? `${out.slice(0, -1)}1` : out;
}
