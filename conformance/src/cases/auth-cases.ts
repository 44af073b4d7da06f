import { type ConformanceAuth, expectedAuthId } from "../auth/conformance-auth.js";
import { batchRequest, binaryRequest, EVENTS_PATH, structuredRequest } from "../events/requests.js";
import type { Received } from "../sink/sink-server.js";
import type { GatewayRequest, GatewayResponse } from "../target.js";
import { type CaseContext, type ConformanceCase, check } from "./case.js";
import {
  expectAccepted,
  expectAcceptedAndDelivered,
  expectDelivered,
  expectNeverDelivered,
  expectProblem,
} from "./expect.js";

const BEARER_401 = 'RFC 6750 §3 (401 with a Bearer challenge), DESIGN.md "HTTP surface" (401)';
const INVALID_TOKEN = 'RFC 6750 §3.1 (error="invalid_token")';
const NO_ECHO = 'DESIGN.md "HTTP surface" (never a token in a response)';
const QUERY =
  "HTTP webhook 1.0.2 §3 (a target MUST support both methods), §3.2 (access_token); RFC 6750 §2.3";
const SCHEME = "RFC 6750 §2.1, RFC 9110 §11.1 (the auth-scheme is case-insensitive)";
const PROVENANCE =
  'CloudEvents authcontext and recordedtime extensions, DESIGN.md "Attributes the gateway sets"';
const POLICY = 'DESIGN.md "Config" (auth.publishers), "HTTP surface" (403)';

/** `authtype` values of the authcontext extension. */
const AUTH_TYPES = [
  "app_user",
  "user",
  "service_account",
  "api_key",
  "system",
  "unauthenticated",
  "unknown",
];

/** What a publisher claims about itself; a gateway must replace every one of these. */
const SPOOFED = {
  authtype: "unauthenticated",
  authid: "spoofed-publisher",
  authclaims: '{"sub":"spoofed-publisher"}',
  recordedtime: "1999-01-01T00:00:00Z",
} as const;

// RFC 3339 date-time (section 5.6), as the CloudEvents Timestamp type requires.
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function isTimestamp(value: unknown): boolean {
  return typeof value === "string" && RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * The `WWW-Authenticate` header holds a Bearer challenge (scheme names are case-insensitive).
 *
 * @example
 * hasBearerChallenge('Bearer realm="herald"') // => true
 */
export function hasBearerChallenge(value: string | null): boolean {
  return /(?:^|,)\s*bearer(?:\s|,|$)/i.test(value ?? "");
}

function hasInvalidTokenError(value: string | null): boolean {
  return /(?:^|[\s,])error\s*=\s*"?invalid_token"?(?:[\s,]|$)/i.test(value ?? "");
}

/** Fails when `secret` appears anywhere in the response (headers or body). */
function checkNotEchoed(res: GatewayResponse, secret: string): void {
  const headers: string[] = [];
  res.headers.forEach((value, name) => {
    if (value.includes(secret)) headers.push(name);
  });
  check(headers.length === 0, `the refused token is echoed in ${headers.join(", ")} (${NO_ECHO})`);
  check(
    !new TextDecoder().decode(res.body).includes(secret),
    `the refused token is echoed in the response body (${NO_ECHO})`,
  );
}

/**
 * Sends `request`, expects a 401 problem with a Bearer challenge (carrying `invalid_token` when a
 * token was presented), and proves nothing was delivered.
 */
async function expectUnauthorized(
  ctx: CaseContext,
  request: GatewayRequest,
  presented?: string,
): Promise<void> {
  const res = await ctx.send(request);
  expectProblem(res, 401);
  const challenge = res.headers.get("www-authenticate");
  check(hasBearerChallenge(challenge), `WWW-Authenticate has no Bearer challenge: ${challenge}`);
  if (presented !== undefined) {
    check(
      hasInvalidTokenError(challenge),
      `WWW-Authenticate does not say error="invalid_token": ${challenge}`,
    );
    checkNotEchoed(res, presented);
  }
  await expectNeverDelivered(ctx);
}

/**
 * Why a delivery's provenance is wrong, or nothing: `authid` is the token's principal, `authtype`
 * an authcontext value other than `unauthenticated`, `recordedtime` a timestamp of the gateway's,
 * and nothing the publisher sent in these attributes survives, nor the token itself.
 */
function provenanceProblems(received: Received, auth: ConformanceAuth): string[] {
  const a = received.event.attributes;
  const out: string[] = [];
  const authid = expectedAuthId(auth);
  if (authid !== undefined) {
    if (a.authid !== authid) {
      out.push(`authid is ${JSON.stringify(a.authid)}, expected "${authid}" (the token's sub)`);
    }
  } else if (a.authid === undefined || a.authid === SPOOFED.authid) {
    out.push(`authid is ${JSON.stringify(a.authid)}, expected the token's principal`);
  }
  if (typeof a.authtype !== "string" || !AUTH_TYPES.includes(a.authtype)) {
    out.push(`authtype ${JSON.stringify(a.authtype)} is not an authcontext value`);
  } else if (a.authtype === "unauthenticated") {
    out.push("authtype is unauthenticated although the request carried a verified token");
  }
  if (!isTimestamp(a.recordedtime)) {
    out.push(`recordedtime ${JSON.stringify(a.recordedtime)} is not an RFC 3339 timestamp`);
  } else if (a.recordedtime === SPOOFED.recordedtime) {
    out.push("recordedtime is the one the publisher sent");
  }
  if (a.authclaims === SPOOFED.authclaims) out.push("authclaims is the one the publisher sent");
  for (const [name, value] of Object.entries(a)) {
    if (typeof value === "string" && value.includes(auth.token)) {
      out.push(`${name} holds the bearer token (authcontext: MUST NOT contain credentials)`);
    }
  }
  return out.map((p) => `${received.path}: ${p}`);
}

function checkProvenance(
  deliveries: { binary: Received; structured: Received },
  auth: ConformanceAuth,
): void {
  const problems = [deliveries.binary, deliveries.structured].flatMap((r) =>
    provenanceProblems(r, auth),
  );
  check(problems.length === 0, problems.join("; "));
}

function spoofedProvenance(mode: "binary" | "structured", auth: ConformanceAuth): ConformanceCase {
  return {
    name: `auth: publisher-sent authid, authtype, authclaims and recordedtime are replaced (${mode})`,
    spec: PROVENANCE,
    async run(ctx) {
      const event = ctx.event();
      const sent = { ...event, ...SPOOFED };
      const request =
        mode === "binary" ? binaryRequest(sent) : structuredRequest({ ...sent, data: { n: 1 } });
      expectAccepted(await ctx.send(request));
      const deliveries = await expectDelivered(ctx, {
        attributes: event,
        data: mode === "binary" ? { absent: true } : { json: { n: 1 } },
      });
      checkProvenance(deliveries, auth);
    },
  };
}

function foreignTokenCases(foreign: string | undefined): ConformanceCase[] {
  if (foreign === undefined) return [];
  return [
    {
      name: 'auth: a token the target must refuse (foreignToken) -> 401 error="invalid_token"',
      spec: `${INVALID_TOKEN}; ${NO_ECHO}`,
      run: (ctx) =>
        expectUnauthorized(ctx, { ...binaryRequest(ctx.event()), bearer: foreign }, foreign),
    },
  ];
}

function outsideRuleCases(auth: ConformanceAuth): ConformanceCase[] {
  const outside = auth.outsideRule;
  if (outside === undefined) return [];
  const names = [
    ...(outside.source === undefined ? [] : ["source"]),
    ...(outside.type === undefined ? [] : ["type"]),
  ];
  const outsideEvent = (ctx: CaseContext) =>
    ctx.event({
      ...(outside.source === undefined ? {} : { source: outside.source }),
      ...(outside.type === undefined ? {} : { type: outside.type }),
    });
  return [
    {
      name: "auth: an event outside the publisher's rule -> 403 naming the attribute",
      spec: POLICY,
      async run(ctx) {
        expectProblem(await ctx.send(binaryRequest(outsideEvent(ctx))), 403, { anyOf: names });
        await expectNeverDelivered(ctx);
      },
    },
    {
      name: "auth: a batch with one event outside the publisher's rule -> 403, nothing delivered",
      spec: `${POLICY}; DESIGN.md "HTTP surface" (a batch is all-or-nothing)`,
      async run(ctx) {
        const res = await ctx.send(batchRequest([ctx.event(), outsideEvent(ctx)]));
        expectProblem(res, 403);
        await expectNeverDelivered(ctx);
      },
    },
  ];
}

/** With a token: the target authenticates publishers and asserts provenance itself. */
function authenticatedCases(auth: ConformanceAuth): ConformanceCase[] {
  return [
    {
      name: "auth: no token -> 401 with a Bearer challenge, nothing delivered (binary)",
      spec: BEARER_401,
      run: (ctx) => expectUnauthorized(ctx, { ...binaryRequest(ctx.event()), bearer: null }),
    },
    {
      name: "auth: no token -> 401 with a Bearer challenge, nothing delivered (structured)",
      spec: BEARER_401,
      run: (ctx) =>
        expectUnauthorized(ctx, {
          ...structuredRequest({ ...ctx.event(), data: 1 }),
          bearer: null,
        }),
    },
    {
      name: 'auth: a token that is no JWT -> 401 error="invalid_token", token not echoed',
      spec: `${INVALID_TOKEN}; ${NO_ECHO}`,
      async run(ctx) {
        // b64token syntax (RFC 6750 2.1) in three dot-separated parts, so it is refused as a
        // token, not as a malformed header (400 invalid_request).
        const garbage = `garbage.${Buffer.from(ctx.id()).toString("base64url")}.not-a-signature`;
        await expectUnauthorized(ctx, { ...binaryRequest(ctx.event()), bearer: garbage }, garbage);
      },
    },
    ...foreignTokenCases(auth.foreignToken),
    {
      name: "auth: the Bearer scheme name is case-insensitive (bearer <token>)",
      spec: SCHEME,
      async run(ctx) {
        const event = ctx.event();
        const request = binaryRequest(event, {
          headers: { Authorization: `bearer ${auth.token}` },
        });
        await expectAcceptedAndDelivered(
          ctx,
          { ...request, bearer: null },
          { attributes: event, data: { absent: true } },
        );
      },
    },
    {
      name: "auth: the token in the access_token query parameter is accepted",
      spec: QUERY,
      async run(ctx) {
        const event = ctx.event();
        const path = `${EVENTS_PATH}?access_token=${encodeURIComponent(auth.token)}`;
        // Only the query carries it: RFC 6750 §2 forbids presenting a token two ways at once.
        const deliveries = await expectAcceptedAndDelivered(
          ctx,
          { ...binaryRequest(event, { path }), bearer: null },
          { attributes: event, data: { absent: true } },
        );
        checkProvenance(deliveries, auth);
      },
    },
    spoofedProvenance("binary", auth),
    spoofedProvenance("structured", auth),
    ...outsideRuleCases(auth),
  ];
}

/**
 * Without a token the target is taken to be unauthenticated (`--no-auth`): a gateway need not
 * set `authtype` then, but one that does must say `unauthenticated`.
 */
const unauthenticatedCases: ConformanceCase[] = [
  {
    name: "auth: without a token, a delivered authtype (if set) is unauthenticated",
    spec: "CloudEvents authcontext extension (authtype), recordedtime extension",
    async run(ctx) {
      const event = ctx.event();
      const deliveries = await expectAcceptedAndDelivered(ctx, binaryRequest(event), {
        attributes: event,
        data: { absent: true },
      });
      for (const received of [deliveries.binary, deliveries.structured]) {
        const { authtype, recordedtime } = received.event.attributes;
        check(
          authtype === undefined || authtype === "unauthenticated",
          `${received.path}: authtype is ${JSON.stringify(authtype)} for an unauthenticated request`,
        );
        check(
          recordedtime === undefined || isTimestamp(recordedtime),
          `${received.path}: recordedtime ${JSON.stringify(recordedtime)} is not an RFC 3339 timestamp`,
        );
      }
    },
  },
];

/**
 * The publisher-authentication cases: with `auth`, 401s without or with a bad token, the
 * `access_token` query parameter, gateway-asserted provenance and (optionally) the publisher
 * policy; without it, one check that an unauthenticated target does not claim otherwise.
 *
 * @example
 * authCases({ token }).map((c) => c.name);
 */
export function authCases(auth: ConformanceAuth | undefined): readonly ConformanceCase[] {
  return auth === undefined ? unauthenticatedCases : authenticatedCases(auth);
}
