import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import {
  AUDIENCE,
  ISSUER,
  jwksOf,
  makeKey,
  manualClock,
  signToken,
} from "../../../test/support/test-issuer.js";
import { createTokenVerifier } from "../../auth/verify-token.js";
import { loadJwksFile } from "./jwks-file.js";

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-jwks-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("serves the keys of a JWKS file", async () => {
  const key = await makeKey("ES256", "file-1");
  const file = join(dir, "jwks.json");
  await writeFile(file, JSON.stringify(jwksOf(key)));
  const keys = await loadJwksFile(file);
  expect(keys.kind).toBe("jwks");
  const verifier = createTokenVerifier({
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys }],
    clock: manualClock(),
  });
  await expect(verifier.verify(await signToken(key))).resolves.toMatchObject({
    subject: "orders-service",
  });
});

test("reads a JWKS file that starts with a UTF-8 BOM, as the config file is read", async () => {
  const key = await makeKey("ES256", "bom-1");
  const file = join(dir, "bom.json");
  await writeFile(file, `\uFEFF${JSON.stringify(jwksOf(key))}`);
  const keys = await loadJwksFile(file);
  const verifier = createTokenVerifier({
    issuers: [{ issuer: ISSUER, audience: AUDIENCE, keys }],
    clock: manualClock(),
  });
  await expect(verifier.verify(await signToken(key))).resolves.toMatchObject({
    subject: "orders-service",
  });
});

test("names the file when it is not a JWKS of public keys", async () => {
  const file = join(dir, "bad.json");
  await writeFile(file, "{ not json");
  await expect(loadJwksFile(file)).rejects.toThrow(`${file}: not JSON`);
  await writeFile(file, JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0" }] }));
  await expect(loadJwksFile(file)).rejects.toThrow(
    new RegExp(`^${file}: .*private or secret key material`),
  );
});

test("refuses a JWKS file without keys, as the config refuses an inline one", async () => {
  const file = join(dir, "empty.json");
  await writeFile(file, JSON.stringify({ keys: [] }));
  await expect(loadJwksFile(file)).rejects.toThrow(`${file}: the JWKS holds no keys`);
});

test("rejects with the file system's error when the file cannot be read", async () => {
  await expect(loadJwksFile(join(dir, "missing.json"))).rejects.toMatchObject({ code: "ENOENT" });
});
