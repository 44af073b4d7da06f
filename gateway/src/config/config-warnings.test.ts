import { describe, expect, it } from "vitest";
import { formatConfigIssue } from "./config-invalid.js";
import { configWarnings, SPEC_MIN_EVENT_BYTES } from "./config-warnings.js";
import { parseConfig } from "./load-config.js";

const warnings = (text: string) =>
  configWarnings(parseConfig(text, "h.yaml"), "h.yaml", text).map(formatConfigIssue);

describe("configWarnings", () => {
  it("names limits.maxEventBytes below the spec's 64 KiB, with its line", () => {
    expect(warnings("limits:\n  maxEventBytes: 65535\n")).toEqual([
      expect.stringMatching(/^h\.yaml:2:18 limits\.maxEventBytes: 65535 is below 65536 bytes/),
    ]);
  });

  it("is quiet at the spec's minimum and for the default", () => {
    expect(warnings(`limits: { maxEventBytes: ${SPEC_MIN_EVENT_BYTES} }\n`)).toEqual([]);
    expect(warnings("{}\n")).toEqual([]);
  });

  it("names the file and field, without a line, when there is no text", () => {
    const config = parseConfig("limits: { maxEventBytes: 100 }", "h.yaml");
    expect(configWarnings(config, "h.yaml")[0]).toMatchObject({ field: "limits.maxEventBytes" });
    expect(configWarnings(config, "h.yaml")[0]?.line).toBeUndefined();
  });

  it("names a jwks URL over plain http to another host, never the URL", () => {
    const issuer = (jwks: string) =>
      `auth:\n  issuers:\n    - { issuer: https://id.example.com, audience: herald, jwks: "${jwks}" }\n`;
    const found = warnings(issuer("http://id.example.com/jwks?key=s3cr3t"));
    expect(found).toEqual([
      expect.stringMatching(
        /^h\.yaml:3:\d+ auth\.issuers\[0\]\.jwks: is fetched over plain http from another host: anyone on the network path/,
      ),
    ]);
    expect(found[0]).not.toContain("s3cr3t");
    // TLS, or this machine (a sidecar or local identity provider): quiet.
    for (const jwks of [
      "https://id.example.com/jwks",
      "http://127.0.0.1:8081/jwks",
      "http://localhost/jwks",
      "http://idp.localhost/jwks",
      "http://[::1]:8081/jwks",
    ]) {
      expect(warnings(issuer(jwks))).toEqual([]);
    }
  });

  it("names an sns adapter that confirms subscriptions of any topic (autoConfirm without topics)", () => {
    const sns = (extra: string) =>
      `adapters:\n  - id: orders\n    kind: sns\n    autoConfirm: true\n${extra}`;
    expect(warnings(sns(""))).toEqual([
      expect.stringMatching(
        /^h\.yaml:4:18 adapters\[0\]\.autoConfirm: is true and the adapter lists no topics: any AWS account/,
      ),
    ]);
    expect(warnings(sns("    topics: [arn:aws:sns:eu-west-1:123456789012:orders]\n"))).toEqual([]);
  });

  it("names an sns adapter without topics: any AWS account's signed messages verify there", () => {
    expect(warnings("adapters:\n  - id: orders\n    kind: sns\n")).toEqual([
      expect.stringMatching(
        /^h\.yaml:3:11 adapters\[0\]\.kind: sns lists no topics: the signature proves only that SNS sent a message, not for whom/,
      ),
    ]);
    const pinned =
      "adapters:\n  - id: orders\n    kind: sns\n    topics: [arn:aws:sns:eu-west-1:123456789012:orders]\n";
    expect(warnings(pinned)).toEqual([]);
  });

  it("names a mapping adapter whose id is a constant: every event after the first is a duplicate", () => {
    const mapping = (id: string) =>
      `adapters:\n  - id: shop\n    kind: mapping\n    attributes:\n      source: /shop\n      type: t\n${id}`;
    expect(warnings(mapping("      id: order\n"))).toEqual([
      expect.stringMatching(
        /^h\.yaml:7:11 adapters\[0\]\.attributes\.id: is a constant: every event gets the same id/,
      ),
    ]);
    expect(warnings(mapping("      id: { pointer: /delivery }\n"))).toEqual([]);
    expect(warnings(mapping(""))).toEqual([]);
  });

  it("names a signing secret whose key is under 24 bytes, never the secret", () => {
    const sub = (secret: string) =>
      `subscriptions:\n  - id: a\n    sink: http://127.0.0.1:9/x\n    delivery:\n      signingSecret: ${secret}\n`;
    const found = warnings(sub("whsec_c2VjcmV0"));
    expect(found).toEqual([
      expect.stringMatching(
        /^h\.yaml:5:22 subscriptions\[0\]\.delivery\.signingSecret: a key of 6 bytes; Standard Webhooks asks for at least 24/,
      ),
    ]);
    expect(found[0]).not.toContain("c2VjcmV0");
    // 24 bytes exactly (the Standard Webhooks example), and a rotation of two long keys: quiet.
    expect(warnings(sub("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))).toEqual([]);
    expect(
      warnings(
        sub('"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_c2Vjb25kLXNlY3JldC1rZXktMjQtYnl0ZXM="'),
      ),
    ).toEqual([]);
  });
});
