import { createServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type JwksServer, startJwksServer } from "../../test/support/jwks-server.js";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  manualClock,
  signToken,
  T0,
  type TestKey,
} from "../../test/support/test-issuer.js";
import { TEST_TLS_CERT, TEST_TLS_KEY } from "../../test/support/tls-fixture.js";
import type { Logger } from "../ports/logger.js";
import { KeysUnavailable, Unauthorized } from "./auth-errors.js";
import type { KeySource } from "./key-source.js";
import { JWKS_CACHED_AT, JWKS_STALE, sharedCacheAnswer } from "./read-jwks.js";
import { createRemoteKeySource, type RemoteKeySourceOptions } from "./remote-key-source.js";
import { createTokenVerifier } from "./verify-token.js";

const servers: JwksServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(...keys: TestKey[]): Promise<JwksServer> {
  const server = await startJwksServer(jwksOf(...keys));
  servers.push(server);
  return server;
}

/** A remote source on a manual clock, and an uncached verifier over it. */
function setup(url: string, options: Partial<RemoteKeySourceOptions> = {}) {
  const clock = manualClock();
  const keys = createRemoteKeySource({ url, clock, ...options });
  const verifier = createTokenVerifier({
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys }],
    cache: false,
    clock,
  });
  return { clock, keys, verifier };
}

function recordingLogger() {
  const lines: { level: string; message: string; fields: unknown }[] = [];
  const log =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields });
    };
  const logger: Logger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
  };
  return { lines, logger };
}

/** `promise`'s value, or the string "still pending" after `ms` of real time (a hang, as a value). */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | "still pending"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"still pending">((resolve) => {
    timer = setTimeout(() => resolve("still pending"), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("createRemoteKeySource", () => {
  it("fetches the set on first use, once, and verifies with it", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { verifier } = setup(server.url);
    expect(server.requests).toBe(0);
    const token = await signToken(k1);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "orders-service" });
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "orders-service" });
    expect(server.requests).toBe(1);
  });

  it("picks up a rotated-in key when a token names an unknown kid", async () => {
    const k1 = await makeKey("ES256", "k1");
    const k2 = await makeKey("ES256", "k2");
    const server = await serve(k1);
    const { verifier, clock } = setup(server.url);
    await verifier.verify(await signToken(k1));
    server.serve(jwksOf(k1, k2));
    clock.advance(30_000);
    await expect(verifier.verify(await signToken(k2))).resolves.toMatchObject({
      issuer: ISSUER,
    });
    expect(server.requests).toBe(2);
  });

  it("picks up a key rotated in just after the first load, without waiting out the cooldown", async () => {
    const k1 = await makeKey("ES256", "k1");
    const k2 = await makeKey("ES256", "k2");
    const k3 = await makeKey("ES256", "k3");
    const server = await serve(k1);
    const { verifier, clock } = setup(server.url);
    await verifier.verify(await signToken(k1));
    server.serve(jwksOf(k1, k2));
    clock.advance(1_000);
    await expect(verifier.verify(await signToken(k2))).resolves.toMatchObject({ issuer: ISSUER });
    expect(server.requests).toBe(2);
    // That refetch for a kid starts the cooldown for the next one.
    server.serve(jwksOf(k1, k2, k3));
    clock.advance(1_000);
    await expect(verifier.verify(await signToken(k3))).rejects.toMatchObject({
      reason: "unknown_key",
    });
    expect(server.requests).toBe(2);
    clock.advance(29_000);
    await expect(verifier.verify(await signToken(k3))).resolves.toMatchObject({ issuer: ISSUER });
    expect(server.requests).toBe(3);
  });

  it("a set a shared cache served (JWKS_CACHED_AT) starts no cooldown and keeps its age", async () => {
    const k1 = await makeKey("ES256", "k1");
    const k2 = await makeKey("ES256", "k2");
    const clock = manualClock();
    let served = { set: jwksOf(k1), cachedAt: (clock.now() - 540_000) as number | undefined };
    let fetches = 0;
    // The set being served, marked as a shared cache's (with its fetch time) or not.
    const serve = async () => {
      fetches += 1;
      const { set, cachedAt } = served;
      if (cachedAt === undefined) return Response.json(set);
      return sharedCacheAnswer(
        Response.json(set, { headers: { [JWKS_CACHED_AT]: String(cachedAt) } }),
      );
    };
    const keys = createRemoteKeySource({
      url: "https://id.example.test/jwks.json",
      clock,
      fetch: serve,
    });
    const verifier = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys }],
      cache: false,
      clock,
    });
    await verifier.verify(await signToken(k1));
    // The issuer rotated k2 in: a token naming it refetches at once, from the issuer.
    served = { set: jwksOf(k1, k2), cachedAt: undefined };
    await expect(verifier.verify(await signToken(k2))).resolves.toMatchObject({ issuer: ISSUER });
    expect(fetches).toBe(2);
    // That fetch was the issuer's: the cooldown holds from it.
    await expect(
      verifier.verify(await signToken(k1, undefined, { kid: "stray" })),
    ).rejects.toMatchObject({
      reason: "unknown_key",
    });
    expect(fetches).toBe(2);

    // A set from the cache, nine minutes old, is refetched when it is ten, not nineteen.
    const fresh = createRemoteKeySource({
      url: "https://id.example.test/jwks.json",
      clock,
      refreshInBackground: false,
      fetch: serve,
    });
    served = { set: jwksOf(k1), cachedAt: clock.now() - 540_000 };
    await fresh.keysFor({ alg: "ES256", kid: "k1" });
    served = { set: jwksOf(k1), cachedAt: undefined };
    clock.advance(60_000);
    await fresh.keysFor({ alg: "ES256", kid: "k1" });
    expect(fetches).toBe(4);
  });

  it("refetches for unknown kids at most once per cooldown, however many arrive", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { verifier, clock } = setup(server.url);
    await verifier.verify(await signToken(k1));
    expect(server.requests).toBe(1);
    const garbage = (i: number) => signToken(k1, undefined, { kid: `garbage-${i}` });

    // The first load does not count: the first unknown kid refetches, the next ones wait.
    clock.advance(1_000);
    for (let i = 0; i < 20; i++) {
      await expect(verifier.verify(await garbage(i))).rejects.toMatchObject({
        reason: "unknown_key",
      });
    }
    expect(server.requests).toBe(2);

    // After the cooldown one refetch is allowed, shared by concurrent requests.
    clock.advance(30_000);
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => garbage(100 + i)));
    const outcomes = await Promise.allSettled(tokens.map((token) => verifier.verify(token)));
    expect(outcomes.every((outcome) => outcome.status === "rejected")).toBe(true);
    expect(server.requests).toBe(3);
    await expect(verifier.verify(await garbage(200))).rejects.toBeInstanceOf(Unauthorized);
    expect(server.requests).toBe(3);
  });

  it("honours a configured cooldown", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { verifier, clock } = setup(server.url, { cooldownMs: 5_000 });
    await verifier.verify(await signToken(k1));
    await verifier.verify(await signToken(k1, undefined, { kid: "other" })).catch(() => {});
    expect(server.requests).toBe(2);
    clock.advance(4_999);
    await verifier.verify(await signToken(k1, undefined, { kid: "other" })).catch(() => {});
    expect(server.requests).toBe(2);
    clock.advance(1);
    await verifier.verify(await signToken(k1, undefined, { kid: "other" })).catch(() => {});
    expect(server.requests).toBe(3);
  });

  it("keeps verifying with the keys it has when the JWKS server is down", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { lines, logger } = recordingLogger();
    const { verifier, clock } = setup(server.url, { logger });
    await verifier.verify(await signToken(k1));
    await server.close();

    // Past the max age the set is due for a refetch; the refetch fails and the old keys serve.
    clock.advance(11 * 60_000);
    const later = await signToken(k1, claimsAt(clock.now() / 1000, { sub: "late" }));
    await expect(verifier.verify(later)).resolves.toMatchObject({ subject: "late" });
    // The refetch runs in the background (the old set served the token above): wait for its end.
    await vi.waitFor(
      () =>
        expect(lines).toContainEqual(
          expect.objectContaining({
            level: "warn",
            message: expect.stringContaining("JWKS fetch failed"),
          }),
        ),
      { timeout: 10_000 },
    );
    // An unknown kid is still refused as a bad token, not as unavailable keys.
    clock.advance(60_000);
    const unknown = await signToken(k1, claimsAt(clock.now() / 1000), { kid: "k9" });
    await expect(verifier.verify(unknown)).rejects.toMatchObject({ reason: "unknown_key" });
  });

  it("logs a failed fetch without the URL's query (a credential may ride there)", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { lines, logger } = recordingLogger();
    const withSecret = `${server.url}?api_key=s3cr3t`;
    const { verifier, clock } = setup(withSecret, { logger });
    await server.close();
    clock.advance(1);
    await verifier.verify(await signToken(k1)).catch(() => {});
    const failed = lines.find((line) => line.message.includes("JWKS fetch failed"));
    expect(failed).toBeDefined();
    const text = JSON.stringify(failed);
    expect(text).not.toContain("s3cr3t");
    const plain = new URL(server.url);
    expect(failed?.fields).toMatchObject({
      url: `${plain.protocol}//${plain.host}${plain.pathname}`,
    });
  });

  it("logs why a fetch failed, not just fetch's own 'fetch failed' (an untrusted certificate)", async () => {
    const server = createHttpsServer({ cert: TEST_TLS_CERT, key: TEST_TLS_KEY }, (_req, res) => {
      res.end('{"keys":[]}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { lines, logger } = recordingLogger();
      // The global fetch, which does not trust the test certificate.
      const keys = createRemoteKeySource({ url: `https://127.0.0.1:${port}/jwks`, logger });
      await expect(keys.keysFor({ alg: "ES256", kid: "k1" })).rejects.toBeInstanceOf(
        KeysUnavailable,
      );
      const failed = lines.find((line) => line.message.includes("JWKS fetch failed"));
      expect(failed?.fields).toMatchObject({
        error: expect.stringMatching(/^fetch failed: .*certificate/),
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("keeps the old keys when a refetch answers an error or an invalid set", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { verifier, clock, keys } = setup(server.url);
    const token = await signToken(k1);
    await verifier.verify(token);
    for (const answer of [500, 404, { keys: [{ ...k1.publicJwk, d: "private" }] }]) {
      server.serve(answer as never);
      clock.advance(30_000);
      expect(await keys.refresh()).toBe(false);
      await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "orders-service" });
    }
    expect(await keys.generation()).toBe(0);
  });

  it("a first token whose kid the set just loaded for it lacks is refused after that one fetch", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { verifier } = setup(server.url);
    await expect(
      verifier.verify(await signToken(k1, undefined, { kid: "stray" })),
    ).rejects.toMatchObject({ reason: "unknown_key" });
    expect(server.requests).toBe(1);
  });

  it("after a failed fetch an unknown kid waits out the cooldown: a down issuer is not hammered", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { verifier, clock, keys } = setup(server.url);
    await verifier.verify(await signToken(k1));
    clock.advance(30_000);
    server.serve(500 as never);
    expect(await keys.refresh()).toBe(false);
    expect(server.requests).toBe(2);
    clock.advance(1_000);
    await expect(
      verifier.verify(await signToken(k1, undefined, { kid: "rotated" })),
    ).rejects.toMatchObject({ reason: "unknown_key" });
    expect(server.requests).toBe(2);
  });

  it("refuses keys an https JWKS URL redirected to plain http for (fetch follows the downgrade)", async () => {
    const k1 = await makeKey("ES256", "k1");
    const cleartext = await serve(k1);
    // A plain-http hop that sends the request back to https: a check of the final URL alone
    // would pass https -> http -> https, whose middle hop anyone on the path can answer.
    let bounced = 0;
    const bounce = createServer((req, res) => {
      bounced++;
      req.resume();
      res.writeHead(302, { location: `${base}/keys` }).end();
    });
    await new Promise<void>((ok) => bounce.listen(0, "127.0.0.1", ok));
    const bounceUrl = `http://127.0.0.1:${(bounce.address() as AddressInfo).port}/`;
    let base = "";
    // An https endpoint (self-signed: verification is off for this test only) that sends
    // /cleartext to the plain-http server and /tls to itself.
    vi.stubEnv("NODE_TLS_REJECT_UNAUTHORIZED", "0");
    const tls = createHttpsServer({ cert: TEST_TLS_CERT, key: TEST_TLS_KEY }, (req, res) => {
      req.resume();
      if (req.url === "/cleartext") res.writeHead(302, { location: cleartext.url }).end();
      else if (req.url === "/tls") res.writeHead(302, { location: "/keys" }).end();
      else if (req.url === "/chain") res.writeHead(302, { location: bounceUrl }).end();
      else res.writeHead(200).end(JSON.stringify(jwksOf(k1)));
    });
    await new Promise<void>((ok) => tls.listen(0, "127.0.0.1", ok));
    try {
      base = `https://127.0.0.1:${(tls.address() as AddressInfo).port}`;
      const { lines, logger } = recordingLogger();
      const downgraded = setup(`${base}/cleartext`, { logger });
      const token = await signToken(k1);
      await expect(downgraded.verifier.verify(token)).rejects.toBeInstanceOf(KeysUnavailable);
      // Refused at the redirect: nothing is asked over cleartext at all.
      expect(cleartext.requests).toBe(0);
      expect(JSON.stringify(lines)).toContain("redirected to plain http");
      const chained = setup(`${base}/chain`);
      await expect(chained.verifier.verify(token)).rejects.toBeInstanceOf(KeysUnavailable);
      expect(bounced).toBe(0);
      // A redirect that stays on https is followed as before.
      const kept = setup(`${base}/tls`);
      await expect(kept.verifier.verify(token)).resolves.toMatchObject({
        subject: "orders-service",
      });
    } finally {
      vi.unstubAllEnvs();
      await new Promise((ok) => tls.close(ok));
      await new Promise((ok) => bounce.close(ok));
    }
  });

  it("answers KeysUnavailable (503, Retry-After) when no set was ever fetched", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    await server.close();
    let attempts = 0;
    const { verifier, clock } = setup(server.url, {
      fetch: (request) => {
        attempts += 1;
        return fetch(request);
      },
    });
    const token = await signToken(k1);
    const first = await verifier.verify(token).catch((err) => err);
    expect(first).toBeInstanceOf(KeysUnavailable);
    expect(first).toMatchObject({ status: 503, headers: { "retry-after": "30" } });
    expect(first.message).not.toContain(token);

    // Within the cooldown it does not try again, and says how long to wait.
    clock.advance(10_000);
    const second = await verifier.verify(token).catch((err) => err);
    expect(second).toMatchObject({ code: "keys_unavailable", headers: { "retry-after": "20" } });
    expect(attempts).toBe(1);
  });

  it("recovers once the JWKS server answers again", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    server.serve(503);
    const { verifier, clock } = setup(server.url);
    const token = await signToken(k1);
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(KeysUnavailable);
    server.serve(jwksOf(k1));
    clock.advance(30_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "orders-service" });
    expect(server.requests).toBe(2);
  });

  it("refetches a set older than its max age, and bumps the generation only when a key goes", async () => {
    const k1 = await makeKey("ES256", "k1");
    const k2 = await makeKey("ES256", "k2");
    const server = await serve(k1);
    const { keys, clock } = setup(server.url, { maxAgeMs: 60_000 });
    expect(await keys.generation()).toBe(0);
    server.serve(jwksOf(k1, k2));
    clock.advance(59_999);
    expect(await keys.generation()).toBe(0);
    expect(server.requests).toBe(1);
    clock.advance(1);
    // Past max age the old set still answers while the new one is fetched in the background.
    expect(await keys.generation()).toBe(0);
    await vi.waitFor(() => expect(server.requests).toBe(2));
    expect(await keys.generation()).toBe(0); // k2 added: nothing cached can be wrong
    server.serve(jwksOf(k2));
    clock.advance(60_000);
    expect(await keys.generation()).toBe(0);
    await vi.waitFor(async () => expect(await keys.generation()).toBe(1)); // k1 withdrawn
    expect(server.requests).toBe(3);
    await expect(keys.keysFor({ alg: "ES256", kid: "k1" })).rejects.toMatchObject({
      reason: "unknown_key",
    });
  });

  it("keeps answering from the old set while a refetch past max age hangs", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    let calls = 0;
    const hangAfterFirst = (request: Request) =>
      ++calls === 1 ? fetch(request) : new Promise<Response>(() => {});
    const { keys, clock } = setup(server.url, { maxAgeMs: 60_000, fetch: hangAfterFirst });
    expect((await keys.keysFor({ alg: "ES256", kid: "k1" })).keys).toHaveLength(1);
    clock.advance(60_000);
    // The refetch never answers: these resolve only because they do not wait for it.
    expect((await keys.keysFor({ alg: "ES256", kid: "k1" })).keys).toHaveLength(1);
    expect((await keys.keysFor({ alg: "ES256", kid: "k1" })).keys).toHaveLength(1);
    expect(calls).toBe(2); // one refetch, not one per request
  });

  it("a refetch that never settles (a Worker cancels what a finished request left running) blocks no later fetch", async () => {
    const k1 = await makeKey("ES256", "k1");
    const k2 = await makeKey("ES256", "k2");
    const server = await serve(k1);
    let calls = 0;
    const hangSecond = (request: Request) =>
      ++calls === 2 ? new Promise<Response>(() => {}) : fetch(request);
    const { keys, clock } = setup(server.url, { maxAgeMs: 60_000, fetch: hangSecond });
    expect((await keys.keysFor({ alg: "ES256", kid: "k1" })).keys).toHaveLength(1);
    clock.advance(60_000);
    expect((await keys.keysFor({ alg: "ES256", kid: "k1" })).keys).toHaveLength(1);
    expect(calls).toBe(2); // the background refetch, which will never settle
    server.serve(jwksOf(k1, k2));
    clock.advance(30_000); // past the cooldown and far past the fetch's own 5 s timeout
    // The rotated-in key is fetched instead of waiting forever on the abandoned fetch.
    const found = await settledWithin(keys.keysFor({ alg: "ES256", kid: "k2" }), 2_000);
    expect(found).toMatchObject({ keys: [expect.anything()] });
    expect(calls).toBe(3);
  });

  it("waits for a fetch that never settles no longer than its timeout (and a second)", async () => {
    const keys = createRemoteKeySource({
      url: "https://id.example.test/jwks",
      fetch: () => new Promise<Response>(() => {}),
      timeoutMs: 50,
    });
    const refused = await settledWithin(
      keys.keysFor({ alg: "ES256", kid: "k1" }).catch((err) => err),
      3_000,
    );
    expect(refused).toBeInstanceOf(KeysUnavailable);
  });

  it("refetches a set past its max age before answering, with refreshInBackground: false (Workers)", async () => {
    const k1 = await makeKey("ES256", "k1");
    const k2 = await makeKey("ES256", "k2");
    const server = await serve(k1);
    const { keys, clock } = setup(server.url, { maxAgeMs: 60_000, refreshInBackground: false });
    expect(await keys.generation()).toBe(0);
    server.serve(jwksOf(k2));
    clock.advance(60_000);
    // Answered from the set the request fetched, not the old one: k1 is gone at once.
    expect(await keys.generation()).toBe(1);
    expect(server.requests).toBe(2);
    await expect(keys.keysFor({ alg: "ES256", kid: "k1" })).rejects.toMatchObject({
      reason: "unknown_key",
    });
    // Within the max age nothing is fetched.
    await keys.keysFor({ alg: "ES256", kid: "k2" });
    expect(server.requests).toBe(2);
  });

  it("stops reading a JWKS without Content-Length as soon as it passes 1 MiB", async () => {
    // A chunked answer has no Content-Length to refuse up front: the limit must hold while the
    // body streams in, not after all of it sits in memory.
    const total = 64 * 1024 * 1024;
    let written = 0;
    let finished = false;
    const server: Server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (written < total) {
          written += chunk.byteLength;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        finished = true;
        res.end();
      };
      res.on("close", () => res.off("drain", pump));
      pump();
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    try {
      const { port } = server.address() as AddressInfo;
      const { lines, logger } = recordingLogger();
      const keys = createRemoteKeySource({ url: `http://127.0.0.1:${port}/jwks`, logger });
      expect(await keys.refresh()).toBe(false);
      expect(finished).toBe(false);
      expect(written).toBeLessThan(total / 2);
      expect(lines.at(-1)?.fields).toMatchObject({
        error: "the JWKS is larger than 1048576 bytes",
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    }
  });

  it("reads no shared-cache marker from the JWKS server's own answer", async () => {
    // JWKS_CACHED_AT and JWKS_STALE are what Herald's own shared cache (a Worker's Cache API)
    // tells the key source; from the network they are the JWKS server's to choose. Read from it,
    // `x-herald-jwks-cached-at: 1` made a fresh set a day old: every token of the issuer got 503
    // keys_unavailable, with an error line saying the JWKS could not be refetched for a day.
    const k1 = await makeKey("ES256", "k1");
    const server = await startJwksServer(jwksOf(k1), {
      [JWKS_CACHED_AT]: "1",
      [JWKS_STALE]: "forged%20failure",
    });
    servers.push(server);
    const { lines, logger } = recordingLogger();
    const { verifier } = setup(server.url, { logger });
    await expect(verifier.verify(await signToken(k1))).resolves.toMatchObject({ issuer: ISSUER });
    expect(lines.filter((line) => line.level !== "info")).toEqual([]);
    expect(server.requests).toBe(1);
  });

  it("refuses options that cannot work", () => {
    expect(() => createRemoteKeySource({ url: "ftp://id.example.test/jwks" })).toThrow(TypeError);
    expect(() => createRemoteKeySource({ url: "/relative" })).toThrow(TypeError);
    expect(() => createRemoteKeySource({ url: "https://x.test/j", cooldownMs: -1 })).toThrow(
      /cooldownMs/,
    );
  });
});

describe("verified-token cache over a JWKS URL", () => {
  /** The source, counting how often a key had to be looked up (i.e. a full verification). */
  function counting(source: KeySource) {
    let lookups = 0;
    const counted: KeySource = {
      kind: source.kind,
      keysFor: (query) => {
        lookups += 1;
        return source.keysFor(query);
      },
      generation: () => source.generation(),
    };
    return { counted, lookups: () => lookups };
  }

  function cachedSetup(url: string) {
    const clock = manualClock();
    const { counted, lookups } = counting(createRemoteKeySource({ url, clock }));
    const verifier = createTokenVerifier({
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys: counted }],
      clock,
    });
    return { clock, verifier, lookups };
  }

  it("stops serving a cached token once a refetch withdraws its key", async () => {
    const k1 = await makeKey("ES256", "k1");
    const k2 = await makeKey("ES256", "k2");
    const server = await serve(k1);
    const { clock, verifier, lookups } = cachedSetup(server.url);
    const old = await signToken(k1);
    await verifier.verify(old);
    await verifier.verify(old);
    expect(lookups()).toBe(1);

    server.serve(jwksOf(k2));
    clock.advance(30_000);
    await verifier.verify(await signToken(k2)); // unknown kid: refetch, k1 is gone
    expect(server.requests).toBe(2);
    const refused = await verifier.verify(old).catch((err) => err);
    expect(refused).toBeInstanceOf(Unauthorized);
    expect(refused).toMatchObject({ reason: "unknown_key" });
  });

  it("keeps serving cached tokens when a refetch only adds keys", async () => {
    const k1 = await makeKey("ES256", "k1");
    const k2 = await makeKey("ES256", "k2");
    const server = await serve(k1);
    const { clock, verifier, lookups } = cachedSetup(server.url);
    const token = await signToken(k1);
    await verifier.verify(token);
    server.serve(jwksOf(k1, k2));
    clock.advance(30_000);
    await verifier.verify(await signToken(k2));
    expect(lookups()).toBe(2);
    await verifier.verify(token);
    expect(lookups()).toBe(2);
  });
});

describe("createRemoteKeySource: max age from the answer's caching headers", () => {
  /** A server serving k1 with `headers`, and a source that refetches before answering. */
  async function cachingSetup(headers: Record<string, string>) {
    const k1 = await makeKey("ES256", "k1");
    const server = await startJwksServer(jwksOf(k1), headers);
    servers.push(server);
    const { keys, clock, verifier } = setup(server.url, { refreshInBackground: false });
    const token = await signToken(k1, claimsAt(clock.now() / 1000, { exp: 4e9 }));
    return { k1, server, keys, clock, verifier, token };
  }

  it("refetches when max-age runs out, not at the 10-minute default", async () => {
    const { server, clock, verifier, token } = await cachingSetup({
      "cache-control": "public, max-age=120, must-revalidate",
    });
    await verifier.verify(token);
    clock.advance(119_999);
    await verifier.verify(token);
    expect(server.requests).toBe(1);
    clock.advance(1);
    await verifier.verify(token);
    expect(server.requests).toBe(2);
    // The next answer's max-age counts from its fetch.
    clock.advance(119_999);
    await verifier.verify(token);
    expect(server.requests).toBe(2);
  });

  it("no-store, no-cache and max-age=0 mean a fetch a minute at most, not one per token", async () => {
    for (const cacheControl of ["no-store", "no-cache", "max-age=0", "max-age=junk"]) {
      const { server, clock, verifier, token } = await cachingSetup({
        "cache-control": cacheControl,
      });
      for (let s = 0; s < 60; s++) {
        await verifier.verify(token);
        clock.advance(999);
      }
      expect(server.requests, cacheControl).toBe(1);
      clock.advance(60_000);
      await verifier.verify(token);
      expect(server.requests, cacheControl).toBe(2);
    }
  });

  it("a max-age of a day is cut to an hour, so a withdrawn key stops verifying within it", async () => {
    const { k1, server, clock, verifier, keys, token } = await cachingSetup({
      "cache-control": "max-age=86400",
    });
    await verifier.verify(token);
    const k2 = await makeKey("ES256", "k2");
    server.serve(jwksOf(k2), { "cache-control": "max-age=86400" });
    clock.advance(3_599_999);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "orders-service" });
    expect(server.requests).toBe(1);
    clock.advance(1);
    await expect(verifier.verify(token)).rejects.toMatchObject({ reason: "unknown_key" });
    expect(server.requests).toBe(2);
    expect(await keys.generation()).toBe(1);
    expect(k1.kid).toBe("k1");
  });

  it("takes off the Age a cache on the way added, and reads Expires against Date", async () => {
    const aged = await cachingSetup({ "cache-control": "max-age=600", age: "540" });
    await aged.verifier.verify(aged.token);
    aged.clock.advance(59_999);
    await aged.verifier.verify(aged.token);
    expect(aged.server.requests).toBe(1);
    aged.clock.advance(1);
    await aged.verifier.verify(aged.token);
    expect(aged.server.requests).toBe(2);

    // The issuer's clock is a day behind ours: Expires - Date is what counts, 5 minutes.
    const issuerNow = T0 - 86_400_000;
    const expiring = await cachingSetup({
      date: new Date(issuerNow).toUTCString(),
      expires: new Date(issuerNow + 300_000).toUTCString(),
    });
    await expiring.verifier.verify(expiring.token);
    expiring.clock.advance(299_999);
    await expiring.verifier.verify(expiring.token);
    expect(expiring.server.requests).toBe(1);
    expiring.clock.advance(1);
    await expiring.verifier.verify(expiring.token);
    expect(expiring.server.requests).toBe(2);
  });

  it("a long max-age does not hold back a rotated-in key: an unknown kid still refetches", async () => {
    const { k1, server, clock, verifier } = await cachingSetup({ "cache-control": "max-age=3600" });
    await verifier.verify(await signToken(k1));
    const k2 = await makeKey("ES256", "k2");
    server.serve(jwksOf(k1, k2), { "cache-control": "max-age=3600" });
    clock.advance(1_000);
    await expect(verifier.verify(await signToken(k2))).resolves.toMatchObject({ issuer: ISSUER });
    expect(server.requests).toBe(2);
    // The rate limit on unknown kids holds as before.
    clock.advance(1_000);
    await expect(
      verifier.verify(await signToken(k1, undefined, { kid: "made-up" })),
    ).rejects.toMatchObject({ reason: "unknown_key" });
    expect(server.requests).toBe(2);
  });

  it("refetches past max-age in the background by default, the old set answering meanwhile", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    server.serve(jwksOf(k1), { "cache-control": "max-age=90" });
    const { clock, keys } = setup(server.url);
    await keys.keysFor({ alg: "ES256", kid: "k1" });
    const k2 = await makeKey("ES256", "k2");
    server.serve(jwksOf(k2), { "cache-control": "max-age=90" });
    clock.advance(90_000);
    // Answered from the old set; the refetch it started withdraws k1 once it lands.
    expect((await keys.keysFor({ alg: "ES256", kid: "k1" })).keys).toHaveLength(1);
    await server.answered(2);
    await vi.waitFor(async () => expect(await keys.generation()).toBe(1));
  });

  it("refuses bounds that cannot hold", () => {
    const url = "https://id.example.test/jwks";
    expect(() => createRemoteKeySource({ url, maxAgeMs: 1_000 })).toThrow(/minMs <= defaultMs/);
    expect(() =>
      createRemoteKeySource({ url, maxAgeBoundsMs: { minMs: 120_000, maxMs: 60_000 } }),
    ).toThrow(TypeError);
    expect(() => createRemoteKeySource({ url, keepStaleMs: 60_000 })).toThrow(/keepStaleMs/);
  });
});

describe("createRemoteKeySource: a set that cannot be refetched", () => {
  it("serves for a day after its fetch while refetches fail, then 503 until the issuer is back", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { lines, logger } = recordingLogger();
    const { clock, verifier } = setup(server.url, { logger, refreshInBackground: false });
    const token = await signToken(k1, claimsAt(T0 / 1000, { exp: 4e9 }));
    await verifier.verify(token);
    server.serve(503);

    clock.advance(86_400_000 - 1);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "orders-service" });
    expect(server.requests).toBe(2);
    expect(lines.filter((line) => line.level === "warn")).toEqual([
      expect.objectContaining({
        message: "auth: JWKS fetch failed; keeping the keys fetched before, if any",
        fields: expect.objectContaining({ error: "the JWKS URL answered HTTP 503" }),
      }),
    ]);

    clock.advance(1);
    // Within the cooldown of the failure a moment ago: refused at once, with how long to wait.
    const refused = await verifier.verify(token).catch((err) => err);
    expect(refused).toBeInstanceOf(KeysUnavailable);
    expect(refused.headers["retry-after"]).toBe("30");
    expect(server.requests).toBe(2);
    const tooOld = lines.filter((line) => line.level === "error");
    expect(tooOld).toHaveLength(1);
    expect(tooOld[0]?.message).toMatch(
      /could not be refetched for 86400 s; its keys are no longer used/,
    );

    // Past the cooldown it tries again, fails again, refuses again; said once, not per token.
    clock.advance(30_000);
    await expect(verifier.verify(token)).rejects.toBeInstanceOf(KeysUnavailable);
    expect(server.requests).toBe(3);
    expect(lines.filter((line) => line.level === "error")).toHaveLength(1);

    server.serve(jwksOf(k1));
    clock.advance(30_000);
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: "orders-service" });
    expect(lines.at(-1)).toMatchObject({
      level: "info",
      message: "auth: JWKS fetched again after failing",
    });
  });

  it("a configured keepStaleMs holds", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { clock, keys } = setup(server.url, { keepStaleMs: 3_600_000 });
    await keys.keysFor({ alg: "ES256", kid: "k1" });
    await server.close();
    clock.advance(3_599_999);
    await keys.keysFor({ alg: "ES256", kid: "k1" });
    clock.advance(1);
    await expect(keys.keysFor({ alg: "ES256", kid: "k1" })).rejects.toBeInstanceOf(KeysUnavailable);
  });
});

describe("createRemoteKeySource: a shared cache's old set in place of a failed fetch (JWKS_STALE)", () => {
  it("is a failed fetch, logged with its cause, whose set serves at its real age", async () => {
    const k1 = await makeKey("ES256", "k1");
    const clock = manualClock();
    const fetchedAt = clock.now() - 12 * 3_600_000;
    let fetches = 0;
    const { lines, logger } = recordingLogger();
    const keys = createRemoteKeySource({
      url: "https://id.example.test/jwks.json",
      clock,
      logger,
      refreshInBackground: false,
      fetch: async () => {
        fetches += 1;
        return sharedCacheAnswer(
          Response.json(jwksOf(k1), {
            headers: {
              "cache-control": "max-age=600",
              [JWKS_CACHED_AT]: String(fetchedAt),
              [JWKS_STALE]: encodeURIComponent("fetch failed: connect ECONNREFUSED 10.0.0.1:443"),
            },
          }),
        );
      },
    });
    // No set held: the cache's serves (stale keys beat none).
    expect((await keys.keysFor({ alg: "ES256", kid: "k1" })).keys).toHaveLength(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "warn",
        fields: expect.objectContaining({
          error: "fetch failed: connect ECONNREFUSED 10.0.0.1:443",
        }),
      }),
    ]);
    // A failed fetch: the cooldown holds, an unknown kid does not refetch within it.
    await expect(keys.keysFor({ alg: "ES256", kid: "k9" })).rejects.toMatchObject({
      reason: "unknown_key",
    });
    expect(fetches).toBe(1);
    // Past its max age it is tried again each cooldown; a day after the cache fetched it, it
    // no longer serves, however recently it came through the cache.
    clock.advance(30_000);
    await keys.keysFor({ alg: "ES256", kid: "k1" });
    expect(fetches).toBe(2);
    clock.advance(12 * 3_600_000);
    await expect(keys.keysFor({ alg: "ES256", kid: "k1" })).rejects.toBeInstanceOf(KeysUnavailable);
  });
});

describe("createRemoteKeySource: warmUp", () => {
  it("fetches before the first token, which then waits for nothing", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    server.serve(jwksOf(k1), { "cache-control": "max-age=300" });
    const { lines, logger } = recordingLogger();
    const { keys, verifier } = setup(server.url, { logger });
    expect(await keys.warmUp()).toBe(true);
    expect(server.requests).toBe(1);
    expect(lines).toEqual([
      {
        level: "info",
        message: "auth: JWKS fetched",
        fields: { url: server.url, keys: 1, maxAgeSeconds: 300 },
      },
    ]);
    await verifier.verify(await signToken(k1));
    expect(server.requests).toBe(1);
    // Once a set is held, warming up again fetches nothing.
    expect(await keys.warmUp()).toBe(true);
    expect(server.requests).toBe(1);
  });

  it("a token arriving during the warm-up waits for that fetch, not a second one", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    const { keys, verifier } = setup(server.url);
    const warming = keys.warmUp();
    await expect(verifier.verify(await signToken(k1))).resolves.toMatchObject({
      issuer: ISSUER,
    });
    expect(await warming).toBe(true);
    expect(server.requests).toBe(1);
  });

  it("says once, with the cause, that the JWKS cannot be fetched; the first token tries again", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    await server.close();
    const { lines, logger } = recordingLogger();
    const { keys, verifier } = setup(server.url, { logger });
    expect(await keys.warmUp()).toBe(false);
    expect(lines).toEqual([
      {
        level: "warn",
        message: expect.stringMatching(
          /^auth: cannot fetch the JWKS at start; tokens of its issuer are refused \(503 keys_unavailable\) until a fetch succeeds/,
        ),
        fields: { url: server.url, error: expect.stringMatching(/^fetch failed: .*ECONNREFUSED/) },
      },
    ]);
    // The failed warm-up started no cooldown: the first token fetches (and fails) itself.
    const again = await startJwksServer(jwksOf(k1));
    servers.push(again);
    const refused = await verifier.verify(await signToken(k1)).catch((err) => err);
    expect(refused).toBeInstanceOf(KeysUnavailable);
    expect(lines).toHaveLength(2);
    expect(lines[1]?.message).toBe(
      "auth: JWKS fetch failed; keeping the keys fetched before, if any",
    );
  });

  it("a failed warm-up does not refuse the first token once the issuer is up", async () => {
    const k1 = await makeKey("ES256", "k1");
    const server = await serve(k1);
    server.serve(503);
    const { lines, logger } = recordingLogger();
    const { keys, verifier } = setup(server.url, { logger });
    expect(await keys.warmUp()).toBe(false);
    server.serve(jwksOf(k1));
    // Straight after: no cooldown to wait out.
    await expect(verifier.verify(await signToken(k1))).resolves.toMatchObject({
      issuer: ISSUER,
    });
    expect(server.requests).toBe(2);
    expect(lines.map((line) => line.message)).toEqual([
      expect.stringContaining("auth: cannot fetch the JWKS at start"),
      "auth: JWKS fetched again after failing",
    ]);
  });
});
