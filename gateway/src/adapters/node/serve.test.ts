import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startJwksServer } from "../../../test/support/jwks-server.js";
import { rawExchange, statusOf } from "../../../test/support/raw-exchange.js";
import { serveQuietly } from "../../../test/support/serve-in-temp-dir.js";
import { type Logger, silentLogger } from "../../ports/logger.js";
import { ServeError, serve, storeShown } from "./serve.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-serve-"));
  await mkdir(join(dir, "conf"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const start = (configPath: string) => serveQuietly(dir, configPath);

describe("serve: the SQLite store", () => {
  it("takes a relative store path from the config file's folder, not the current one", async () => {
    await writeFile(join(dir, "conf", "herald.yaml"), "store: { kind: sqlite, path: data/h.db }\n");
    const server = await start("conf/herald.yaml");
    try {
      expect(existsSync(join(dir, "conf", "data", "h.db"))).toBe(true);
      expect(existsSync(join(dir, "data", "h.db"))).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("refuses to start on a store file another gateway owns, saying so", async () => {
    await writeFile(join(dir, "conf", "shared.yaml"), "store: { kind: sqlite, path: shared.db }\n");
    const first = await start("conf/shared.yaml");
    try {
      const second = await start("conf/shared.yaml").catch((e: unknown) => e);
      expect(second).toBeInstanceOf(ServeError);
      expect((second as Error).message).toMatch(/shared\.db: another process holds it/);
    } finally {
      await first.close();
    }
    // Closed, the file can be opened again.
    const again = await start("conf/shared.yaml");
    await again.close();
  });
  it("answers /readyz and publishes 503 once the store file is gone from its path (its folder deleted)", async () => {
    await writeFile(join(dir, "conf", "gone.yaml"), "store: { kind: sqlite, path: gone/h.db }\n");
    const server = await start("conf/gone.yaml");
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      await rm(join(dir, "conf", "gone"), { recursive: true });
      const answer = await fetch(`${server.url}/readyz`);
      expect(answer.status).toBe(503);
      expect(await answer.json()).toEqual({ status: "store unavailable" });
      // A 202 would say stored: the events would go into a file nobody opens again.
      const publish = await fetch(`${server.url}/events`, {
        method: "POST",
        headers: { "ce-specversion": "1.0", "ce-id": "g", "ce-source": "/gone", "ce-type": "t" },
        body: "x",
      });
      expect(publish.status).toBe(503);
    } finally {
      await server.close();
    }
  });
});

describe("serve: refusals at the Node layer", () => {
  /** Sends raw bytes to the server and resolves with the status code once it closes. */
  const exchange = async (url: string, bytes: string): Promise<number> =>
    statusOf(await rawExchange(Number(new URL(url).port), bytes));

  it("counts a publish request refused for its Host in herald_events_rejected_total", async () => {
    await writeFile(join(dir, "conf", "memory.yaml"), "store: { kind: memory }\n");
    const server = await start("conf/memory.yaml");
    try {
      const post = (path: string, host: string) =>
        `POST ${path} HTTP/1.1\r\n${host}Content-Length: 0\r\nConnection: close\r\n\r\n`;
      expect(await exchange(server.url, post("/events", "Host: a b\r\n"))).toBe(400);
      expect(await exchange(server.url, post("/", "Host: a\r\nHost: b\r\n"))).toBe(400);
      expect(await exchange(server.url, post("/webhooks/x", ""))).toBe(400);
      // Not a publish request: refused the same way, not counted.
      expect(await exchange(server.url, post("/subscriptions", "Host: a b\r\n"))).toBe(400);
      const text = await (await fetch(`${server.url}/metrics`)).text();
      expect(text).toContain('herald_events_rejected_total{reason="malformed_request"} 3\n');
    } finally {
      await server.close();
    }
  });
});

describe("serve: config warnings", () => {
  it("logs a warning naming limits.maxEventBytes below the spec's 64 KiB, and starts", async () => {
    await writeFile(
      join(dir, "conf", "small.yaml"),
      "store: { kind: memory }\nlimits: { maxEventBytes: 4096 }\n",
    );
    const warnings: string[] = [];
    const server = await serveQuietly(dir, "conf/small.yaml", {
      logger: { ...silentLogger, warn: (message) => warnings.push(message) },
      note: () => {},
    });
    await server.close();
    const warning = warnings.find((w) => w.includes("maxEventBytes"));
    expect(warning).toMatch(/small\.yaml:2:26 limits\.maxEventBytes: 4096 is below 65536 bytes/);
  });
});

describe("serve: the start log", () => {
  it("counts the subscriptions of the config and those created through the API", async () => {
    await writeFile(
      join(dir, "conf", "count.yaml"),
      "store: { kind: sqlite, path: count.db }\nsubscriptions:\n  - { id: from-file, sink: http://127.0.0.1:9/in }\n",
    );
    const started: Record<string, unknown>[] = [];
    const logger: Logger = {
      ...silentLogger,
      info: (message, fields) => {
        if (message === "gateway started") started.push(fields ?? {});
      },
    };
    const first = await serveQuietly(dir, "conf/count.yaml", { logger });
    const res = await fetch(`${first.url}/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sink: "http://127.0.0.1:9/api" }),
    });
    expect(res.status).toBe(201);
    await first.close();
    const second = await serveQuietly(dir, "conf/count.yaml", { logger });
    await second.close();
    expect(started).toEqual([
      expect.objectContaining({ subscriptions: 1, fromApi: 0 }),
      expect.objectContaining({ subscriptions: 2, fromApi: 1 }),
    ]);
  });
});

describe("storeShown", () => {
  it("names the SQLite file, or the NATS servers without credentials and the stream", () => {
    expect(storeShown({ kind: "sqlite", path: "h.db", dedupeWindowMs: 1 }, "/srv/h.db")).toBe(
      "sqlite (/srv/h.db)",
    );
    expect(storeShown({ kind: "memory", dedupeWindowMs: 1 }, undefined)).toBe("memory");
    expect(
      storeShown(
        {
          kind: "nats",
          url: ["nats://user:secret@n1:4222", "tls://n2.example:4222"],
          stream: "ev",
          dedupeWindowMs: 1,
        },
        undefined,
      ),
    ).toBe("nats (nats://n1:4222, tls://n2.example:4222, stream ev)");
    expect(
      storeShown(
        { kind: "nats", url: "nats://127.0.0.1:4222", stream: "h", dedupeWindowMs: 1 },
        undefined,
      ),
    ).toBe("nats (nats://127.0.0.1:4222, stream h)");
  });
});

describe("serve: issuer keys", () => {
  it("warns at start about an inline jwks none of whose keys can verify a token", async () => {
    const config = join(dir, "conf", "bad-key.yaml");
    await writeFile(
      config,
      "store: { kind: memory }\nauth:\n  issuers:\n    - issuer: https://id.example.com\n" +
        '      audience: herald\n      jwks: { keys: [{ kty: EC, crv: P-256, x: "bad", y: "bad" }] }\n',
    );
    const warnings: string[] = [];
    const server = await serveQuietly(dir, config, {
      logger: { ...silentLogger, warn: (message) => warnings.push(message) },
      note: () => {},
      noAuth: false,
    });
    await server.close();
    expect(warnings).toEqual([
      expect.stringMatching(
        /bad-key\.yaml:6:\d+ auth\.issuers\[0\]\.jwks: no key in it can verify a token under ES256, EdDSA, RS256: .*every token of this issuer will be refused$/,
      ),
    ]);
  });
});

describe("serve: a JWKS URL is fetched at start", () => {
  /** A config trusting `jwks` (a URL) for publisher `p`. */
  const configWith = async (name: string, jwks: string) => {
    const path = join(dir, "conf", name);
    await writeFile(
      path,
      "store: { kind: memory }\nauth:\n  issuers:\n" +
        `    - { issuer: https://id.example.com, audience: herald, jwks: "${jwks}" }\n` +
        "  publishers:\n    - claims: { sub: p }\n",
    );
    return path;
  };
  /** A logger keeping warnings, and a promise of the first one. */
  const warningLogger = () => {
    const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
    let said: (message: string) => void = () => {};
    const first = new Promise<string>((resolve) => {
      said = resolve;
    });
    const logger: Logger = {
      ...silentLogger,
      warn: (message, fields) => {
        warnings.push({ message, ...(fields === undefined ? {} : { fields }) });
        said(message);
      },
    };
    return { warnings, first, logger };
  };

  it("before any token, without waiting for it: listens and is ready while the JWKS URL hangs", async () => {
    const hanging = createServer(() => {});
    await new Promise<void>((ok) => hanging.listen(0, "127.0.0.1", ok));
    let asked = () => {};
    const wasAsked = new Promise<void>((resolve) => {
      asked = resolve;
    });
    hanging.on("request", () => asked());
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/jwks.json`;
    const server = await serveQuietly(dir, await configWith("hangs.yaml", url), {
      noAuth: false,
      note: () => {},
    });
    try {
      await wasAsked;
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
    } finally {
      await server.close();
      hanging.closeAllConnections();
      await new Promise((ok) => hanging.close(ok));
    }
  });

  it("says once, with the cause, when the JWKS URL cannot be fetched; /readyz stays ready", async () => {
    const refused = createServer();
    await new Promise<void>((ok) => refused.listen(0, "127.0.0.1", ok));
    const port = (refused.address() as AddressInfo).port;
    await new Promise((ok) => refused.close(ok));
    const { warnings, first, logger } = warningLogger();
    const server = await serveQuietly(
      dir,
      await configWith("down.yaml", `http://127.0.0.1:${port}/jwks.json?key=s3cr3t`),
      { noAuth: false, note: () => {}, logger },
    );
    try {
      expect(await first).toMatch(/^auth: cannot fetch the JWKS at start; tokens of its issuer/);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      expect(warnings).toEqual([
        {
          message: expect.stringContaining("503 keys_unavailable"),
          fields: {
            url: `http://127.0.0.1:${port}/jwks.json`,
            error: expect.stringMatching(/^fetch failed: .*ECONNREFUSED/),
          },
        },
      ]);
    } finally {
      await server.close();
    }
  });

  it("the first publisher's token then needs no fetch", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwks = await startJwksServer({
      keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }],
    });
    const server = await serveQuietly(dir, await configWith("up.yaml", jwks.url), {
      noAuth: false,
      note: () => {},
    });
    try {
      await jwks.answered(1);
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setIssuer("https://id.example.com")
        .setAudience("herald")
        .setSubject("p")
        .setExpirationTime("5m")
        .sign(privateKey);
      const published = await fetch(`${server.url}/events`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "ce-specversion": "1.0",
          "ce-id": "warm-1",
          "ce-source": "/warm",
          "ce-type": "t",
        },
        body: "x",
      });
      expect(published.status).toBe(202);
      expect(jwks.requests).toBe(1);
    } finally {
      await server.close();
      await jwks.close();
    }
  });
});

describe("serve: reloading the config", () => {
  const jwksOf = async () => {
    const { publicKey } = await generateKeyPair("ES256", { extractable: true });
    return JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1" }] });
  };

  it("says a changed jwks file is not read again by a reload (SIGHUP), but needs a restart", async () => {
    const jwks = join(dir, "conf", "keys.json");
    await writeFile(jwks, await jwksOf());
    const config = join(dir, "conf", "keyed.yaml");
    await writeFile(
      config,
      "store: { kind: memory }\nauth:\n  issuers:\n" +
        "    - { issuer: https://id.example.com, audience: herald, jwks: ./keys.json }\n",
    );
    const warnings: { message: string; fields?: Record<string, unknown> | undefined }[] = [];
    const server = await serveQuietly(dir, config, {
      logger: { ...silentLogger, warn: (message, fields) => warnings.push({ message, fields }) },
      note: () => {},
      noAuth: false,
    });
    try {
      expect(await server.reload()).toBe(true);
      expect(warnings).toEqual([]);
      // A key withdrawn (or replaced) in the file: still trusted until a restart, and said so.
      await writeFile(jwks, await jwksOf());
      expect(await server.reload()).toBe(true);
      expect(warnings).toEqual([
        {
          message: "config changes that take effect only after a restart",
          fields: { files: ["./keys.json"] },
        },
      ]);
    } finally {
      await server.close();
    }
  });
});

/** The embedded demo (no --config) in `cwd`, and what it noted on stderr as it started. */
async function serveDemo(cwd: string, noAuth: boolean, logger: Logger = silentLogger) {
  let notes = "";
  const server = await serve({
    port: 0,
    noAuth,
    cwd,
    env: {},
    logger,
    print: () => {},
    note: (text) => {
      notes += text;
    },
  });
  return { server, notes };
}

describe("serve: the embedded demo", () => {
  it("under --no-auth tells people no token is needed, and a tokenless curl is accepted", async () => {
    const demoDir = await mkdtemp(join(tmpdir(), "herald-demo-noauth-"));
    const { server, notes } = await serveDemo(demoDir, true);
    try {
      expect(notes).toContain("Authentication is off (--no-auth)");
      expect(notes).not.toContain("Authorization: Bearer");
      expect(notes).not.toContain("Publishing needs a bearer token");
      // What the hint suggests works as said: no token, 202.
      const response = await fetch(`${server.url}/events`, {
        method: "POST",
        headers: {
          "ce-specversion": "1.0",
          "ce-id": "demo-1",
          "ce-source": "/demo",
          "ce-type": "com.example.demo.greeting",
          "content-type": "application/json",
        },
        body: '{"hello":"world"}',
      });
      expect(response.status).toBe(202);
    } finally {
      await server.close();
      await rm(demoDir, { recursive: true, force: true });
    }
  });

  it("answers a reload (SIGHUP) with a warning that there is no config file to reload", async () => {
    const demoDir = await mkdtemp(join(tmpdir(), "herald-demo-reload-"));
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (message) => warnings.push(message) };
    const { server } = await serveDemo(demoDir, true, logger);
    try {
      warnings.length = 0;
      expect(await server.reload()).toBe(false);
      expect(warnings).toEqual([
        "config reload: the embedded demo has no config file to reload; write a herald.yaml and restart",
      ]);
    } finally {
      await server.close();
      await rm(demoDir, { recursive: true, force: true });
    }
  });

  it("says a herald.json beside it is not read without --config, before the demo starts", async () => {
    const demoDir = await mkdtemp(join(tmpdir(), "herald-demo-lookalike-"));
    await writeFile(join(demoDir, "herald.json"), "{}");
    const { server, notes } = await serveDemo(demoDir, false);
    try {
      expect(notes.split("\n")[0]).toBe(
        "herald: note: ./herald.json is not read without --config (the default is ./herald.yaml); start with --config herald.json",
      );
    } finally {
      await server.close();
      await rm(demoDir, { recursive: true, force: true });
    }
  });
});
