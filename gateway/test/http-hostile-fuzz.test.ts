import type { ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateDevIssuer } from "../src/adapters/node/dev-issuer.js";
import { checkDeliveries } from "./fuzz/check-deliveries.js";
import {
  batchRequest,
  binaryRequest,
  type SentEvent,
  structuredRequest,
  validEvent,
} from "./fuzz/events.js";
import { type Hostile, hostileRequest, stalledRequests } from "./fuzz/hostile-requests.js";
import { answerProblems, leakProblems } from "./fuzz/invariants.js";
import { Prng } from "./fuzz/prng.js";
import { encodeRaw, type RawResponse, RequestTimeout, sendRaw } from "./fuzz/raw-http.js";
import { errorLines, type FuzzSink, fuzzConfig, startFuzzSink } from "./fuzz/run-fuzz.js";
import { FUZZ_ADAPTERS } from "./fuzz/webhook-requests.js";
import { type SpawnedHerald, spawnHerald } from "./support/spawn-herald.js";
import { waitUntil } from "./support/wait-until.js";

/**
 * Hostile input against a real `herald serve` (SQLite in a temporary folder) over real sockets,
 * once with auth (keys from a JWKS file, plus an HS256 issuer) and once with `--no-auth`: random
 * bytes and random JSON on every route, header edge cases, forged tokens, path traversal in ids,
 * `/store/backup`, the OPTIONS handshake, odd methods, slow and stalled clients, bodies cut
 * short (`./fuzz/hostile-requests.ts`). Invariants: no 5xx but a 503 with `Retry-After`, every
 * 4xx a problem with a known code, no stack trace and no secret in any answer, no hang, the
 * process up and serving after, and every event accepted before the hostile traffic (and every
 * slow client's) delivered to a sink. `HERALD_HOSTILE_SEED` and `HERALD_HOSTILE_REQUESTS` replay
 * or lengthen it.
 */
const SEED = Number(process.env.HERALD_HOSTILE_SEED ?? 20_261_130);
const REQUESTS = Number(process.env.HERALD_HOSTILE_REQUESTS ?? 1500);
const CONCURRENCY = 6;
const TIMEOUT_MS = 15_000;
const HS_SECRET = "fuzz-hs256-secret-that-is-at-least-32-bytes-long!";

const children: ChildProcess[] = [];
let sink: FuzzSink;

beforeAll(async () => {
  sink = await startFuzzSink();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await sink.close();
});

interface Target {
  readonly herald: SpawnedHerald;
  readonly port: number;
  readonly dir: string;
  readonly stderr: string[];
  readonly publisher: string | undefined;
  readonly admin: string | undefined;
  readonly forged: [string, string][];
  readonly secrets: string[];
}

/** Tokens that must all be refused (401): forged, expired, for another audience or issuer... */
async function forgedTokens(dir: string, good: string): Promise<[string, string][]> {
  const jwk = JSON.parse(await readFile(join(dir, ".herald", "dev-issuer.json"), "utf8")) as {
    kid?: string;
  };
  const key = await importJWK(jwk as never, "ES256");
  const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: "herald-dev", aud: "herald", sub: "fuzz", iat: now, exp: now + 3600 };
  const es = (c: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    new SignJWT(c).setProtectedHeader({ alg: "ES256", kid: jwk.kid ?? "", ...header }).sign(key);
  const hs = (c: Record<string, unknown>, secret = HS_SECRET) =>
    new SignJWT(c).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode(secret));
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const [, payload = ""] = good.split(".");
  return [
    ["none", `${b64({ alg: "none", typ: "JWT" })}.${payload}.`],
    ["none-kid", `${b64({ alg: "none", kid: jwk.kid })}.${payload}.`],
    ["wrong-kid", await es(claims, { kid: "not-a-key" })],
    ["kid-object", await es(claims, { kid: { a: 1 } })],
    [
      "other-key",
      await new SignJWT(claims)
        .setProtectedHeader({ alg: "ES256", kid: jwk.kid ?? "" })
        .sign(other),
    ],
    ["expired", await es({ ...claims, exp: now - 3600 })],
    ["not-yet", await es({ ...claims, nbf: now + 3600 })],
    ["future-iat", await es({ ...claims, iat: now + 86_400 })],
    ["no-exp", await es({ iss: "herald-dev", aud: "herald", sub: "fuzz" })],
    ["wrong-aud", await es({ ...claims, aud: "someone-else" })],
    ["wrong-iss", await es({ ...claims, iss: "https://evil.example" })],
    ["empty-sub", await es({ ...claims, sub: "" })],
    ["no-sub", await es({ iss: "herald-dev", aud: "herald", exp: now + 3600 })],
    ["huge", await es({ ...claims, pad: "p".repeat(20_000) })],
    [
      "crit",
      `${b64({ alg: "ES256", kid: jwk.kid, crit: ["exp"], exp: 1 })}.${payload}.${good.split(".")[2]}`,
    ],
    ["jku", await es(claims, { jku: "http://127.0.0.1:1/jwks", kid: "elsewhere" })],
    ["hs-confusion", await hs(claims, JSON.stringify(jwk))],
    ["hs-wrong-secret", await hs({ ...claims, iss: "hs" }, "x".repeat(40))],
    ["hs-expired", await hs({ ...claims, iss: "hs", exp: now - 3600 })],
    ["truncated", good.slice(0, -5)],
    ["two-dots", `${good}.`],
    ["not-base64", `${good.split(".")[0]}.!!!!.${good.split(".")[2]}`],
  ];
}

async function startTarget(auth: boolean, name: string): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), `herald-hostile-${name}-`));
  const issuer = await loadOrCreateDevIssuer(dir);
  await writeFile(join(dir, "jwks.json"), JSON.stringify(issuer.publicJwks));
  const config = {
    store: { kind: "sqlite", path: "herald.db" },
    ...fuzzConfig(name, sink.url, auth ? issuer : undefined),
  } as Record<string, unknown> & { auth?: { issuers: Record<string, unknown>[] } };
  if (config.auth !== undefined) {
    // Keys from a JWKS file, as a deployment with a file of its own does; and an HS256 issuer.
    (config.auth.issuers[0] as Record<string, unknown>).jwks = "./jwks.json";
    config.auth.issuers.push({
      issuer: "hs",
      audience: "herald",
      secret: HS_SECRET,
      algorithms: ["HS256"],
    });
  }
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
  const publisher = auth ? await issuer.mint({ sub: "fuzz", ttlSeconds: 3600 }) : undefined;
  const admin = auth
    ? await issuer.mint({ sub: "ops", scope: "herald:admin", ttlSeconds: 3600 })
    : undefined;
  const key = JSON.parse(await readFile(join(dir, ".herald", "dev-issuer.json"), "utf8")) as {
    d?: string;
  };
  return {
    herald,
    port: Number(new URL(herald.url).port),
    dir,
    stderr,
    publisher,
    admin,
    forged: publisher === undefined ? [] : await forgedTokens(dir, publisher),
    secrets: [
      FUZZ_ADAPTERS.github.secret,
      FUZZ_ADAPTERS.gitlab.secret,
      HS_SECRET,
      key.d ?? "",
      ...(publisher === undefined ? [] : [publisher, admin as string]),
    ],
  };
}

/** Opens the stalled requests' connections; each resolves with what came back once it closed. */
function openStalls(target: Target) {
  return stalledRequests(target.publisher).map(({ label, bytes, headDone }) => {
    const started = performance.now();
    const socket = connect(target.port, "127.0.0.1", () => socket.write(bytes));
    const answer = new Promise<{ text: string; ms: number }>((resolve) => {
      const chunks: Buffer[] = [];
      socket.on("data", (c: Buffer) => chunks.push(c));
      socket.on("error", () => {});
      socket.on("close", () =>
        resolve({
          text: Buffer.concat(chunks).toString("latin1"),
          ms: performance.now() - started,
        }),
      );
      // Whatever happens, the test does not wait past this.
      setTimeout(() => socket.destroy(), 30_000).unref();
    });
    return { label, headDone, answer, destroy: () => socket.destroy() };
  });
}

describe.each([
  ["hauth", true],
  ["hopen", false],
])("hostile http fuzz (%s)", (name, auth) => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget(auth, name);
  });
  afterAll(async () => {
    await target?.herald.kill();
    if (target !== undefined) await rm(target.dir, { recursive: true, force: true });
  });

  it(`keeps every invariant under ${REQUESTS} hostile requests (seed ${SEED})`, async () => {
    const rng = new Prng(SEED + (auth ? 0 : 1));
    let tag = 0;
    const nextTag = () => `hz${name}${SEED}n${tag++}`;
    const bearer: [string, string][] =
      target.publisher === undefined ? [] : [["Authorization", `Bearer ${target.publisher}`]];
    // The publisher token's sub, stored as each accepted event's authid.
    const sub = target.publisher === undefined ? {} : { authid: "fuzz" };
    const violations: string[] = [];
    const accepted: SentEvent[] = [];
    const check = (label: string, req: Hostile["req"], res: RawResponse) => {
      for (const p of [...answerProblems(req, res), ...leakProblems(req, res, target.secrets)])
        violations.push(
          `${label}: ${p}; request ${JSON.stringify(encodeRaw(req).toString("latin1").slice(0, 300))}`,
        );
    };

    // 1. Events accepted before the hostile traffic: every one must reach the sinks after it.
    const stalls = openStalls(target);
    for (let i = 0; i < 30; i++) {
      const binary = i % 3 === 0;
      const models = Array.from({ length: i % 3 === 2 ? 3 : 1 }, () =>
        validEvent(rng, nextTag(), binary),
      );
      const ctx = { auth: bearer, target: "/events" };
      const req = binary
        ? binaryRequest(rng, models[0]!, ctx)
        : i % 3 === 1
          ? structuredRequest(rng, models[0]!, ctx)
          : batchRequest(rng, models, ctx);
      const res = await sendRaw(target.port, req, TIMEOUT_MS);
      expect(res.status, res.body.toString("utf8")).toBe(202);
      accepted.push(...models.map((model) => ({ model, strict: true, viaBinary: binary, ...sub })));
    }

    // 2. The hostile traffic, CONCURRENCY at a time.
    const ctx = {
      publisher: target.publisher,
      admin: target.admin,
      forged: target.forged,
      nextTag,
    };
    const queue = Array.from({ length: REQUESTS }, () => hostileRequest(rng, ctx));
    const counts = new Map<string, number>();
    const worker = async () => {
      for (let sent = queue.shift(); sent !== undefined; sent = queue.shift()) {
        let res: RawResponse;
        try {
          res = await sendRaw(target.port, sent.req, TIMEOUT_MS);
        } catch (err) {
          violations.push(
            `${sent.label}: ${err instanceof RequestTimeout ? "hung" : String(err)}; request ${JSON.stringify(encodeRaw(sent.req).toString("latin1").slice(0, 300))}`,
          );
          continue;
        }
        const seen = `${sent.label} ${res.status}`;
        counts.set(seen, (counts.get(seen) ?? 0) + 1);
        // A cut request may be closed without an answer: its bytes are not a whole request.
        if (!(res.status === 0 && sent.req.halfClose)) check(sent.label, sent.req, res);
        // A forged token never passes (a webhook adapter may not ask for one: not looked at).
        if (/^jwt-.*-(publish|admin)$/.test(sent.label) && ![401, 414, 431].includes(res.status))
          violations.push(`${sent.label}: a forged token answered ${res.status}`);
        if (res.status === 202) accepted.push(...sent.events.map((e) => ({ ...e, ...sub })));
        else if (sent.events.some((e) => e.strict))
          violations.push(
            `${sent.label}: a valid event answered ${res.status}: ${res.body.toString("utf8").slice(0, 200)}`,
          );
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    if (process.env.HERALD_FUZZ_VERBOSE)
      console.log(
        [...counts]
          .sort()
          .map(([k, n]) => `${k} x${n}`)
          .join("\n"),
      );
    expect(violations.slice(0, 20)).toEqual([]);
    expect(target.herald.child.exitCode).toBeNull();

    // 3. Still up and serving; everything accepted is delivered, exactly once.
    for (const path of ["/healthz", "/readyz"]) {
      const res = await sendRaw(
        target.port,
        {
          method: "GET",
          target: path,
          headers: [
            ["Host", "127.0.0.1"],
            ["Connection", "close"],
          ],
        },
        TIMEOUT_MS,
      );
      expect(res.status, path).toBe(200);
    }
    const mine = () => sink.received.filter((r) => r.path.startsWith(`/${name}/`));
    const { problems } = await checkDeliveries(accepted, [], mine, name, waitUntil);
    expect(problems.slice(0, 20)).toEqual([]);

    // 4. The stalled requests: an unfinished head gets 408 (its 20 s limit); none took an event.
    // A body's limit is 60 s: those are only checked not to have been answered 2xx or 5xx.
    for (const stall of stalls) {
      if (!auth || stall.headDone || stall.label === "stall-nothing") stall.destroy();
      const { text, ms } = await stall.answer;
      if (auth && !stall.headDone && stall.label !== "stall-nothing") {
        expect(text.split("\r\n")[0], `${stall.label} after ${Math.round(ms)} ms`).toMatch(
          /^HTTP\/1\.1 408 /,
        );
        expect(text).toContain('"code":"request_timeout"');
      }
      expect(text, stall.label).not.toMatch(/^HTTP\/1\.1 (2|5)\d\d /);
    }
    expect(target.herald.child.exitCode).toBeNull();
    expect(errorLines(target.stderr.join("")).slice(0, 10)).toEqual([]);
  }, 120_000);
});
