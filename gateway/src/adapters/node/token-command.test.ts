import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "./cli.js";
import { loadOrCreateDevIssuer } from "./dev-issuer.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-token-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function cli(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli({
    argv,
    cwd: dir,
    env: {},
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

const JWT_LINE = /^[\w-]+\.[\w-]+\.[\w-]+\n$/;

describe("herald token", () => {
  it("--jwks prints the dev issuer's public keys, which verify the tokens it mints, and never the private key", async () => {
    await loadOrCreateDevIssuer(dir);
    const printed = await cli(["token", "--jwks"]);
    expect(printed.code).toBe(0);
    expect(printed.stdout.endsWith("\n")).toBe(true);
    const jwks = JSON.parse(printed.stdout);
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
    expect(jwks.keys[0]).not.toHaveProperty("d");
    const minted = await cli(["token", "--sub", "worker-publisher"]);
    const { payload } = await jwtVerify(minted.stdout.trim(), createLocalJWKSet(jwks), {
      issuer: "herald-dev",
      audience: "herald",
    });
    expect(payload.sub).toBe("worker-publisher");
  });

  it("--jwks with --sub is a usage error, and without a dev issuer it says how to make one", async () => {
    for (const extra of [
      ["--sub", "x"],
      ["--ttl", "5m"],
      ["--scope", "a"],
    ]) {
      const mixed = await cli(["token", "--jwks", ...extra]);
      expect(mixed.code, extra.join(" ")).not.toBe(0);
      expect(mixed.stderr).toContain("--jwks prints the public keys only");
    }
    const none = await cli(["token", "--jwks"]);
    expect(none.code).toBe(1);
    expect(none.stdout).toBe("");
    expect(none.stderr).toContain("run `herald serve` once without a config");
  });

  it("prints only a token from the dev issuer in ./.herald, verifiable against its JWKS", async () => {
    const issuer = await loadOrCreateDevIssuer(dir);
    const { code, stdout, stderr } = await cli([
      "token",
      "--sub",
      "orders-service",
      "--scope",
      " herald:admin   publish ",
      "--ttl",
      "15m",
    ]);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toMatch(JWT_LINE);
    const token = stdout.trim();
    const { payload } = await jwtVerify(token, createLocalJWKSet(issuer.publicJwks), {
      issuer: "herald-dev",
      audience: "herald",
      algorithms: ["ES256"],
    });
    expect(payload).toMatchObject({ sub: "orders-service", scope: "herald:admin publish" });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(900);
    expect(Math.abs((payload.iat ?? 0) - Date.now() / 1000)).toBeLessThan(5);
    expect(decodeProtectedHeader(token)).toMatchObject({
      alg: "ES256",
      kid: issuer.publicJwks.keys[0]?.kid,
    });
  });

  it("lasts one hour by default and carries no scope unless asked", async () => {
    await loadOrCreateDevIssuer(dir);
    const { code, stdout } = await cli(["token", "--sub", "demo"]);
    expect(code).toBe(0);
    const issuer = await loadOrCreateDevIssuer(dir);
    const { payload } = await jwtVerify(stdout.trim(), createLocalJWKSet(issuer.publicJwks));
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);
    expect(payload).not.toHaveProperty("scope");
  });

  it("refuses without a dev issuer, creating none, even next to a config with a real issuer", async () => {
    await writeFile(
      join(dir, "herald.yaml"),
      [
        "auth:",
        "  issuers:",
        "    - { issuer: https://id.example.com, audience: herald, jwks: ./jwks.json }",
        "subscriptions: []",
      ].join("\n"),
    );
    const { code, stdout, stderr } = await cli(["token", "--sub", "demo"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      "herald: no dev issuer in ./.herald; run `herald serve` once without a config to create it\n",
    );
    expect(existsSync(join(dir, ".herald"))).toBe(false);
  });

  it("says what is wrong with its options", async () => {
    await loadOrCreateDevIssuer(dir);
    const noSub = await cli(["token"]);
    expect(noSub.code).toBe(2);
    expect(noSub.stderr).toContain("--sub");
    for (const ttl of ["soon", "0s", "500ms", "1.5s"]) {
      const bad = await cli(["token", "--sub", "a", "--ttl", ttl]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--ttl");
      expect(bad.stdout).toBe("");
    }
    const emptyScope = await cli(["token", "--sub", "a", "--scope", " "]);
    expect(emptyScope.code).toBe(2);
    expect(emptyScope.stderr).toContain("--scope");
    const unknown = await cli(["token", "--sub", "a", "--issuer", "https://id.example.com"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Usage: herald");
  });

  it("is listed in the usage", async () => {
    const { stdout } = await cli(["help"]);
    expect(stdout).toContain("token       Mint a bearer token from the dev issuer");
  });
});
