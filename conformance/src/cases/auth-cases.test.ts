import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConformanceAuth } from "../auth/conformance-auth.js";
import { SINK_PATHS } from "../config/subscriptions.js";
import { decodeHeaderValue, percentEncode } from "../http/percent-encoding.js";
import { runConformance } from "../run-conformance.js";
import { type SinkServer, startSink } from "../sink/sink-server.js";

const b64 = (json: unknown) => Buffer.from(JSON.stringify(json)).toString("base64url");
/** JWT-shaped; the fake accepts exactly this one. */
const TOKEN = `${b64({ alg: "ES256" })}.${b64({ sub: "fake-publisher" })}.c2ln`;
const FOREIGN = `${b64({ alg: "ES256" })}.${b64({ sub: "fake-publisher" })}.b3RoZXI`;
const OUTSIDE_TYPE = "dev.example.outside";

/** What the fake gateway gets wrong. */
interface Flaws {
  readonly acceptAnonymous?: boolean;
  readonly keepPublisherProvenance?: boolean;
  readonly echoToken?: boolean;
  readonly ignoreQueryToken?: boolean;
  readonly caseSensitiveScheme?: boolean;
  readonly unauthenticatedAuthtype?: string;
}

const problem = (
  status: number,
  code: string,
  headers: Record<string, string>,
  detail = code,
  attributes: string[] = [],
) =>
  new Response(
    JSON.stringify({ type: "about:blank", title: code, status, detail, code, attributes }),
    { status, headers: { "content-type": "application/problem+json", ...headers } },
  );

/**
 * A small gateway with publisher auth: binary, structured and batched JSON, no validation. It
 * accepts {@link TOKEN} only, refuses {@link OUTSIDE_TYPE}, stamps provenance and delivers each
 * event to the two catch-all sinks, unless `flaws` say otherwise.
 */
function fakeGateway(sinkUrl: string, authOn: boolean, flaws: Flaws = {}) {
  return async (req: Request): Promise<Response> => {
    if (req.method !== "POST") return new Response(null, { status: 404 });
    const header = req.headers.get("authorization") ?? "";
    const scheme = flaws.caseSensitiveScheme ? /^Bearer (.+)$/ : /^bearer (.+)$/i;
    const query = new URL(req.url).searchParams.get("access_token");
    const token = scheme.exec(header)?.[1] ?? (flaws.ignoreQueryToken ? null : query);
    if (authOn && token === null && !flaws.acceptAnonymous) {
      return problem(401, "missing_token", { "www-authenticate": "Bearer" });
    }
    if (authOn && token !== null && token !== TOKEN) {
      const detail = flaws.echoToken ? `bad token ${token}` : "bad token";
      return problem(
        401,
        "invalid_token",
        { "www-authenticate": 'Bearer error="invalid_token"' },
        detail,
      );
    }
    const type = req.headers.get("content-type") ?? "";
    const text = await req.text();
    let events: Record<string, unknown>[];
    if (type.startsWith("application/cloudevents-batch+json")) events = JSON.parse(text);
    else if (type.startsWith("application/cloudevents+json")) events = [JSON.parse(text)];
    else {
      const event: Record<string, unknown> = {};
      req.headers.forEach((value, name) => {
        if (name.startsWith("ce-")) event[name.slice(3)] = decodeHeaderValue(value);
      });
      events = [event];
    }
    if (authOn && events.some((e) => e.type === OUTSIDE_TYPE)) {
      return problem(403, "forbidden", {}, "outside the rule", ["type"]);
    }
    for (const sent of events) {
      const event = { ...sent };
      if (!flaws.keepPublisherProvenance) {
        for (const name of ["authid", "authtype", "authclaims"]) delete event[name];
        event.recordedtime = new Date().toISOString();
        if (authOn) Object.assign(event, { authtype: "service_account", authid: "fake-publisher" });
      }
      if (!authOn && flaws.unauthenticatedAuthtype) event.authtype = flaws.unauthenticatedAuthtype;
      const { data, ...attributes } = event;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(attributes))
        headers[`ce-${k}`] = percentEncode(String(v));
      if (data !== undefined) headers["content-type"] = "application/json";
      await fetch(`${sinkUrl}${SINK_PATHS.binary}`, {
        method: "POST",
        headers,
        ...(data === undefined ? {} : { body: JSON.stringify(data) }),
      });
      await fetch(`${sinkUrl}${SINK_PATHS.structured}`, {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify(event),
      });
    }
    return new Response(null, { status: 202 });
  };
}

describe("auth cases", () => {
  let sink: SinkServer;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(() => sink.close());

  const run = async (authOn: boolean, flaws: Flaws = {}, auth?: ConformanceAuth) => {
    const report = await runConformance(
      { fetch: fakeGateway(sink.url, authOn, flaws) },
      { sink, dataDir: null, timeoutMs: 2000, auth, only: (n) => n.startsWith("auth: ") },
    );
    return Object.fromEntries(report.results.map((r) => [r.name, r.message ?? "ok"]));
  };
  const full: ConformanceAuth = {
    token: TOKEN,
    foreignToken: FOREIGN,
    outsideRule: { type: OUTSIDE_TYPE },
  };
  const failing = (results: Record<string, string>) =>
    Object.entries(results)
      .filter(([, message]) => message !== "ok")
      .map(([name]) => name);

  it("pass against a gateway that authenticates, including the optional cases", async () => {
    const results = await run(true, {}, full);
    expect(failing(results)).toEqual([]);
    expect(Object.keys(results)).toHaveLength(1 + 10);
  });

  it("run the optional cases only when given what they need", async () => {
    const results = await run(true, {}, { token: TOKEN });
    expect(failing(results)).toEqual([]);
    expect(Object.keys(results)).toHaveLength(1 + 7);
  });

  it("fail a gateway that accepts events without a token", async () => {
    const results = await run(true, { acceptAnonymous: true }, full);
    expect(failing(results)).toEqual([
      "auth: no token -> 401 with a Bearer challenge, nothing delivered (binary)",
      "auth: no token -> 401 with a Bearer challenge, nothing delivered (structured)",
    ]);
  });

  it("fail a gateway that keeps the publisher's provenance", async () => {
    const results = await run(true, { keepPublisherProvenance: true }, full);
    expect(failing(results)).toEqual([
      "auth: the token in the access_token query parameter is accepted",
      "auth: publisher-sent authid, authtype, authclaims and recordedtime are replaced (binary)",
      "auth: publisher-sent authid, authtype, authclaims and recordedtime are replaced (structured)",
    ]);
    expect(
      results[
        "auth: publisher-sent authid, authtype, authclaims and recordedtime are replaced (binary)"
      ],
    ).toMatch(/authid is "spoofed-publisher", expected "fake-publisher" \(the token's sub\)/);
  });

  it("fail a gateway that echoes a refused token", async () => {
    const results = await run(true, { echoToken: true }, full);
    expect(failing(results)).toEqual([
      'auth: a token that is no JWT -> 401 error="invalid_token", token not echoed',
      'auth: a token the target must refuse (foreignToken) -> 401 error="invalid_token"',
    ]);
  });

  it("fail a gateway that ignores access_token or reads the scheme case-sensitively", async () => {
    expect(failing(await run(true, { ignoreQueryToken: true }, full))).toEqual([
      "auth: the token in the access_token query parameter is accepted",
    ]);
    expect(failing(await run(true, { caseSensitiveScheme: true }, full))).toEqual([
      "auth: the Bearer scheme name is case-insensitive (bearer <token>)",
    ]);
  });

  it("check authid against the sub given rather than the token's", async () => {
    const results = await run(true, {}, { token: TOKEN, sub: "someone-else" });
    expect(failing(results)).toHaveLength(3);
  });

  it("without a token, accept an unauthenticated target with or without authtype", async () => {
    expect(failing(await run(false))).toEqual([]);
    expect(failing(await run(false, { keepPublisherProvenance: true }))).toEqual([]);
    expect(failing(await run(false, { unauthenticatedAuthtype: "service_account" }))).toEqual([
      "auth: without a token, a delivered authtype (if set) is unauthenticated",
    ]);
  });

  it("fail the 401 cases when the target does not check the token", async () => {
    const results = await run(false, {}, { token: TOKEN });
    expect(failing(results)).toContain(
      "auth: no token -> 401 with a Bearer challenge, nothing delivered (binary)",
    );
  });
});
