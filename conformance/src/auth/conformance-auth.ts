/**
 * What the suite knows about a target with publisher authentication (DESIGN.md `auth`). Giving
 * one turns on the auth cases; every other request carries `token`.
 *
 * @example
 * const auth: ConformanceAuth = { token: await mintToken("conformance") };
 */
export interface ConformanceAuth {
  /**
   * A token the target accepts for every `source` and `type` the suite sends (the publisher rule
   * of `conformanceConfig(url, { auth })`). Sent as `Authorization: Bearer` on every request.
   */
  readonly token: string;
  /**
   * The token for the admin API (`/subscriptions`, DESIGN.md `auth.admins`); default `token`.
   * When it differs from `token`, the suite also checks that `token` alone gets a 403 there.
   */
  readonly adminToken?: string | undefined;
  /**
   * The `authid` the target must write: the principal the token names. Default: the `sub` claim
   * of the token's payload, read without verifying it. When neither is known, the provenance
   * cases only check that the publisher's own `authid` was replaced.
   */
  readonly sub?: string | undefined;
  /**
   * A well-formed token the target must refuse with 401 `invalid_token`, e.g. one signed by a key
   * it does not trust, or an expired one. Adds one case.
   */
  readonly foreignToken?: string | undefined;
  /**
   * A `source` and/or `type` that `token`'s publisher rule does not allow. Adds two cases: such
   * an event gets a 403 naming the attribute, and a batch holding one gets a 403 with nothing
   * delivered. `conformanceConfig`'s rule allows everything, so this fits other configs only.
   */
  readonly outsideRule?: OutsideRule | undefined;
}

/** An event outside the token's publisher rule: at least one of the two. */
export interface OutsideRule {
  readonly source?: string | undefined;
  readonly type?: string | undefined;
}

/**
 * The `sub` every `conformanceConfig(url, { auth })` publisher rule names by default; its
 * `auth.admins` rule names it too unless `adminSub` says otherwise.
 */
export const DEFAULT_PUBLISHER_SUB = "conformance";

/**
 * The payload of a JWS compact token (RFC 7515 7.1, a JWT's usual form), decoded but NOT
 * verified; `undefined` when the token is not of that form. The suite only reads what the target
 * should echo back, so no signature check is needed, and none is possible without the keys.
 *
 * @example
 * unverifiedClaims("eyJhbGciOiJub25lIn0.eyJzdWIiOiJjb25mb3JtYW5jZSJ9.") // => { sub: "conformance" }
 */
export function unverifiedClaims(token: string): Readonly<Record<string, unknown>> | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1] ?? "")) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8"));
    return typeof payload === "object" && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `authid` to expect: `auth.sub`, else the token's `sub` claim (unverified), else undefined.
 *
 * @example
 * expectedAuthId({ token }) // => "conformance" for a token whose payload has sub "conformance"
 */
export function expectedAuthId(auth: ConformanceAuth): string | undefined {
  if (auth.sub !== undefined) return auth.sub;
  const sub = unverifiedClaims(auth.token)?.sub;
  return typeof sub === "string" ? sub : undefined;
}

/**
 * The auth settings of a run from its options: `auth`, or the `token` shorthand. Throws a
 * TypeError when the two disagree or `outsideRule` names neither attribute.
 *
 * @example
 * resolveAuth({ token: "t" }) // => { token: "t" }
 */
export function resolveAuth(options: {
  readonly token?: string | undefined;
  readonly auth?: ConformanceAuth | undefined;
}): ConformanceAuth | undefined {
  const { token, auth } = options;
  if (auth === undefined) return token === undefined ? undefined : { token };
  if (typeof auth.token !== "string" || auth.token === "") {
    throw new TypeError("auth.token must be a non-empty string");
  }
  if (auth.adminToken !== undefined && (typeof auth.adminToken !== "string" || !auth.adminToken)) {
    throw new TypeError("auth.adminToken must be a non-empty string when given");
  }
  if (token !== undefined && token !== auth.token) {
    throw new TypeError("token and auth.token differ; give one of them");
  }
  const outside = auth.outsideRule;
  if (outside !== undefined && outside.source === undefined && outside.type === undefined) {
    throw new TypeError("auth.outsideRule needs a source or a type");
  }
  return auth;
}
