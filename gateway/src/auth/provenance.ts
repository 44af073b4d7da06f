import { checkString } from "../event/attribute-rules.js";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import type { TokenClaims } from "./claims-match.js";

/**
 * `authtype` values of the CloudEvents authcontext extension (cloudevents/extensions/authcontext.md,
 * "authtype"). Herald writes `service_account` for a verified token and `unauthenticated` under
 * `--no-auth`; the others are there for callers that know better.
 */
export type AuthType =
  | "app_user"
  | "user"
  | "service_account"
  | "api_key"
  | "system"
  | "unauthenticated"
  | "unknown";

/** The attributes only the gateway writes (DESIGN.md "Attributes the gateway sets"). */
export const PROVENANCE_ATTRIBUTES = ["recordedtime", "authtype", "authid", "authclaims"] as const;

/**
 * Herald's hop count extension: how many replies lie between an event and the event a producer
 * published (absent for a published event; a reply has its cause's count plus one). Past
 * `limits.maxReplyHops`, a reply is not ingested: a sink that replies to its own replies, or two
 * subscriptions that feed each other, stop there. Only the gateway writes it.
 */
export const HOPS_ATTRIBUTE = "heraldhops";

/**
 * The failure attributes of a dead-lettered event (DESIGN.md "Attributes the gateway sets"): the
 * gateway writes them when it dead-letters an event (`deliver/dead-letter-event.ts`), no one
 * else. A sink or a person reading them must be able to trust they say what happened here.
 */
export const DEAD_LETTER_ATTRIBUTES = [
  "heralderrordest",
  "heralderrorcode",
  "heralderrordata",
  "heraldattempts",
] as const;

/**
 * Claims copied into `authclaims`, in this order: who issued the token, for whom, to which
 * client, with what scope. Nothing else: other claims may be personal data or secrets, and the
 * extension forbids credentials (authclaims: "MUST NOT contain actual credentials").
 */
const SHARED_CLAIMS = ["iss", "sub", "aud", "azp", "client_id", "scope"] as const;

export interface ProvenanceOptions {
  /** The verified token's payload. */
  readonly claims: TokenClaims;
  /** When the gateway records the event (clock ms). */
  readonly recordedAt: number;
  /**
   * Default `service_account`: a Herald publisher is a service holding a token issued to it
   * ("a non-user principal used to identify a service"). Pass `app_user` for end-user tokens.
   */
  readonly authtype?: AuthType;
}

/**
 * A copy of `event` carrying the gateway's provenance, replacing whatever the publisher sent in
 * these attributes (and dropping a `heraldhops` and the `heralderror*`/`heraldattempts`
 * dead-letter attributes it sent): `recordedtime` (RFC 3339, UTC, milliseconds), `authtype`, `authid` (the `sub`
 * claim) and `authclaims` (JSON of `iss`, `sub`, `aud`, `azp`, `client_id`, `scope` where present).
 * `authid` is left out when `sub` is not a valid CloudEvents String, `authclaims` when none of
 * those claims is present. `data` is shared, not copied.
 *
 * @example
 * withProvenance(event, { claims: { iss: "https://id.example.com", sub: "orders-service" },
 *   recordedAt: Date.UTC(2025, 0, 2, 3, 4, 5, 6) }).attributes;
 * // { ...event.attributes, recordedtime: "2025-01-02T03:04:05.006Z", authtype: "service_account",
 * //   authid: "orders-service", authclaims: '{"iss":"https://id.example.com","sub":"orders-service"}' }
 */
export function withProvenance(event: CloudEvent, options: ProvenanceOptions): CloudEvent {
  const { claims, recordedAt, authtype = "service_account" } = options;
  return replaceProvenance(event, {
    recordedtime: formatRecordedTime(recordedAt),
    ...principalOf(claims, authtype),
  });
}

type Principal = Readonly<Record<"authtype" | "authid" | "authclaims", string>>;

// The verified-token cache hands out the same claims object for a reused token, so the principal
// attributes (a JSON text among them) are worked out once per token, not once per event.
const principals = new WeakMap<TokenClaims, Map<AuthType, Partial<Principal>>>();

function principalOf(claims: TokenClaims, authtype: AuthType): Partial<Principal> {
  let byType = principals.get(claims);
  if (byType === undefined) {
    byType = new Map();
    principals.set(claims, byType);
  }
  let principal = byType.get(authtype);
  if (principal === undefined) {
    const sub = Object.hasOwn(claims, "sub") ? claims.sub : undefined;
    const authid = typeof sub === "string" && checkString(sub) === undefined ? sub : undefined;
    const authclaims = sharedClaimsJson(claims);
    principal = {
      authtype,
      ...(authid === undefined ? {} : { authid }),
      ...(authclaims === undefined ? {} : { authclaims }),
    };
    byType.set(authtype, principal);
  }
  return principal;
}

/**
 * `withProvenance` for a gateway running with `--no-auth`: `recordedtime`, and `authtype`
 * `unauthenticated` ("No credentials were used to authenticate the change that triggered the
 * occurrence"); whatever the publisher sent as `authid` or `authclaims` is removed, and so are the
 * attributes only the gateway writes (`heraldhops`, the dead-letter ones), as `withProvenance` does.
 *
 * @example
 * withUnauthenticatedProvenance(event, { recordedAt: clock.now() }).attributes.authtype; // "unauthenticated"
 */
export function withUnauthenticatedProvenance(
  event: CloudEvent,
  options: { readonly recordedAt: number },
): CloudEvent {
  return replaceProvenance(event, {
    recordedtime: formatRecordedTime(options.recordedAt),
    authtype: "unauthenticated",
  });
}

/**
 * An RFC 3339 timestamp in UTC with milliseconds, e.g. `2025-01-02T03:04:05.006Z`.
 *
 * @example
 * formatRecordedTime(0); // "1970-01-01T00:00:00.000Z"
 */
export function formatRecordedTime(ms: number): string {
  // toISOString writes years past 9999 as +010000, which RFC 3339 cannot express.
  if (!Number.isFinite(ms) || ms < 0 || ms >= 253_402_300_800_000) {
    throw new TypeError("recordedAt must be a time between the years 1970 and 9999");
  }
  // Events accepted in the same millisecond share one timestamp text.
  if (ms !== lastRecorded.ms) lastRecorded = { ms, text: new Date(ms).toISOString() };
  return lastRecorded.text;
}

let lastRecorded = { ms: Number.NaN, text: "" };

/**
 * The `authclaims` JSON text: the shared claims (strings, or lists of strings for `aud` and
 * `scope`) in a fixed order; `undefined` when there are none.
 *
 * @example
 * sharedClaimsJson({ sub: "a", aud: ["herald"], email: "a@example.com" }); // '{"sub":"a","aud":["herald"]}'
 */
export function sharedClaimsJson(claims: TokenClaims): string | undefined {
  const shared: Record<string, string | readonly string[]> = {};
  for (const name of SHARED_CLAIMS) {
    const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
    const isStringList =
      Array.isArray(value) && value.every((item): item is string => typeof item === "string");
    if (typeof value === "string" || isStringList) shared[name] = value;
  }
  if (Object.keys(shared).length === 0) return undefined;
  // JSON.stringify escapes C0 controls and lone surrogates but not DEL, C1 controls or the
  // noncharacters, which a CloudEvents String may not hold ("Type System: String"); inside JSON
  // strings they can be written as \u escapes instead.
  return JSON.stringify(shared).replace(NOT_IN_STRING, (found) => {
    let escaped = "";
    for (let i = 0; i < found.length; i++) {
      escaped += `\\u${found.charCodeAt(i).toString(16).padStart(4, "0")}`;
    }
    return escaped;
  });
}

/** DEL, C1 controls and noncharacters, the astral ones as surrogate pairs. */
const NOT_IN_STRING =
  /[\u007f-\u009f\ufdd0-\ufdef\ufffe\uffff]|[\ud83f\ud87f\ud8bf\ud8ff\ud93f\ud97f\ud9bf\ud9ff\uda3f\uda7f\udabf\udaff\udb3f\udb7f\udbbf\udbff][\udffe\udfff]/g;

/**
 * What a publisher's event loses on the way in: the provenance attributes (replaced), the hop
 * count (a published event starts the reply chain: one sent with a high count would have its
 * sinks' replies refused, one sent with 0 would reset a loop's count) and the dead-letter
 * attributes (an event that has not failed here carries none; forged ones would tell a sink, or
 * whoever reads a dead-letter queue fed by other means, of a failure that never happened). They
 * are dropped, as DESIGN.md has the provenance attributes "replaced, never trusted", not refused:
 * an event a Herald dead-lettered into another Herald's `POST /events` still gets in.
 */
const GATEWAY_ONLY: ReadonlySet<string> = new Set([
  ...PROVENANCE_ATTRIBUTES,
  HOPS_ATTRIBUTE,
  ...DEAD_LETTER_ATTRIBUTES,
]);

function replaceProvenance(
  event: CloudEvent,
  provenance: Readonly<Record<string, AttributeValue>>,
): CloudEvent {
  const attributes: Record<string, AttributeValue> = {};
  const source = event.attributes;
  for (const name in source) {
    if (!GATEWAY_ONLY.has(name)) attributes[name] = source[name]!;
  }
  Object.assign(attributes, provenance);
  return event.data === undefined ? { attributes } : { attributes, data: event.data };
}
