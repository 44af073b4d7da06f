import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { conformanceConfig, conformanceConfigYaml, DEFAULT_LIMITS } from "./conformance-config.js";
import {
  conformanceSubscriptions,
  ON_SUCCESS_IDS,
  ON_SUCCESS_PATHS,
  ON_SUCCESS_TYPES,
  REPLY,
  REPLY_POLICY,
  SINK_PATHS,
} from "./subscriptions.js";

const SINK = "http://127.0.0.1:9999";

describe("conformanceSubscriptions", () => {
  const subs = conformanceSubscriptions(`${SINK}/`);

  it("has one subscription per sink path, with unique ids and sinks under the base URL", () => {
    const { deadLetter, failingDeadLetter, ...onSuccess } = ON_SUCCESS_PATHS;
    expect(subs.map((s) => s.sink)).toEqual(
      [...Object.values(SINK_PATHS), ...Object.values(onSuccess)].map((p) => `${SINK}${p}`),
    );
    expect(subs.map((s) => s.sink)).not.toContain(`${SINK}${deadLetter}`);
    expect(subs.map((s) => s.sink)).not.toContain(`${SINK}${failingDeadLetter}`);
    expect(new Set(subs.map((s) => s.id)).size).toBe(subs.length);
  });

  it("has two catch-alls, one per delivery mode", () => {
    const [binary, structured] = subs;
    expect(binary).toMatchObject({ filters: [], delivery: { mode: "binary" } });
    expect(structured).toMatchObject({ filters: [], delivery: { mode: "structured" } });
    expect(binary).not.toHaveProperty("source");
  });

  it("scopes every filter subscription to the suite's filter events", () => {
    for (const sub of subs.slice(2, Object.keys(SINK_PATHS).length)) {
      const scoped =
        JSON.stringify(sub.filters).includes('"type":"dev.herald.conformance.filter."') ||
        sub.types?.every((t) => t.startsWith("dev.herald.conformance.filter."));
      expect(scoped, sub.id).toBe(true);
    }
  });

  const byId = (id: string) => subs.find((s) => s.id === id)!;

  it("scopes each on-success subscription to one type of its own, or to one receipt source", () => {
    const onSuccess = subs.slice(Object.keys(SINK_PATHS).length);
    expect(onSuccess.map((s) => s.id)).toEqual(Object.values(ON_SUCCESS_IDS));
    const typed = onSuccess.filter((s) => s.types !== undefined);
    expect(typed.map((s) => s.types)).toEqual([
      [ON_SUCCESS_TYPES.reply],
      [ON_SUCCESS_TYPES.outside],
      [REPLY.type],
      [ON_SUCCESS_TYPES.receipted],
      [ON_SUCCESS_TYPES.malformed],
      [ON_SUCCESS_TYPES.loop],
      [ON_SUCCESS_TYPES.failing],
    ]);
    // No other case's events (SUITE_TYPE, sentinels, filter probes) have one of these types.
    for (const s of typed) expect(s.filters).toEqual([]);
    expect(byId(ON_SUCCESS_IDS.receipts)).toMatchObject({
      source: "/herald/subscriptions/conformance-receipted",
      filters: [{ prefix: { type: "dev.herald." } }],
    });
    expect(byId(ON_SUCCESS_IDS.receipts)).not.toHaveProperty("types");
    expect(byId(ON_SUCCESS_IDS.failures)).toMatchObject({
      source: "/herald/subscriptions/conformance-failing",
      filters: [{ exact: { type: "dev.herald.delivery.failed", authid: "herald" } }],
    });
    expect(byId(ON_SUCCESS_IDS.disabled).filters).toEqual([
      { exact: { type: "dev.herald.subscription.disabled", authid: "herald" } },
    ]);
    expect(byId(ON_SUCCESS_IDS.disabled)).not.toHaveProperty("source");
  });

  it("makes a reply loop: the loop subscription allows the replies it matches itself", () => {
    const loop = byId(ON_SUCCESS_IDS.loop);
    expect(loop.delivery.reply).toEqual({ sources: [REPLY.source], types: loop.types });
    expect(loop.delivery.deadLetterSink).toBe(`${SINK}${ON_SUCCESS_PATHS.deadLetter}`);
    // A malformed reply is refused for being malformed, not by the policy.
    expect(byId(ON_SUCCESS_IDS.malformed).delivery.reply).toEqual(REPLY_POLICY);
  });

  it("fails the failing subscription's events at once, to a dead-letter sink", () => {
    expect(byId(ON_SUCCESS_IDS.failing).delivery).toEqual({
      mode: "binary",
      retry: 0,
      receipts: true,
      deadLetterSink: `${SINK}${ON_SUCCESS_PATHS.failingDeadLetter}`,
    });
  });

  it("asks for replies at the two reply paths, under a policy the outside reply fails", () => {
    expect(byId(ON_SUCCESS_IDS.reply).delivery).toEqual({ mode: "binary", reply: REPLY_POLICY });
    expect(byId(ON_SUCCESS_IDS.outside).delivery).toEqual({
      mode: "binary",
      reply: REPLY_POLICY,
      deadLetterSink: `${SINK}${ON_SUCCESS_PATHS.deadLetter}`,
    });
    expect(REPLY_POLICY.sources).toEqual([REPLY.source]);
    expect(REPLY_POLICY.types).toContain(REPLY.type);
    expect(REPLY_POLICY.types).not.toContain(REPLY.outsideType);
    expect(REPLY_POLICY.types.some((t) => t.includes("*"))).toBe(false);
  });

  it("emits receipts from the receipted subscription and from the one its receipts reach", () => {
    const withReceipts = subs.filter((s) => s.delivery.receipts === true).map((s) => s.id);
    expect(withReceipts).toEqual([
      ON_SUCCESS_IDS.receipted,
      ON_SUCCESS_IDS.receipts,
      ON_SUCCESS_IDS.failing,
    ]);
    expect(subs.filter((s) => s.delivery.reply !== undefined).map((s) => s.id)).toEqual([
      ON_SUCCESS_IDS.reply,
      ON_SUCCESS_IDS.outside,
      ON_SUCCESS_IDS.malformed,
      ON_SUCCESS_IDS.loop,
    ]);
  });

  it("rejects a non-http sink URL", () => {
    expect(() => conformanceSubscriptions("ftp://x")).toThrow(TypeError);
  });
});

describe("conformanceConfig", () => {
  it("is DESIGN.md's config shape with default limits and a memory store", () => {
    const config = conformanceConfig(SINK);
    expect(Object.keys(config).sort()).toEqual(["adapters", "limits", "store", "subscriptions"]);
    expect(config.limits).toEqual(DEFAULT_LIMITS);
    expect(config.store).toEqual({ kind: "memory" });
  });

  it("has one webhook adapter of every kind, the SNS one trusting only the sink's certificates", () => {
    const adapters = conformanceConfig(`${SINK}/`).adapters;
    expect(adapters.map((a) => a.kind).sort()).toEqual([
      "couchdb",
      "github",
      "gitlab",
      "kinesis",
      "mapping",
      "s3",
      "sns",
    ]);
    expect(adapters.find((a) => a.kind === "sns")).toMatchObject({
      trustedUrls: [`${SINK}/sns-certificates/`],
    });
  });

  it("prints plain YAML: no anchors, no YAML 1.1 booleans-in-disguise", () => {
    const text = conformanceConfigYaml(SINK);
    expect(text).not.toMatch(/[&*]a\d/);
    expect(text).not.toMatch(/: (on|off|yes|no)$/m);
  });

  it("prints YAML that reads back as the same config", () => {
    expect(parse(conformanceConfigYaml(SINK))).toEqual(
      JSON.parse(JSON.stringify(conformanceConfig(SINK))),
    );
    expect(parse(conformanceConfigYaml(SINK, { auth }))).toEqual(
      JSON.parse(JSON.stringify(conformanceConfig(SINK, { auth }))),
    );
  });

  it("takes other limits", () => {
    const limits = { maxEventBytes: 1000, maxBatchEvents: 5 };
    expect(conformanceConfig(SINK, { limits }).limits).toEqual(limits);
  });

  const key = { kty: "EC", crv: "P-256", x: "x", y: "y", kid: "k1", alg: "ES256" };
  const auth = { issuer: "https://id.example.test", audience: "herald", jwks: { keys: [key] } };

  it("adds an auth section: the issuer with inline keys, one rule for the suite's sub", () => {
    expect(conformanceConfig(SINK, { auth }).auth).toEqual({
      issuers: [{ issuer: auth.issuer, audience: "herald", jwks: { keys: [key] } }],
      publishers: [{ claims: { sub: "conformance" } }],
      admins: [{ claims: { sub: "conformance" } }],
    });
    const other = conformanceConfig(SINK, {
      auth: { ...auth, jwks: "https://id.example.test/jwks", sub: "me", algorithms: ["EdDSA"] },
    }).auth;
    expect(other?.issuers[0]).toMatchObject({
      jwks: "https://id.example.test/jwks",
      algorithms: ["EdDSA"],
    });
    expect(other?.publishers).toEqual([{ claims: { sub: "me" } }]);
    expect(other?.admins).toEqual([{ claims: { sub: "me" } }]);
    expect(conformanceConfigYaml(SINK, { auth })).toMatch(/--token/);
  });

  it("names a separate admin sub in auth.admins when given one", () => {
    const config = conformanceConfig(SINK, { auth: { ...auth, adminSub: "ops" } });
    expect(config.auth?.publishers).toEqual([{ claims: { sub: "conformance" } }]);
    expect(config.auth?.admins).toEqual([{ claims: { sub: "ops" } }]);
    expect(conformanceConfigYaml(SINK, { auth: { ...auth, adminSub: "ops" } })).toMatch(
      /--admin-token <one for sub ops>/,
    );
  });

  it("refuses private key material in inline keys", () => {
    expect(() =>
      conformanceConfig(SINK, { auth: { ...auth, jwks: { keys: [{ ...key, d: "secret" }] } } }),
    ).toThrow(/private key material \(d\)/);
  });
});
