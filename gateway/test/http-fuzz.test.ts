import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateDevIssuer } from "../src/adapters/node/dev-issuer.js";
import { type AcceptedMarker, checkDeliveries, type Delivery } from "./fuzz/check-deliveries.js";
import { eventRequest, FUZZ_LIMITS } from "./fuzz/event-requests.js";
import type { EventModel, SentEvent } from "./fuzz/events.js";
import { answerProblems } from "./fuzz/invariants.js";
import { Prng } from "./fuzz/prng.js";
import {
  encodeRaw,
  type RawRequest,
  type RawResponse,
  RequestTimeout,
  sendPipelined,
  sendRaw,
} from "./fuzz/raw-http.js";
import { resolveRefs, subscriptionRequest } from "./fuzz/subscription-requests.js";
import { framingRequest, oddToken, surfaceRequest } from "./fuzz/surface-requests.js";
import { fuzzAdapters, webhookRequest } from "./fuzz/webhook-requests.js";
import { makeSnsSigningCertificate } from "./support/sns-signing-certificate.js";
import { type SpawnedHerald, spawnHerald } from "./support/spawn-herald.js";
import { waitUntil } from "./support/wait-until.js";

/**
 * A structure-aware fuzz probe of the whole HTTP surface of a real `herald serve` (SQLite in a
 * temporary folder), once with publisher auth and once with `--no-auth`: generated requests
 * (events in every mode, every webhook kind, the Subscriptions API, paths, methods, queries,
 * tokens, framing over raw sockets) from a seeded PRNG, with the invariants checked per answer
 * and, after the run, every accepted event checked at a real sink. `HERALD_FUZZ_SEED` and
 * `HERALD_FUZZ_REQUESTS` run it longer with another seed (README, "Development").
 */
const SEED = Number(process.env.HERALD_FUZZ_SEED ?? 20_261_129);
const REQUESTS = Number(process.env.HERALD_FUZZ_REQUESTS ?? 500);
const TIMEOUT_MS = Number(process.env.HERALD_FUZZ_TIMEOUT_MS ?? 15_000);
const CONCURRENCY = Number(process.env.HERALD_FUZZ_CONCURRENCY ?? 6);

const children: ChildProcess[] = [];
let sink: Server;
let sinkUrl: string;
const received: Delivery[] = [];
const apiTypes = new Map<string, number>();
let sns: { keyPem: string; certificatePem: string };

beforeAll(async () => {
  sns = makeSnsSigningCertificate();
  sink = createServer((req, res) => {
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
  sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}`;
});

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

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  sink.closeAllConnections();
  await new Promise<void>((ok) => sink.close(() => ok()));
});

interface Target {
  readonly herald: SpawnedHerald;
  readonly port: number;
  readonly stderr: string[];
  readonly publisher: string | undefined;
  readonly admin: string | undefined;
  /** Signs any claims with the dev issuer's key (odd but validly signed tokens). */
  readonly sign: ((claims: Record<string, unknown>) => Promise<string>) | undefined;
  readonly dir: string;
}

async function startTarget(auth: boolean, name: string): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), `herald-fuzz-${name}-`));
  const issuer = await loadOrCreateDevIssuer(dir);
  const config = {
    store: { kind: "sqlite", path: "herald.db" },
    // Small limits with auth (the 413 paths), the defaults without (room for deep JSON).
    ...(auth ? { limits: FUZZ_LIMITS } : {}),
    ...(auth
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
  await writeFile(join(dir, "herald.json"), JSON.stringify(config));
  const stderr: string[] = [];
  const herald = await spawnHerald({
    config: "herald.json",
    cwd: dir,
    children,
    noAuth: !auth,
    env: { HERALD_LOG_LEVEL: "warn" },
    stderr: (text) => stderr.push(text),
  });
  let sign: Target["sign"];
  if (auth) {
    const jwk = JSON.parse(
      await readFile(join(dir, ".herald", "dev-issuer.json"), "utf8"),
    ) as Record<string, unknown>;
    const key = await importJWK(jwk as never, "ES256");
    sign = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: String(jwk.kid ?? "") })
        .sign(key);
  }
  return {
    herald,
    port: Number(new URL(herald.url).port),
    stderr,
    publisher: auth ? await issuer.mint({ sub: "fuzz", ttlSeconds: 3600 }) : undefined,
    admin: auth
      ? await issuer.mint({ sub: "ops", scope: "herald:admin", ttlSeconds: 3600 })
      : undefined,
    sign,
    dir,
  };
}

/** Odd but validly signed tokens: claims of the wrong types, expired, other subjects. */
async function signedOddities(target: Target, rng: Prng): Promise<[string, unknown][]> {
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

async function fuzz(target: Target, name: string, seed: number) {
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
  const generate = (): Sent => {
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
  // Most requests go alone on a connection; some go pipelined, several on one connection.
  const queue: (Sent | Sent[])[] = [];
  for (let n = 0; n < REQUESTS; ) {
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

describe.each([
  ["auth", true],
  ["open", false],
])("http fuzz (%s)", (name, auth) => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget(auth, name);
  });
  afterAll(async () => {
    await target?.herald.kill();
    if (target !== undefined) await rm(target.dir, { recursive: true, force: true });
  });

  it(`keeps every invariant under ${REQUESTS} generated requests (seed ${SEED})`, async () => {
    const run = await fuzz(target, name, SEED + (auth ? 0 : 1));
    if (process.env.HERALD_FUZZ_VERBOSE)
      console.log(
        [...run.statuses]
          .sort()
          .map(([k, n]) => `${k} x${n} ${run.samples.get(k) ?? ""}`)
          .join("\n"),
      );
    expect(run.violations.slice(0, 20)).toEqual([]);
    expect(target.herald.child.exitCode).toBeNull();
    // Every accepted event reaches both sinks exactly once, as sent.
    const mine = () => received.filter((r) => r.path.startsWith(`/${name}/`));
    const { problems, warnings } = await checkDeliveries(
      run.accepted,
      run.markers,
      mine,
      name,
      waitUntil,
    );
    if (process.env.HERALD_FUZZ_VERBOSE) console.log(warnings.join("\n"));
    if (process.env.HERALD_FUZZ_VERBOSE)
      console.log([...apiTypes].sort((a, b) => b[1] - a[1]).slice(0, 15));
    expect(problems.slice(0, 20)).toEqual([]);
    // Still serves a normal request, and nothing was logged as an error.
    const health = await fetch(`${target.herald.url}/healthz`);
    expect(health.status).toBe(200);
    const after = await fetch(`${target.herald.url}/events`, {
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
      {
        timeoutMs: 20_000,
        what: "an event sent after the run to reach the sink",
      },
    );
    const errors = target.stderr
      .join("")
      .split("\n")
      .filter(
        (line) =>
          line !== "" &&
          !line.startsWith("herald: WARNING") &&
          !/"level":"(warn|info|debug)"/.test(line),
      )
      // A sink of a fuzzed subscription refusing a delivery is an outcome, logged on purpose.
      .filter((line) => !line.includes('"msg":"delivery failed; kept as dead"'));
    expect(errors.slice(0, 10)).toEqual([]);
  }, 120_000);
});
