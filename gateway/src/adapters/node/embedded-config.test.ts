import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createInlineKeySource } from "../../auth/inline-key-source.js";
import { createTokenVerifier } from "../../auth/verify-token.js";
import { parseConfig } from "../../config/load-config.js";
import { type DevIssuer, loadOrCreateDevIssuer } from "./dev-issuer.js";
import { demoCurl, demoHint, embeddedConfig } from "./embedded-config.js";

let dir: string;
let issuer: DevIssuer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-embedded-"));
  issuer = await loadOrCreateDevIssuer(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("embeddedConfig", () => {
  it("trusts the dev issuer only, lets sub demo publish anything and scope herald:admin administer", () => {
    const config = parseConfig(
      embeddedConfig({
        sinkUrl: "http://127.0.0.1:9/",
        host: "127.0.0.1",
        port: 8080,
        jwks: issuer.publicJwks,
      }),
      "<embedded demo config>",
    );
    expect(config.auth).toEqual({
      issuers: [
        {
          issuer: "herald-dev",
          audience: ["herald"],
          keys: { kind: "inline", keys: issuer.publicJwks.keys },
          algorithms: ["ES256"],
          clockToleranceMs: 30_000,
        },
      ],
      publishers: [{ claims: { sub: "demo" }, sources: ["*"], types: ["*"] }],
      admins: [{ claims: { scope: "herald:admin" } }],
      maxTokenBytes: 8_192,
    });
  });

  it("accepts the dev issuer's tokens through the gateway's own verifier", async () => {
    const config = parseConfig(
      embeddedConfig({
        sinkUrl: "http://127.0.0.1:9/",
        host: "h",
        port: 1,
        jwks: issuer.publicJwks,
      }),
      "<embedded demo config>",
    );
    const [trusted] = config.auth?.issuers ?? [];
    if (trusted?.keys.kind !== "inline") throw new Error("expected inline keys");
    const verifier = createTokenVerifier({
      issuers: [
        {
          issuer: trusted.issuer,
          audience: trusted.audience,
          algorithms: trusted.algorithms,
          keys: createInlineKeySource({ keys: [...trusted.keys.keys] }),
        },
      ],
    });
    const token = await issuer.mint({ sub: "demo", ttlSeconds: 60 });
    await expect(verifier.verify(token)).resolves.toMatchObject({
      issuer: "herald-dev",
      subject: "demo",
    });
  });
});

describe("the demo's hint", () => {
  it("shows the token and a curl line that sends it", () => {
    expect(demoCurl("http://127.0.0.1:8080", "a.b.c")).toContain(
      'curl -i http://127.0.0.1:8080/events \\\n  -H "Authorization: Bearer a.b.c" \\\n',
    );
    const hint = demoHint("http://127.0.0.1:8080", "a.b.c");
    expect(hint.split("\n")).toContain("a.b.c");
    expect(hint).toContain("herald token --sub NAME");
  });

  it("under --no-auth (no token) says none is needed, and the curl line sends none", () => {
    const hint = demoHint("http://127.0.0.1:8080", undefined);
    expect(hint).toContain("Authentication is off (--no-auth)");
    expect(hint).not.toContain("Publishing needs a bearer token");
    expect(hint).not.toContain("Authorization");
    expect(hint).toContain("curl -i http://127.0.0.1:8080/events \\\n  -H 'ce-specversion: 1.0'");
  });
});
