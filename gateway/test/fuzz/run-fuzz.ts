import { readFile } from "node:fs/promises";
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { importJWK, SignJWT } from "jose";
import { expect } from "vitest";
import { type DevIssuer, loadOrCreateDevIssuer } from "../../src/adapters/node/dev-issuer.js";
import { makeSnsSigningCertificate } from "../support/sns-signing-certificate.js";
import { waitUntil } from "../support/wait-until.js";
import { type AcceptedMarker, checkDeliveries, type Delivery } from "./check-deliveries.js";
import { eventRequest, FUZZ_LIMITS } from "./event-requests.js";
import type { EventModel, SentEvent } from "./events.js";
import { answerProblems } from "./invariants.js";
import { Prng } from "./prng.js";
import {
  encodeRaw,
  type RawRequest,
  type RawResponse,
  RequestTimeout,
  sendPipelined,
  sendRaw,
} from "./raw-http.js";
import { resolveRefs, subscriptionRequest } from "./subscription-requests.js";
import {
  answeredByPlatform,
  framingRequest,
  oddToken,
  surfaceRequest,
} from "./surface-requests.js";
import { fuzzAdapters, webhookRequest } from "./webhook-requests.js";

/**
 * The HTTP fuzz probe's run, shared by its targets: `herald serve` (`../http-fuzz.test.ts`) and
 * the Worker under `wrangler dev` (`../workers/wrangler-fuzz.test.ts`). `HERALD_FUZZ_SEED`,
 * `HERALD_FUZZ_REQUESTS`, `HERALD_FUZZ_CONCURRENCY`, `HERALD_FUZZ_VERBOSE` (README, "Development").
 */
export const SEED = Number(process.env.HERALD_FUZZ_SEED ?? 20_261_129);
export const REQUESTS = Number(process.env.HERALD_FUZZ_REQUESTS ?? 500);
const TIMEOUT_MS = Number(process.env.HERALD_FUZZ_TIMEOUT_MS ?? 15_000);
const CONCURRENCY = Number(process.env.HERALD_FUZZ_CONCURRENCY ?? 6);

/**
 * The sink every fuzz target delivers to: `/{name}/s` and `/{name}/b` record deliveries, the
 * paths of API subscriptions (`/{name}/api/{behaviour}-...`) answer as their behaviour says, and
 * `/sns/...` serves the SNS adapter its signing certificate and confirmations.
 */
export interface FuzzSink {
  readonly url: string;
  readonly received: Delivery[];
  readonly apiTypes: Map<string, number>;
  readonly sns: { keyPem: string; certificatePem: string };
  close(): Promise<void>;
}

export async function startFuzzSink(): Promise<FuzzSink> {
  const sns = makeSnsSigningCertificate();
  const received: Delivery[] = [];
  const apiTypes = new Map<string, number>();
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/sns/cert.pem") return void res.writeHead(200).end(sns.certificatePem);
      if (req.url?.startsWith("/sns/confirm-")) return answerConfirmation(req.url, res);
      const api = /\/api\/([a-z]+)-/.exec(req.url ?? "")?.[1];
      // A reply is answered once, not replied to again: two catch-all replying subscriptions
      // would double the events at each of the maxReplyHops hops.
      const body = Buffer.concat(chunks);
      const isReply =
        body.includes("com.example.fz.reply") ||
        body.includes("dev.herald.") ||
        /^(com\.example\.fz\.reply|dev\.herald\.)/.test(String(req.headers["ce-type"] ?? ""));
      if (api !== undefined) {
        const type = String(
          req.headers["ce-type"] ?? /"type":"([^"]*)"/.exec(body.toString("utf8"))?.[1] ?? "?",
        );
        apiTypes.set(type.slice(0, 40), (apiTypes.get(type.slice(0, 40)) ?? 0) + 1);
        return answerAsApiSink(isReply ? "ok" : api, req.headers, res);
      }
      received.push({
        path: req.url ?? "",
        headers: req.headers as IncomingHttpHeaders,
        body: Buffer.concat(chunks),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => sink.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
    received,
    apiTypes,
    sns,
    close: async () => {
      sink.closeAllConnections();
      await new Promise<void>((ok) => sink.close(() => ok()));
    },
  };
}

/**
 * The config both targets run: the fuzz adapters, two config subscriptions (`s` structured,
 * `b` binary) to the sink, and with `issuer` publisher auth, admins and small limits.
 */
export function fuzzConfig(
  name: string,
  sinkUrl: string,
  issuer: { issuer: string; audience: string; publicJwks: unknown } | undefined,
): Record<string, unknown> {
  return {
    // Small limits with auth (the 413 paths), the defaults without (room for deep JSON).
    ...(issuer !== undefined ? { limits: FUZZ_LIMITS } : {}),
    ...(issuer !== undefined
      ? {
          auth: {
            issuers: [
              {
                issuer: issuer.issuer,
                audience: issuer.audience,
                jwks: issuer.publicJwks,
                algorithms: ["ES256"],
              },
            ],
            publishers: [
              { claims: { sub: "narrow" }, sources: ["/fz/*"], types: ["com.example.fz.*"] },
              { claims: { sub: "slow" }, rate: "1/s" },
              { claims: { sub: "fuzz" } },
            ],
            admins: [{ claims: { scope: "herald:admin" } }],
          },
        }
      : {}),
    subscriptions: [
      { id: "s", sink: `${sinkUrl}/${name}/s`, delivery: { mode: "structured", retry: 0 } },
      { id: "b", sink: `${sinkUrl}/${name}/b`, delivery: { mode: "binary", retry: 0 } },
    ],
    adapters: fuzzAdapters(sinkUrl),
  };
}

/**
 * The dev issuer in `dir` (created there), the tokens of a publisher (`sub` "fuzz") and an admin
 * it mints, and `sign`, which signs any claims with its key.
 */
export async function fuzzCredentials(dir: string): Promise<{
  issuer: DevIssuer;
  publisher: string;
  admin: string;
  sign: (claims: Record<string, unknown>) => Promise<string>;
}> {
  const issuer = await loadOrCreateDevIssuer(dir);
  const jwk = JSON.parse(await readFile(join(dir, ".herald", "dev-issuer.json"), "utf8")) as Record<
    string,
    unknown
  >;
  const key = await importJWK(jwk as never, "ES256");
  return {
    issuer,
    publisher: await issuer.mint({ sub: "fuzz", ttlSeconds: 3600 }),
    admin: await issuer.mint({ sub: "ops", scope: "herald:admin", ttlSeconds: 3600 }),
    sign: (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: String(jwk.kid ?? "") })
        .sign(key),
  };
}

/** A gateway under fuzz, on 127.0.0.1. */
export interface FuzzTarget {
  readonly url: string;
  readonly port: number;
  readonly publisher: string | undefined;
  readonly admin: string | undefined;
  /** Signs any claims with the issuer's key (odd but validly signed tokens). */
  readonly sign: ((claims: Record<string, unknown>) => Promise<string>) | undefined;
  /**
   * Whether framing oddities go over raw sockets, and requests whose method or target only a
   * server that reads HTTP itself answers. `false` where the platform, not Herald, reads the
   * request (Workers: `answeredByPlatform`).
   */
  readonly framing: boolean;
}

/** SNS's ConfirmSubscription answer (Amazon SNS API Reference), or a broken one, as the path says. */
function answerConfirmation(url: string, res: ServerResponse): void {
  if (url.startsWith("/sns/confirm-ok")) {
    res.writeHead(200, { "content-type": "text/xml" });
    return void res.end(
      '<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:us-east-1:123456789012:fuzz:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>',
    );
  }
  if (url.startsWith("/sns/confirm-bad")) return void res.writeHead(200).end("<Confirm\u0000<<");
  if (url.startsWith("/sns/confirm-error")) return void res.writeHead(500).end("no");
  return void res.writeHead(204).end();
}

/**
 * How the sink answers deliveries of subscriptions the fuzzer created: success, a reply event
 * (valid or not), 410, 500, 429 with odd `Retry-After`, a redirect, a large body, garbage.
 */
function answerAsApiSink(
  behaviour: string,
  headers: IncomingHttpHeaders,
  res: ServerResponse,
): void {
  const id = `reply-${Math.random().toString(36).slice(2)}`;
  switch (behaviour) {
    case "reply":
      res.writeHead(200, { "content-type": "application/cloudevents+json" });
      return void res.end(
        JSON.stringify({
          specversion: "1.0",
          id,
          source: "/fz/reply",
          type: "com.example.fz.reply",
          data: { to: headers["ce-id"] ?? null },
        }),
      );
    case "badreply":
      res.writeHead(200, { "content-type": "application/cloudevents+json" });
      return void res.end(
        '{"specversion":"1.0","id":"","source":"\u0000","type":1,"data_base64":"!!"}',
      );
    case "gone":
      return void res.writeHead(410).end();
    case "error":
      return void res
        .writeHead(500, { "content-type": "text/html" })
        .end("<h1>\u001b[2J oops</h1>");
    case "busy":
      return void res
        .writeHead(429, {
          "retry-after": ["-1", "0", "abc", "99999999999", "Wed, 21 Oct 2015 07:28:00 GMT"][
            Math.floor(Math.random() * 5)
          ] as string,
        })
        .end();
    case "redirect":
      return void res.writeHead(301, { location: "http://127.0.0.1:1/elsewhere" }).end();
    case "huge":
      res.writeHead(200, { "content-type": "application/cloudevents+json" });
      return void res.end("x".repeat(300_000));
    case "bad":
      res.writeHead(200, { "content-type": "application/cloudevents-batch+json", "ce-id": "%zz" });
      return void res.end("\u0000[{");
    default:
      return void res.writeHead(204).end();
  }
}

/** Odd but validly signed tokens: claims of the wrong types, expired, other subjects. */
async function signedOddities(target: FuzzTarget, rng: Prng): Promise<[string, unknown][]> {
  if (target.sign === undefined) return [];
  const now = Math.floor(Date.now() / 1000);
  const base = { iss: "herald-dev", aud: "herald", exp: now + 3600, iat: now };
  const variants: Record<string, unknown>[] = [
    { ...base, sub: "narrow" },
    { ...base, sub: "slow" },
    { ...base, sub: "" },
    { ...base, sub: 42 },
    { ...base, sub: "fuzz", exp: now - 3600 },
    { ...base, sub: "fuzz", exp: "tomorrow" },
    { ...base, sub: "fuzz", exp: 1e300 },
    { ...base, sub: "fuzz", nbf: now + 3600 },
    { ...base, sub: "fuzz", aud: ["x", "herald"] },
    { ...base, sub: "fuzz", aud: [] },
    { ...base, sub: "fuzz", scope: ["herald:admin"] },
    { ...base, sub: "fuzz", scope: "herald:admin\u0000" },
    { ...base, sub: "\u0000\ud800" },
    { ...base, sub: "fuzz", iss: "herald-dev " },
    { ...base, sub: { a: 1 } },
    { sub: "fuzz", aud: "herald", iss: "herald-dev" },
  ];
  return Promise.all(
    variants
      .filter(() => rng.chance(0.8))
      .map(async (c) => [await target.sign!(c), c.sub] as [string, unknown]),
  );
}

interface Sent {
  readonly label: string;
  readonly req: RawRequest;
  readonly events: readonly SentEvent[];
  readonly marker?: string;
  /** The `sub` of the publisher token the request carries (`authid` of what it stores). */
  readonly sub?: string;
}

/**
 * Sends `requests` generated requests (seeded by `seed`) to `target`, `CONCURRENCY` at a time,
 * and returns the invariants they broke, the events answered `202`, and counts per kind.
 */
export async function fuzz(
  target: FuzzTarget,
  name: string,
  seed: number,
  sink: FuzzSink,
  requests = REQUESTS,
) {
  const sinkUrl = sink.url;
  const sns = sink.sns;
  const rng = new Prng(seed);
  const violations: string[] = [];
  const accepted: SentEvent[] = [];
  const markers: AcceptedMarker[] = [];
  const apiIds: string[] = [];
  const dead: [string, string][] = [];
  // Valid events generated so far: some are sent again (the dedupe path).
  const generatedModels: EventModel[] = [];
  const statuses = new Map<string, number>();
  const samples = new Map<string, string>();
  let tag = 0;
  const nextTag = () => `fz${name}${seed}n${tag++}`;
  const bearer = (t: string | undefined): [string, string][] =>
    t === undefined ? [] : [["Authorization", `Bearer ${t}`]];
  const signed = await signedOddities(target, rng.fork());
  let sub: string | undefined;
  const publisherAuth = (): [string, string][] => {
    sub = target.publisher === undefined ? undefined : "fuzz";
    if (target.publisher === undefined) return [];
    const roll = rng.next();
    if (roll < 0.85) return bearer(target.publisher);
    if (roll < 0.9 && signed.length > 0) {
      const [token, claimed] = rng.pick(signed);
      sub = String(claimed);
      return bearer(token);
    }
    if (roll < 0.95) return bearer(oddToken(rng, target.publisher));
    return [];
  };
  const generateAny = (): Sent => {
    const roll = rng.next();
    if (roll < 0.5) {
      const auth = publisherAuth();
      const viaQuery = target.publisher !== undefined && rng.chance(0.05);
      const targetPath = `${rng.pick(["/events", "/events", "/"])}${viaQuery ? `?access_token=${target.publisher}` : ""}`;
      const g = eventRequest(rng, {
        auth: viaQuery ? [] : auth,
        target: targetPath,
        nextTag,
        accepted: generatedModels,
      });
      for (const e of g.events) if (e.strict) generatedModels.push(e.model);
      return viaQuery ? { ...g, sub: "fuzz" } : sub === undefined ? g : { ...g, sub };
    }
    if (roll < 0.7) {
      const g = webhookRequest(rng, {
        auth: publisherAuth(),
        nextTag,
        snsKeyPem: sns.keyPem,
        snsCertUrl: `${sinkUrl}/sns/cert.pem`,
      });
      return { label: g.label, req: g.req, events: [], marker: g.marker };
    }
    if (roll < 0.85) {
      const adminAuth =
        target.admin === undefined
          ? []
          : rng.chance(0.9)
            ? bearer(target.admin)
            : rng.chance(0.5)
              ? bearer(target.publisher)
              : bearer(oddToken(rng, target.admin));
      return {
        ...subscriptionRequest(rng, {
          sinkUrl: `${sinkUrl}/${name}`,
          auth: adminAuth,
        }),
        events: [],
      };
    }
    if (roll < 0.95)
      return {
        ...surfaceRequest(rng, rng.chance(0.5) ? target.admin : target.publisher),
        events: [],
      };
    const auth =
      target.publisher === undefined ? "" : `Authorization: Bearer ${target.publisher}\r\n`;
    return { ...framingRequest(rng, auth), events: [] };
  };
  // Where the platform reads the request, what it answers itself is not sent (it is not Herald's).
  const generate = (): Sent => {
    for (;;) {
      const sent = generateAny();
      if (target.framing || !answeredByPlatform(sent.req)) return sent;
    }
  };
  // Most requests go alone on a connection; some go pipelined, several on one connection.
  const queue: (Sent | Sent[])[] = [];
  for (let n = 0; n < requests; ) {
    if (rng.chance(0.04)) {
      const group = Array.from({ length: rng.int(2, 20) }, generate).filter(
        (s) => s.req.method !== "HEAD" && s.req.raw === undefined,
      );
      queue.push(
        group.map((s) => ({
          ...s,
          req: { ...s.req, headers: s.req.headers.filter(([h]) => h !== "Connection") },
        })),
      );
      n += group.length;
    } else {
      queue.push(generate());
      n++;
    }
  }
  const record = (sent: Sent, res: RawResponse) => {
    const seen = `${sent.label} ${res.status}`;
    if (!statuses.has(seen) && process.env.HERALD_FUZZ_VERBOSE)
      samples.set(seen, res.body.toString("utf8").slice(0, 300));
    statuses.set(seen, (statuses.get(seen) ?? 0) + 1);
    for (const problem of answerProblems(sent.req, res)) {
      violations.push(
        `${sent.label}: ${problem}; request ${JSON.stringify(encodeRaw(sent.req).toString("latin1").slice(0, 400))}`,
      );
    }
    if (process.env.HERALD_FUZZ_VERBOSE && res.status === 400 && sent.events.some((e) => e.strict))
      console.log(`strict ${sent.label} refused: ${res.body.toString("utf8").slice(0, 400)}`);
    accept(sent, res);
  };
  const accept = (sent: Sent, res: RawResponse) => {
    if (res.status === 202 && sent.req.raw === undefined) {
      const request = `${sent.label} ${JSON.stringify(encodeRaw(sent.req).toString("latin1").slice(0, 1500))}`;
      accepted.push(
        ...sent.events.map((e) => ({
          ...e,
          request,
          ...(sent.sub === undefined ? {} : { authid: sent.sub }),
        })),
      );
      if (sent.marker !== undefined && encodeRaw(sent.req).includes(sent.marker))
        markers.push({ marker: sent.marker, strict: !sent.label.endsWith("-odd") });
    }
    if (
      process.env.HERALD_FUZZ_VERBOSE &&
      (res.status === 201 || (sent.label === "api-PUT" && res.status === 200))
    )
      console.log(`${sent.label} ${res.body.toString("utf8")}`);
    const listed = /^\/subscriptions\/([^/?]+)\/dead(\?|$)/.exec(sent.req.target);
    if (res.status === 200 && listed !== null && sent.req.method === "GET") {
      const page = JSON.parse(res.body.toString("utf8")) as { items: { id: string }[] };
      for (const item of page.items.slice(0, 5))
        dead.push([decodeURIComponent(listed[1] as string), item.id]);
    }
    if (res.status === 201) {
      const id = /\/subscriptions\/([^/?]+)$/.exec(res.headers.get("location") ?? "")?.[1];
      if (id !== undefined) apiIds.push(decodeURIComponent(id));
    }
  };
  // Subscription and dead-delivery ids exist only once the run created them: fill them in now.
  const resolveRequest = (req: RawRequest): RawRequest => {
    const refs = /~(api|deadsub|deadjob)\d+~/;
    if (
      req.raw !== undefined ||
      (!refs.test(req.target) &&
        !(req.body !== undefined && refs.test(Buffer.from(req.body).toString("latin1"))))
    )
      return req;
    const target = resolveRefs(
      req.target,
      apiIds.map(encodeURIComponent),
      dead.map(([a, b]) => [encodeURIComponent(a), encodeURIComponent(b)]),
    );
    if (req.body === undefined) return { ...req, target };
    const body = Buffer.from(resolveRefs(Buffer.from(req.body).toString("utf8"), apiIds, dead));
    return {
      ...req,
      target,
      body,
      headers: req.headers.map(([n, v]) =>
        n === "Content-Length" ? [n, String(body.length)] : [n, v],
      ),
    };
  };
  const pipeline = async (group: Sent[]) => {
    let answers: RawResponse[];
    try {
      answers = await sendPipelined(
        target.port,
        group.map((s) => resolveRequest(s.req)),
        TIMEOUT_MS,
      );
    } catch (err) {
      violations.push(
        `pipeline of ${group.length}: ${String(err)}; ${group.map((s) => s.label).join(", ")}`,
      );
      return;
    }
    for (const [i, res] of answers.slice(0, group.length).entries()) {
      const sent = group[i] as Sent;
      record({ ...sent, label: `pipelined-${sent.label}` }, res);
    }
    if (answers.length > group.length)
      violations.push(`pipeline of ${group.length} got ${answers.length} answers`);
  };
  const worker = async () => {
    for (;;) {
      const sent = queue.shift();
      if (sent === undefined) return;
      if (Array.isArray(sent)) {
        await pipeline(sent);
        continue;
      }
      let res: Awaited<ReturnType<typeof sendRaw>>;
      const resolved = resolveRequest(sent.req);
      if (resolved !== sent.req) Object.assign(sent, { req: resolved });
      try {
        res = await sendRaw(target.port, sent.req, TIMEOUT_MS);
      } catch (err) {
        const what = err instanceof RequestTimeout ? "hung" : String(err);
        violations.push(
          `${sent.label}: ${what}; request ${JSON.stringify(encodeRaw(sent.req).toString("latin1").slice(0, 400))}`,
        );
        continue;
      }
      record(sent, res);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { violations, accepted, markers, statuses, samples };
}

/**
 * The checks after a run: no invariant broken, every accepted event at both sinks exactly once
 * as sent, and the gateway still serving (`/healthz`, and an ordinary event reaches the sink).
 */
export async function checkRun(
  target: FuzzTarget,
  name: string,
  run: Awaited<ReturnType<typeof fuzz>>,
  sink: FuzzSink,
): Promise<void> {
  if (process.env.HERALD_FUZZ_VERBOSE)
    console.log(
      [...run.statuses]
        .sort()
        .map(([k, n]) => `${k} x${n} ${run.samples.get(k) ?? ""}`)
        .join("\n"),
    );
  expect(run.violations.slice(0, 20)).toEqual([]);
  const mine = () => sink.received.filter((r) => r.path.startsWith(`/${name}/`));
  const { problems, warnings } = await checkDeliveries(
    run.accepted,
    run.markers,
    mine,
    name,
    waitUntil,
  );
  if (process.env.HERALD_FUZZ_VERBOSE) console.log(warnings.join("\n"));
  if (process.env.HERALD_FUZZ_VERBOSE)
    console.log([...sink.apiTypes].sort((a, b) => b[1] - a[1]).slice(0, 15));
  expect(problems.slice(0, 20)).toEqual([]);
  const health = await fetch(`${target.url}/healthz`);
  expect(health.status).toBe(200);
  const after = await fetch(`${target.url}/events`, {
    method: "POST",
    headers: {
      ...(target.publisher === undefined ? {} : { authorization: `Bearer ${target.publisher}` }),
      "ce-specversion": "1.0",
      "ce-id": `after-${name}`,
      "ce-source": "/fz/after",
      "ce-type": "com.example.fz.after",
      "content-type": "application/json",
    },
    body: '{"still":"serving"}',
  });
  expect(after.status).toBe(202);
  await waitUntil(
    () => mine().some((d) => d.path === `/${name}/s` && d.body.includes(`"after-${name}"`)),
    { timeoutMs: 20_000, what: "an event sent after the run to reach the sink" },
  );
}

/** The lines of a gateway's log that are errors (a sink refusing a fuzzed delivery is not one). */
export function errorLines(log: string): string[] {
  return (
    log
      .split("\n")
      .filter((line) => /"level":"(error|fatal)"/.test(line))
      // A sink of a fuzzed subscription refusing a delivery is an outcome, logged on purpose.
      .filter((line) => !line.includes('"msg":"delivery failed; kept as dead"'))
  );
}
