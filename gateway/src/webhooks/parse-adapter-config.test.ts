import { describe, expect, it } from "vitest";
import { ConfigInvalid } from "../config/config-invalid.js";
import { parseConfig } from "../config/load-config.js";

function problems(text: string): string[] {
  try {
    parseConfig(text, "herald.yaml");
  } catch (error) {
    if (error instanceof ConfigInvalid) return error.message.split("\n");
    throw error;
  }
  return expect.fail("expected ConfigInvalid");
}

const yaml = (...lines: string[]) => `${lines.join("\n")}\n`;

describe("adapters: per-kind settings", () => {
  it("normalises every kind", () => {
    const config = parseConfig(
      yaml(
        "adapters:",
        "  - { id: github-main, kind: github, secret: gh-secret }",
        "  - { id: gitlab-main, kind: gitlab, secret: gl-token }",
        "  - { id: topic, kind: sns }",
        "  - id: topic-2",
        "    kind: sns",
        "    topics: [arn:aws:sns:eu-west-1:123456789012:orders]",
        "    subscriptions: [arn:aws:sns:eu-west-1:123456789012:orders:6b0e71bd-7e97-4d97-80ce-4a0994e55286]",
        "    trustedUrls: [https://certs.example.com/sns/]",
        "    autoConfirm: true",
        "  - { id: uploads, kind: s3 }",
        "  - { id: sensors, kind: kinesis }",
        "  - { id: couch, kind: couchdb, server: 'https://couch.example.com', database: orders }",
        "  - id: shop",
        "    kind: mapping",
        "    records: /items",
        "    attributes:",
        "      source: /shop",
        "      type: { pointer: /event, prefix: com.example. }",
        "      tenant: { pointer: /t, default: none }",
      ),
      "herald.yaml",
    );
    expect(config.adapters).toEqual([
      { id: "github-main", kind: "github", secret: "gh-secret" },
      { id: "gitlab-main", kind: "gitlab", secret: "gl-token" },
      { id: "topic", kind: "sns", autoConfirm: false },
      {
        id: "topic-2",
        kind: "sns",
        topics: ["arn:aws:sns:eu-west-1:123456789012:orders"],
        subscriptions: [
          "arn:aws:sns:eu-west-1:123456789012:orders:6b0e71bd-7e97-4d97-80ce-4a0994e55286",
        ],
        trustedUrls: ["https://certs.example.com/sns/"],
        autoConfirm: true,
      },
      { id: "uploads", kind: "s3" },
      { id: "sensors", kind: "kinesis" },
      { id: "couch", kind: "couchdb", server: "https://couch.example.com", database: "orders" },
      {
        id: "shop",
        kind: "mapping",
        records: "/items",
        attributes: {
          source: { constant: "/shop" },
          type: { pointer: "/event", prefix: "com.example." },
          tenant: { pointer: "/t", default: "none" },
        },
      },
    ]);
  });

  it("names file, line and field of each problem", () => {
    expect(
      problems(
        yaml(
          "adapters:",
          "  - { id: gh, kind: github }",
          "  - { id: gl, kind: gitlab, secret: '' }",
          "  - { id: x, kind: webhook }",
          "  - { id: 'a b', kind: s3 }",
          "  - { id: s3, kind: s3, secret: s }",
          "  - { id: couch, kind: couchdb, server: 'ftp://couch' }",
          "  - { id: topic, kind: sns, trustedUrls: [not-a-url], autoConfirm: 'yes' }",
          "  - id: map",
          "    kind: mapping",
          "    records: items",
          "    attributes:",
          "      type: { pointer: event }",
          "      authid: /me",
          "      Bad: x",
        ),
      ),
    ).toEqual([
      "herald.yaml:2:5 adapters[0].secret: is required",
      "herald.yaml:3:37 adapters[1].secret: must not be empty",
      "herald.yaml:4:20 adapters[2].kind: must be one of: s3, sns, github, gitlab, couchdb, kinesis, mapping",
      "herald.yaml:5:11 adapters[3].id: must be letters, digits, '.', '_', '~' or '-' (it is a URL path segment)",
      "herald.yaml:6:25 adapters[4].secret: unknown key; expected one of: id, kind",
      "herald.yaml:7:41 adapters[5].server: must be an absolute http(s) URL",
      "herald.yaml:8:43 adapters[6].trustedUrls[0]: must be an absolute http(s) URL",
      "herald.yaml:8:68 adapters[6].autoConfirm: must be true or false",
      "herald.yaml:11:14 adapters[7].records: must be a JSON Pointer (RFC 6901): it must be empty or start with /",
      "herald.yaml:13:7 adapters[7].attributes.source: is required",
      "herald.yaml:13:24 adapters[7].attributes.type.pointer: must be a JSON Pointer (RFC 6901): it must be empty or start with /",
      "herald.yaml:14:7 adapters[7].attributes.authid: cannot be mapped: Herald sets it",
      "herald.yaml:15:7 adapters[7].attributes.Bad: attribute names must be lower-case letters a-z and digits",
    ]);
  });

  it("a mapping cannot set the attributes only the gateway writes (hops, dead-letter ones)", () => {
    expect(
      problems(
        yaml(
          "adapters:",
          "  - id: map",
          "    kind: mapping",
          "    attributes:",
          "      source: /shop",
          "      type: t",
          "      heraldhops: { pointer: /hops }",
          "      heralderrorcode: { pointer: /code }",
          "      heraldattempts: '3'",
        ),
      ),
    ).toEqual([
      "herald.yaml:7:7 adapters[0].attributes.heraldhops: cannot be mapped: Herald sets it",
      "herald.yaml:8:7 adapters[0].attributes.heralderrorcode: cannot be mapped: Herald sets it",
      "herald.yaml:9:7 adapters[0].attributes.heraldattempts: cannot be mapped: Herald sets it",
    ]);
  });

  it("a mapping's constants and defaults must be values their attribute can take", () => {
    // They were taken as valid, and every webhook to the adapter was then refused with 400.
    expect(
      problems(
        yaml(
          "adapters:",
          "  - id: map",
          "    kind: mapping",
          "    attributes:",
          "      source: has space",
          '      type: { pointer: /t, prefix: "com.example.\\x01" }',
          "      time: yesterday",
          "      dataschema: relative/path",
          '      subject: { pointer: /s, default: "a\\u0000b" }',
          '      id: { pointer: /id, default: "\\ud800" }',
        ),
      ),
    ).toEqual([
      "herald.yaml:5:15 adapters[0].attributes.source: must be a URI-reference (RFC 3986); encode other characters",
      "herald.yaml:6:36 adapters[0].attributes.type.prefix: must not contain control characters",
      "herald.yaml:7:13 adapters[0].attributes.time: must be an RFC 3339 timestamp such as 2018-04-05T17:31:00Z",
      "herald.yaml:8:19 adapters[0].attributes.dataschema: must be an absolute URI with a scheme (RFC 3986 4.3)",
      "herald.yaml:9:40 adapters[0].attributes.subject.default: must not contain control characters",
      "herald.yaml:10:36 adapters[0].attributes.id.default: must not contain unpaired surrogates",
    ]);
    const config = parseConfig(
      yaml(
        "adapters:",
        "  - id: map",
        "    kind: mapping",
        "    attributes:",
        "      source: https://shop.example.com/orders",
        "      type: { pointer: /t, prefix: com.example. }",
        "      time: { pointer: /at, default: '2024-01-01T00:00:00Z' }",
        "      dataschema: https://shop.example.com/schema.json",
        "      tenant: { pointer: /tenant, default: public }",
      ),
      "herald.yaml",
    );
    expect(config.adapters[0]).toMatchObject({ kind: "mapping" });
  });

  it("sns subscriptions are subscription ARNs as SNS writes them, of one of topics", () => {
    expect(
      problems(
        yaml(
          "adapters:",
          "  - id: topic",
          "    kind: sns",
          "    topics: [arn:aws:sns:eu-west-1:123456789012:orders]",
          "    subscriptions:",
          "      - arn:aws:sns:eu-west-1:123456789012:orders:attacker-chosen",
          "      - arn:aws:sns:eu-west-1:123456789012:orders:6B0E71BD-7E97-4D97-80CE-4A0994E55286",
          "      - arn:aws:sns:eu-west-1:123456789012:other:6b0e71bd-7e97-4d97-80ce-4a0994e55286",
          "      - arn:aws:sns:eu-west-1:123456789012:orders:6b0e71bd-7e97-4d97-80ce-4a0994e55286",
        ),
      ),
    ).toEqual([
      "herald.yaml:6:9 adapters[0].subscriptions[0]: must be an SNS subscription ARN: arn:aws:sns:REGION:ACCOUNT:TOPIC:UUID (lower case, as SNS writes it)",
      "herald.yaml:7:9 adapters[0].subscriptions[1]: must be an SNS subscription ARN: arn:aws:sns:REGION:ACCOUNT:TOPIC:UUID (lower case, as SNS writes it)",
      "herald.yaml:8:9 adapters[0].subscriptions[2]: is not a subscription of one of topics",
    ]);
  });

  it("sns topics are topic ARNs: a topic's name alone would make every message 403", () => {
    expect(
      problems(
        yaml(
          "adapters:",
          "  - id: topic",
          "    kind: sns",
          "    topics:",
          "      - arn:aws:sns:eu-west-1:123456789012:orders",
          "      - orders",
          "      - arn:aws:sqs:eu-west-1:123456789012:orders",
          "      - arn:aws:sns:eu-west-1:123456789012:orders:6b0e71bd-7e97-4d97-80ce-4a0994e55286",
          "      - arn:aws-cn:sns:cn-north-1:123456789012:orders.fifo",
        ),
      ),
    ).toEqual([
      "herald.yaml:6:9 adapters[0].topics[1]: must be an SNS topic ARN: arn:aws:sns:REGION:ACCOUNT:TOPIC",
      "herald.yaml:7:9 adapters[0].topics[2]: must be an SNS topic ARN: arn:aws:sns:REGION:ACCOUNT:TOPIC",
      "herald.yaml:8:9 adapters[0].topics[3]: must be an SNS topic ARN: arn:aws:sns:REGION:ACCOUNT:TOPIC",
    ]);
  });

  it("an id is not a dot segment: /webhooks/.. is /, no request could reach the adapter", () => {
    expect(
      problems(
        yaml(
          "adapters:",
          "  - { id: '..', kind: s3 }",
          "  - { id: '.', kind: s3 }",
          "  - { id: '.a.', kind: s3 }",
        ),
      ),
    ).toEqual([
      'herald.yaml:2:11 adapters[0].id: must not be "..": /webhooks/.. is a dot segment no URL can address',
      'herald.yaml:3:11 adapters[1].id: must not be ".": /webhooks/. is a dot segment no URL can address',
    ]);
  });
});
