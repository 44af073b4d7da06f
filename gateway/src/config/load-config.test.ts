// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in these strings is config text under test.
import { describe, expect, test } from "vitest";
import { ConfigInvalid } from "./config-invalid.js";
import { DEFAULT_LIMITS } from "./herald-config.js";
import type { Env } from "./interpolate-env.js";
import { type ConfigCheck, parseConfig } from "./load-config.js";

/** A YAML text, one argument per line, so line numbers in expectations are argument positions. */
const yaml = (...lines: string[]): string => `${lines.join("\n")}\n`;

/** The one-line-per-issue message of the `ConfigInvalid` that `text` must cause. */
function problems(text: string, env: Env = {}, file = "herald.yaml"): string[] {
  try {
    parseConfig(text, file, env);
  } catch (error) {
    if (error instanceof ConfigInvalid) return error.message.split("\n");
    throw error;
  }
  return expect.fail("expected ConfigInvalid");
}

const sink = "http://127.0.0.1:9000/hook";

describe("parseConfig: defaults and shape", () => {
  test("an empty file is every default", () => {
    expect(parseConfig("", "herald.yaml")).toEqual({
      listen: { host: "127.0.0.1", port: 8080 },
      limits: DEFAULT_LIMITS,
      // DESIGN.md: the durable SQLite store under .herald/ is the default.
      store: { kind: "sqlite", path: ".herald/herald.db", dedupeWindowMs: 86_400_000 },
      subscriptions: [],
      adapters: [],
    });
  });

  test("sections left empty (everything below commented out) are defaults", () => {
    const config = parseConfig(yaml("listen:", "limits:", "subscriptions:", "adapters:"), "x");
    expect(config.listen).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(config.subscriptions).toEqual([]);
    expect(config).not.toHaveProperty("auth");
  });

  test("the DESIGN.md example", () => {
    const config = parseConfig(
      yaml(
        "listen: { host: 0.0.0.0, port: 9000 }",
        "limits: { maxEventBytes: 1024, maxBatchEvents: 10 }",
        "store: { kind: sqlite, path: .herald/herald.db }",
        "auth:",
        "  issuers:",
        "    - issuer: https://id.example.com",
        "      audience: herald",
        "      jwks: ./jwks.json",
        "      algorithms: [ES256, EdDSA]",
        "  publishers:",
        "    - claims: { sub: orders-service }",
        '      sources: ["/orders", "/orders/*"]',
        '      types: ["com.example.order.*"]',
        "  admins:",
        "    - claims: { scope: herald:admin }",
        "subscriptions:",
        "  - id: thumbnails",
        "    source: /images",
        "    types: [com.example.image.created]",
        "    filters:",
        '      - prefix: { subject: "uploads/" }',
        '      - sql: "EXISTS dataref"',
        "    sink: http://127.0.0.1:9000/thumbnail",
        "    protocol: HTTP",
        "    protocolsettings: { headers: { x-team: media } }",
        "    delivery:",
        "      mode: binary",
        "      timeout: 5s",
        "      retry: 5",
        "      backoffPolicy: exponential",
        "      backoffDelay: 200ms",
        "      backoffMax: 1m",
        "      deadLetterSink: http://127.0.0.1:9000/dlq",
        "      signingSecret: ${THUMBNAIL_SECRET}",
        "adapters:",
        "  - id: github-main",
        "    kind: github",
        "    secret: ${GITHUB_WEBHOOK_SECRET}",
      ),
      "herald.yaml",
      { THUMBNAIL_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", GITHUB_WEBHOOK_SECRET: "gh" },
    );
    expect(config).toEqual({
      listen: { host: "0.0.0.0", port: 9000 },
      limits: { ...DEFAULT_LIMITS, maxEventBytes: 1024, maxBatchEvents: 10 },
      store: { kind: "sqlite", path: ".herald/herald.db", dedupeWindowMs: 86_400_000 },
      auth: {
        issuers: [
          {
            issuer: "https://id.example.com",
            audience: ["herald"],
            keys: { kind: "file", path: "./jwks.json" },
            algorithms: ["ES256", "EdDSA"],
            clockToleranceMs: 30_000,
          },
        ],
        publishers: [
          {
            claims: { sub: "orders-service" },
            sources: ["/orders", "/orders/*"],
            types: ["com.example.order.*"],
          },
        ],
        admins: [{ claims: { scope: "herald:admin" } }],
        maxTokenBytes: 8_192,
      },
      subscriptions: [
        {
          id: "thumbnails",
          source: "/images",
          types: ["com.example.image.created"],
          filters: [{ prefix: { subject: "uploads/" } }, { sql: "EXISTS dataref" }],
          sink: "http://127.0.0.1:9000/thumbnail",
          protocol: "HTTP",
          protocolsettings: { headers: { "x-team": "media" } },
          delivery: {
            mode: "binary",
            timeoutMs: 5_000,
            retry: 5,
            backoffPolicy: "exponential",
            backoffDelayMs: 200,
            backoffMaxMs: 60_000,
            deadLetterSink: "http://127.0.0.1:9000/dlq",
            signingSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
          },
        },
      ],
      adapters: [{ id: "github-main", kind: "github", secret: "gh" }],
    });
  });

  test("the document must be a mapping", () => {
    expect(problems("- a\n- b\n")).toEqual([
      "herald.yaml:1:1 the configuration must be an object (a YAML mapping or a JSON object)",
    ]);
    expect(problems("just text\n")).toEqual([
      "herald.yaml:1:1 the configuration must be an object (a YAML mapping or a JSON object)",
    ]);
  });

  test("a JSON file whose value is not an object is told so in JSON's words too", () => {
    expect(() => parseConfig("[]\n", "herald.json")).toThrow(
      "herald.json:1:1 the configuration must be an object (a YAML mapping or a JSON object)",
    );
  });

  test("an alias without its anchor is said where it is, not at 1:1", () => {
    expect(
      problems(yaml("listen: { port: 1 }", "subscriptions:", "  - id: a", "    delivery: *nope")),
    ).toEqual([
      "herald.yaml:4:15 subscriptions[0].delivery: unknown alias *nope: no anchor &nope is set before it",
    ]);
  });

  test("a merge key is said to be unsupported, not offered the list of keys", () => {
    expect(
      problems(
        yaml(
          "listen: &l { port: 1 }",
          "subscriptions:",
          "  - id: a",
          "    sink: http://127.0.0.1:9/",
          "    delivery: { <<: *l }",
        ),
      ),
    ).toEqual([
      'herald.yaml:5:17 subscriptions[0].delivery["<<"]: YAML merge keys (<<: *name) are not supported; write the keys out (an alias, *name, can stand for a whole value)',
    ]);
  });

  test("unknown top-level keys point at the key", () => {
    expect(problems(yaml("listen: { port: 1 }", "subscription: []"))).toEqual([
      "herald.yaml:2:1 subscription: unknown key; expected one of: listen, limits, store, auth, subscriptions, adapters",
    ]);
  });
});

describe("parseConfig: listen and limits", () => {
  test("each setting defaults on its own", () => {
    expect(parseConfig("listen: { port: 0 }", "x").listen).toEqual({ host: "127.0.0.1", port: 0 });
    expect(parseConfig("listen: { host: ::1 }", "x").listen).toEqual({ host: "::1", port: 8080 });
    expect(parseConfig("limits: { maxBatchEvents: 1 }", "x").limits).toEqual({
      ...DEFAULT_LIMITS,
      maxBatchEvents: 1,
    });
    expect(
      parseConfig("limits: { maxDeliveriesInFlight: 8, maxQueuedDeliveries: 50 }", "x").limits,
    ).toEqual({ ...DEFAULT_LIMITS, maxDeliveriesInFlight: 8, maxQueuedDeliveries: 50 });
    expect(parseConfig("listen: { port: 65535 }", "x").listen.port).toBe(65_535);
  });

  test("bad values name file, line, column and field", () => {
    expect(
      problems(
        yaml(
          "listen:",
          "  host: ''",
          "  port: 65536",
          "  prot: 1",
          "limits:",
          "  maxEventBytes: 0",
          "  maxBatchEvents: 1.5",
        ),
      ),
    ).toEqual([
      "herald.yaml:2:9 listen.host: must not be empty",
      "herald.yaml:3:9 listen.port: must be from 0 to 65535",
      "herald.yaml:4:3 listen.prot: unknown key; expected one of: host, port",
      "herald.yaml:6:18 limits.maxEventBytes: must be at least 1",
      "herald.yaml:7:19 limits.maxBatchEvents: must be an integer",
    ]);
  });

  test("a listen.host that can never be listened on is refused, not left to fail at start", () => {
    expect(problems(yaml("listen:", "  host: http://127.0.0.1", "  port: 1"))).toEqual([
      "herald.yaml:2:9 listen.host: must be a host name or IP address, not a URL",
    ]);
    expect(problems(yaml("listen:", "  host: 127.0.0.1:8080"))).toEqual([
      "herald.yaml:2:9 listen.host: must not include a port; the port is listen.port",
    ]);
  });

  test("maxBatchBytes defaults to 1 MiB and can be set", () => {
    expect(DEFAULT_LIMITS.maxBatchBytes).toBe(1_048_576);
    expect(parseConfig("", "x").limits.maxBatchBytes).toBe(1_048_576);
    expect(parseConfig("limits: { maxBatchBytes: 2097152 }", "x").limits).toEqual({
      ...DEFAULT_LIMITS,
      maxBatchBytes: 2_097_152,
    });
    expect(problems(yaml("limits:", "  maxBatchBytes: 0", "  maxBatchByte: 1"))).toEqual([
      "herald.yaml:2:18 limits.maxBatchBytes: must be at least 1",
      "herald.yaml:3:3 limits.maxBatchByte: unknown key; expected one of: maxEventBytes, maxBatchEvents, maxBatchBytes, maxDeliveriesInFlight, maxQueuedDeliveries, maxReplyHops",
    ]);
  });

  test("a whole number past the largest exact one is too large, not below the minimum", () => {
    expect(problems(yaml("limits:", "  maxEventBytes: 9007199254740993"))).toEqual([
      "herald.yaml:2:18 limits.maxEventBytes: must be at most 9007199254740991",
    ]);
  });

  test("maxBatchBytes is never below maxEventBytes: a batch of one event must fit", () => {
    expect(
      parseConfig("limits: { maxEventBytes: 4096, maxBatchBytes: 4096 }", "x").limits,
    ).toMatchObject({ maxEventBytes: 4096, maxBatchBytes: 4096 });
    expect(problems(yaml("limits:", "  maxEventBytes: 4096", "  maxBatchBytes: 4095"))).toEqual([
      "herald.yaml:3:18 limits.maxBatchBytes: must be at least limits.maxEventBytes",
    ]);
    // Left out, it is the default that is too small; the report points at the limits section.
    expect(problems(yaml("limits:", "  maxEventBytes: 2097152"))).toEqual([
      "herald.yaml:2:3 limits.maxBatchBytes: must be at least limits.maxEventBytes; its default, 1048576, is smaller, so set it",
    ]);
    // An invalid limit is reported alone, not compared against a default standing in for it.
    expect(problems(yaml("limits:", "  maxEventBytes: 0", "  maxBatchBytes: 10"))).toEqual([
      "herald.yaml:2:18 limits.maxEventBytes: must be at least 1",
    ]);
  });

  test("a quoted whole number is read as the number; any other text is not a number", () => {
    expect(parseConfig('listen: { port: "8080" }', "x", {}).listen.port).toBe(8080);
    for (const text of ['"80.5"', '" 8080"', '"+8080"', '"0x50"', '"8e3"', '""', '"08080"']) {
      expect(problems(`listen: { port: ${text} }`)).toEqual([
        "herald.yaml:1:17 listen.port: must be an integer",
      ]);
    }
  });

  test("sections must be objects", () => {
    expect(problems(yaml("listen: 8080", "limits: [1]", "auth: yes"))).toEqual([
      "herald.yaml:1:9 listen: must be an object",
      "herald.yaml:2:9 limits: must be an object",
      "herald.yaml:3:7 auth: must be an object",
    ]);
  });
});

describe("parseConfig: store", () => {
  test("memory, sqlite (with its default path) and nats", () => {
    const day = 86_400_000;
    expect(parseConfig("store: { kind: memory }", "x").store).toEqual({
      kind: "memory",
      dedupeWindowMs: day,
    });
    expect(parseConfig("store: { kind: sqlite }", "x").store).toEqual({
      kind: "sqlite",
      path: ".herald/herald.db",
      dedupeWindowMs: day,
    });
    expect(parseConfig("store: { kind: sqlite, path: /var/herald.db }", "x").store).toEqual({
      kind: "sqlite",
      path: "/var/herald.db",
      dedupeWindowMs: day,
    });
    expect(parseConfig("store: { kind: nats, url: nats://127.0.0.1:4222 }", "x").store).toEqual({
      kind: "nats",
      url: "nats://127.0.0.1:4222",
      stream: "herald",
      dedupeWindowMs: day,
    });
    expect(
      parseConfig("store: { kind: nats, url: [nats://a:4222, nats://b:4222], stream: EV }", "x")
        .store,
    ).toEqual({
      kind: "nats",
      url: ["nats://a:4222", "nats://b:4222"],
      stream: "EV",
      dedupeWindowMs: day,
    });
  });

  test("dedupeWindow: a duration up to a week; 0 turns dedupe off", () => {
    expect(parseConfig("store: { kind: memory, dedupeWindow: 1h }", "x").store.dedupeWindowMs).toBe(
      3_600_000,
    );
    expect(parseConfig("store: { kind: memory, dedupeWindow: 0s }", "x").store.dedupeWindowMs).toBe(
      0,
    );
    expect(problems("store: { kind: memory, dedupeWindow: 8d }")).toEqual([
      "herald.yaml:1:38 store.dedupeWindow: must be a duration such as 250ms, 5s, 1m, 1h or PT5S",
    ]);
    expect(problems("store: { kind: memory, dedupeWindow: P8D }")).toEqual([
      "herald.yaml:1:38 store.dedupeWindow: must be at most 168h (P7D)",
    ]);
  });

  test("kind is required and must be known", () => {
    expect(problems("store: { path: x }")).toEqual(["herald.yaml:1:8 store.kind: is required"]);
    expect(problems("store: { kind: postgres }")).toEqual([
      "herald.yaml:1:16 store.kind: must be one of: memory, sqlite, nats",
    ]);
  });

  test("a path starting with ~ is refused: only a shell expands it; ${HOME} is interpolated", () => {
    const tilde =
      "starts with ~, which only a shell expands (here it would be a folder named ~); write the full path, or ${HOME}/...";
    expect(
      problems(
        yaml(
          "store: { kind: sqlite, path: ~/herald.db }",
          "auth:",
          "  issuers:",
          "    - { issuer: https://id.example.com, audience: herald, jwks: ~herald/jwks.json }",
        ),
      ),
    ).toEqual([
      `herald.yaml:1:30 store.path: ${tilde}`,
      `herald.yaml:4:65 auth.issuers[0].jwks: ${tilde}`,
    ]);
    expect(
      parseConfig("store: { kind: sqlite, path: ${HOME}/h.db }", "x", { HOME: "/home/h" }).store,
    ).toMatchObject({ path: "/home/h/h.db" });
    // A ~ further in is an ordinary character.
    expect(parseConfig("store: { kind: sqlite, path: data/~x.db }", "x").store).toMatchObject({
      path: "data/~x.db",
    });
  });

  test("keys of another kind are unknown keys", () => {
    expect(problems("store: { kind: memory, path: x }")).toEqual([
      "herald.yaml:1:24 store.path: unknown key; expected one of: kind, dedupeWindow",
    ]);
    expect(problems("store: { kind: sqlite, stream: x }")).toEqual([
      "herald.yaml:1:24 store.stream: unknown key; expected one of: kind, path, dedupeWindow",
    ]);
  });

  test("nats replicas, ackWait and one way to authenticate", () => {
    expect(
      parseConfig(
        "store: { kind: nats, url: nats://a:4222, replicas: 3, ackWait: 10s, credentials: ./h.creds }",
        "x",
      ).store,
    ).toEqual({
      kind: "nats",
      url: "nats://a:4222",
      stream: "herald",
      dedupeWindowMs: 86_400_000,
      replicas: 3,
      ackWaitMs: 10_000,
      credentials: "./h.creds",
    });
    expect(parseConfig("store: { kind: nats, url: nats://a, startupWait: 2m }", "x").store).toEqual(
      {
        kind: "nats",
        url: "nats://a",
        stream: "herald",
        dedupeWindowMs: 86_400_000,
        startupWaitMs: 120_000,
      },
    );
    expect(problems("store: { kind: nats, url: nats://a, startupWait: 2h }")).toEqual([
      "herald.yaml:1:50 store.startupWait: must be at most 1h",
    ]);
    expect(problems("store: { kind: nats, url: nats://a, replicas: 7, ackWait: 100ms }")).toEqual([
      "herald.yaml:1:47 store.replicas: must be from 1 to 5",
      "herald.yaml:1:59 store.ackWait: must be from 1s to 1h",
    ]);
    expect(
      problems("store: { kind: nats, url: nats://a, token: t, user: u, password: p }"),
    ).toEqual(["herald.yaml:1:8 store: give one of credentials, user (and password) or token"]);
    expect(problems("store: { kind: nats, url: nats://a, password: p }")).toEqual([
      "herald.yaml:1:47 store.password: needs user",
    ]);
  });

  test("nats url and stream rules", () => {
    expect(problems("store: { kind: nats }")).toEqual(["herald.yaml:1:8 store.url: is required"]);
    expect(problems("store: { kind: nats, url: [], stream: a.b }")).toEqual([
      "herald.yaml:1:27 store.url: must not be empty",
      "herald.yaml:1:39 store.stream: must be a JetStream stream name: no whitespace, '.', '*', '>', '/' or '\\'",
    ]);
    const longest = "s".repeat(238);
    expect(
      parseConfig(`store: { kind: nats, url: nats://a, stream: ${longest} }`, "x").store,
    ).toMatchObject({ stream: longest });
    expect(problems(`store: { kind: nats, url: nats://a, stream: ${longest}s }`)).toEqual([
      "herald.yaml:1:45 store.stream: must be at most 238 bytes (the bucket's stream, KV_<stream>-subscriptions, is a JetStream name: at most 255)",
    ]);
    expect(problems("store: { kind: nats, url: [nats://a, 4] }")).toEqual([
      "herald.yaml:1:38 store.url[1]: must be a string, not a number",
    ]);
  });

  test("nats: a config subscription's id must fit a JetStream consumer name", () => {
    const config = (id: string, kind = "nats, url: nats://a") =>
      `store: { kind: ${kind} }\nsubscriptions:\n  - { id: ${id}, sink: "http://127.0.0.1:9/x" }`;
    expect(parseConfig(config("i".repeat(189)), "x").subscriptions[0]?.id).toHaveLength(189);
    expect(problems(config("i".repeat(190)))).toEqual([
      "herald.yaml:3:11 subscriptions[0].id: must be at most 189 bytes with store.kind nats (its JetStream consumer is named after it)",
    ]);
    expect(parseConfig(config("i".repeat(190), "sqlite"), "x").subscriptions[0]?.id).toHaveLength(
      190,
    );
  });

  test("nats urls the client can use, without credentials in them", () => {
    const url = (value: string) =>
      parseConfig(`store: { kind: nats, url: ${value} }`, "x").store as { url: unknown };
    expect(url("nats://127.0.0.1:4222").url).toBe("nats://127.0.0.1:4222");
    expect(url("TLS://nats.example.com").url).toBe("TLS://nats.example.com");
    expect(url("'[::1]:4222'").url).toBe("[::1]:4222");
    expect(url("[tls://a:4222, tls://b]").url).toEqual(["tls://a:4222", "tls://b"]);
    const at = "herald.yaml:1:27 store.url";
    expect(problems("store: { kind: nats, url: http://a:4222 }")).toEqual([
      `${at}: must be a nats:// or tls:// URL (or host:port)`,
    ]);
    expect(problems("store: { kind: nats, url: ws://a:4222 }")).toEqual([
      `${at}: must be a nats:// or tls:// URL (or host:port)`,
    ]);
    for (const bad of ["nats://a:99999", "nats://a:0", "'not a url'", "'nats://:4222'"]) {
      expect(problems(`store: { kind: nats, url: ${bad} }`)).toEqual([
        `${at}: must be a server URL such as nats://127.0.0.1:4222 (port 1 to 65535)`,
      ]);
    }
    expect(problems("store: { kind: nats, url: 'nats://a:1,nats://b:2' }")).toEqual([
      `${at}: one server per URL: give several as a list, [nats://a:4222, nats://b:4222]`,
    ]);
    expect(problems("store: { kind: nats, url: 'nats://herald:s3cret@a:4222' }")).toEqual([
      `${at}: must not hold a user or password (NATS would not get them): use store.user and store.password, or store.token`,
    ]);
    expect(problems("store: { kind: nats, url: [nats://a:1, tls://b:2] }")).toEqual([
      `${at}: give every server with the same scheme: all nats:// or all tls://`,
    ]);
  });
});

describe("parseConfig: auth and adapters", () => {
  test("auth is normalised after interpolation (its rules: parse-auth.test.ts)", () => {
    const text = yaml(
      "auth:",
      "  issuers:",
      "    - { issuer: '${ISSUER}', audience: herald, secret: '${SECRET}' }",
    );
    const env = { ISSUER: "https://id.example.com", SECRET: "s".repeat(32) };
    expect(parseConfig(text, "x", env).auth).toEqual({
      issuers: [
        {
          issuer: "https://id.example.com",
          audience: ["herald"],
          keys: { kind: "secret", secret: "s".repeat(32) },
          algorithms: ["HS256"],
          clockToleranceMs: 30_000,
        },
      ],
      publishers: [],
      admins: [],
      maxTokenBytes: 8_192,
    });
    expect(problems(`${text}  publisher: []\n`, env)).toEqual([
      "herald.yaml:4:3 auth.publisher: unknown key; expected one of: issuers, publishers, admins, maxTokenBytes",
    ]);
  });

  test("adapters: id and kind are required strings; ids are unique; each kind checks its own settings", () => {
    expect(
      problems(
        yaml(
          "adapters:",
          "  - id: a",
          "    kind: github",
          "  - id: a",
          "    kind: s3",
          "  - kind: sns",
          "  - id: 7",
          "    kind: ''",
          "  - just-a-string",
        ),
      ),
    ).toEqual([
      "herald.yaml:2:5 adapters[0].secret: is required",
      'herald.yaml:4:9 adapters[1].id: duplicate id "a"; adapters[0] has it',
      "herald.yaml:6:5 adapters[2].id: is required",
      "herald.yaml:7:9 adapters[3].id: must be a string, not a number",
      "herald.yaml:8:11 adapters[3].kind: must not be empty",
      "herald.yaml:9:5 adapters[4]: must be an object",
    ]);
    expect(problems("adapters: { id: a }")).toEqual(["herald.yaml:1:11 adapters: must be a list"]);
  });
});

describe("parseConfig: ${VAR} interpolation", () => {
  test("replaces references in every string value, at any depth", () => {
    const config = parseConfig(
      yaml(
        "listen:",
        "  host: ${HOST}",
        "subscriptions:",
        "  - id: s-${NAME}",
        "    sink: http://${HOST}:9000/${NAME}",
        "    protocolsettings: { headers: { x-team: '${TEAM:-media}' } }",
      ),
      "herald.yaml",
      { HOST: "10.0.0.1", NAME: "thumbs" },
    );
    expect(config.listen.host).toBe("10.0.0.1");
    expect(config.subscriptions[0]?.id).toBe("s-thumbs");
    expect(config.subscriptions[0]?.sink).toBe("http://10.0.0.1:9000/thumbs");
    expect(config.subscriptions[0]?.protocolsettings.headers).toEqual({ "x-team": "media" });
  });

  test("an unquoted reference is typed like YAML would type the text; a quoted one stays a string where a string is wanted", () => {
    const env = { PORT: "9001", RETRY: "3", ID: "42" };
    expect(parseConfig(yaml("listen:", "  port: ${PORT}"), "x", env).listen.port).toBe(9001);
    expect(parseConfig(yaml("listen:", "  port: ${PORT:-8081}"), "x", {}).listen.port).toBe(8081);
    // Where a number is wanted, the quoted form reads as one too (JSON can only quote it).
    expect(parseConfig(yaml("listen:", '  port: "${PORT}"'), "x", env).listen.port).toBe(9001);
    const quotedId = yaml("subscriptions:", '  - id: "${ID}"', "    sink: http://x.test/a");
    expect(parseConfig(quotedId, "x", env).subscriptions[0]?.id).toBe("42");
    expect(problems(yaml("listen:", '  port: "${PORT}"'), { PORT: "90o1" })).toEqual([
      "herald.yaml:2:9 listen.port: must be an integer",
    ]);
  });

  test("where a setting takes text, an unquoted reference is its variable's text, digits or true included", () => {
    // DESIGN.md writes `secret: ${GITHUB_WEBHOOK_SECRET}`: a secret, token, password or id that
    // happens to be all digits (or `true`) is still that text, not "must be a string, not a number".
    const env = { TOKEN: "12345678", PASSWORD: "007", SUB: "42", FLAG: "true", PORT: "9001" };
    const config = parseConfig(
      yaml(
        "listen: { port: ${PORT} }",
        "store: { kind: nats, url: nats://127.0.0.1:4222, user: ${SUB}, password: ${PASSWORD} }",
        "auth:",
        "  issuers: [{ issuer: i, audience: ${SUB}, jwks: ./jwks.json }]",
        "  publishers: [{ claims: { sub: ${SUB} }, sources: ['*'], types: ['*'] }]",
        "subscriptions:",
        "  - { id: ${SUB}, sink: http://x.test/a, types: [${FLAG}] }",
        "adapters:",
        "  - { id: gl, kind: gitlab, secret: ${TOKEN} }",
      ),
      "x",
      env,
    );
    expect(config.listen.port).toBe(9001);
    expect(config.store).toMatchObject({ user: "42", password: "007" });
    expect(config.auth?.issuers[0]?.audience).toEqual(["42"]);
    expect(config.auth?.publishers[0]?.claims).toEqual({ sub: "42" });
    expect(config.subscriptions[0]).toMatchObject({ id: "42", types: ["true"] });
    expect(config.adapters[0]).toEqual({ id: "gl", kind: "gitlab", secret: "12345678" });
    // A number written as such is still refused where text is wanted: only a reference reads as text.
    expect(problems(yaml("adapters:", "  - { id: gl, kind: gitlab, secret: 12345678 }"))).toEqual([
      "herald.yaml:2:37 adapters[0].secret: must be a string, not a number",
    ]);
  });

  test("inside { } and [ ] an unquoted reference is read as the plain value it stands for", () => {
    const env = { PORT: "9001", RETRY: "3", HOST: "10.0.0.2", DELAY: "PT2S" };
    const config = parseConfig(
      yaml(
        "listen: { port: ${PORT}, host: ${HOST} }",
        "subscriptions:",
        "  - { id: a, sink: http://x.test/a, delivery: { retry: ${RETRY}, backoffDelay: ${DELAY} } }",
        "  - id: b",
        "    sink: http://x.test/b",
        "    filters: [ { exact: { type: ${TYPE:-t,with[brackets]} } } ] # ${NOT_READ}",
      ),
      "x",
      env,
    );
    expect(config.listen).toEqual({ host: "10.0.0.2", port: 9001 });
    expect(config.subscriptions[0]?.delivery.retry).toBe(3);
    expect(config.subscriptions[0]?.delivery.backoffDelayMs).toBe(2000);
    expect(config.subscriptions[1]?.filters).toEqual([{ exact: { type: "t,with[brackets]" } }]);
  });

  test("a reference in a flow collection keeps its place in error messages", () => {
    expect(problems("listen: { port: ${PORT}, host: ${HOST} }", { PORT: "x" })).toEqual([
      "herald.yaml:1:17 listen.port: must be an integer",
      "herald.yaml:1:32 listen.host: environment variable HOST is not set",
    ]);
  });

  test("a nested reference (${A:-${B}}) is refused as such inside { } too, not as the YAML syntax after it", () => {
    const nesting =
      "invalid reference ${P:-${Q}}: a default cannot hold another reference (nesting is not supported)";
    expect(problems("listen: { port: ${P:-${Q}} }")).toEqual([
      `herald.yaml:1:17 listen.port: ${nesting}`,
    ]);
    expect(
      problems("subscriptions: [{ id: a, sink: http://x.test/a, types: [${P:-${Q}}] }]"),
    ).toContain(`herald.yaml:1:57 subscriptions[0].types[0]: ${nesting}`);
    // An escaped `$${` is still a literal, whose `}` after it the YAML's.
    expect(problems('listen: { host: "$${P:-${Q}}" }', { Q: "q" })).toEqual([
      "herald.yaml:1:17 listen.host: must be a host name or IP address",
    ]);
  });

  test("a reference left unclosed in a quoted string is said as such, not as YAML syntax after it", () => {
    expect(
      problems(
        yaml(
          "subscriptions:",
          '  - { id: a, sink: "${SINK", delivery: { retry: 1 } }',
          "  - id: b",
          '    sink: "${SINK" # see {the docs}',
        ),
        { SINK: sink },
      ),
    ).toEqual([
      "herald.yaml:2:20 subscriptions[0].sink: unclosed ${ (write $${ for a literal ${)",
      "herald.yaml:4:11 subscriptions[1].sink: unclosed ${ (write $${ for a literal ${)",
    ]);
    // A literal `${` in a quoted string, then a `}` of the YAML on the same line: read as written.
    const config = parseConfig(
      yaml("adapters:", '  - { id: a, kind: mapping, attributes: { source: /s, type: "/$${" } }'),
      "x",
      {},
    );
    expect(config.adapters[0]).toMatchObject({ attributes: { type: { constant: "/${" } } });
  });

  test("keys are not interpolated", () => {
    expect(problems(yaml("listen:", "  ${KEY}: 1"), { KEY: "port" })).toEqual([
      'herald.yaml:2:3 listen["${KEY}"]: unknown key; expected one of: host, port',
    ]);
  });

  test.each([
    [
      "in block style",
      [
        "adapters:",
        "  - id: a",
        "    kind: mapping",
        "    attributes:",
        "      source: /s",
        "      type: $${HOME}",
      ],
    ],
    [
      "inside { } too",
      ["adapters:", "  - { id: a, kind: mapping, attributes: { source: /s, type: $${HOME} } }"],
    ],
  ])("$${ writes a literal ${ %s", (_style, lines) => {
    const config = parseConfig(yaml(...lines), "x", { HOME: "/root" });
    expect(config.adapters).toEqual([
      {
        id: "a",
        kind: "mapping",
        attributes: { source: { constant: "/s" }, type: { constant: "${HOME}" } },
      },
    ]);
  });

  test("the default env is empty: nothing is read from the process", () => {
    expect(problems(yaml("adapters:", "  - { id: a, kind: '${PATH}' }"))).toEqual([
      "herald.yaml:2:20 adapters[0].kind: environment variable PATH is not set",
    ]);
  });

  test("every missing variable is reported with file, line and field, and only once", () => {
    expect(
      problems(
        yaml(
          "listen:",
          "  port: ${PORT}",
          "subscriptions:",
          "  - id: a",
          "    sink: ${SINK}",
          "    delivery:",
          "      signingSecret: ${THUMBNAIL_SECRET}",
          "adapters:",
          "  - id: gh",
          "    kind: github",
          "    secret: ${GITHUB_WEBHOOK_SECRET} ${ALSO_MISSING}",
        ),
        {},
        "conf/herald.yaml",
      ),
    ).toEqual([
      "conf/herald.yaml:2:9 listen.port: environment variable PORT is not set",
      "conf/herald.yaml:5:11 subscriptions[0].sink: environment variable SINK is not set",
      "conf/herald.yaml:7:22 subscriptions[0].delivery.signingSecret: environment variable THUMBNAIL_SECRET is not set",
      "conf/herald.yaml:11:13 adapters[0].secret: environment variable GITHUB_WEBHOOK_SECRET is not set",
      "conf/herald.yaml:11:13 adapters[0].secret: environment variable ALSO_MISSING is not set",
    ]);
  });

  test("a value that is wrong after interpolation is reported like a written one", () => {
    expect(problems(yaml("listen:", "  port: ${PORT}"), { PORT: "http" })).toEqual([
      "herald.yaml:2:9 listen.port: must be an integer",
    ]);
  });
});

describe("parseConfig: delivery backoff", () => {
  test("a zero backoffDelay is refused with the file, line and field", () => {
    expect(
      problems(
        yaml(
          "subscriptions:",
          "  - id: a",
          `    sink: ${sink}`,
          "    delivery: { backoffDelay: PT0S }",
        ),
      ),
    ).toEqual([
      "herald.yaml:4:31 subscriptions[0].delivery.backoffDelay: must be longer than zero: with 0 every retry is sent at once, without backoff",
    ]);
  });
});

describe("parseConfig: JSON input", () => {
  test("numbers and booleans from the environment: the reference sits in a string and reads as the value", () => {
    const text = [
      "{",
      '  "listen": { "port": "${PORT}" },',
      '  "subscriptions": [',
      '    { "id": "a", "sink": "http://x.test/a", "delivery": { "retry": "${RETRY}", "receipts": "${RECEIPTS}" } }',
      "  ]",
      "}",
    ].join("\n");
    const config = parseConfig(text, "herald.json", { PORT: "9002", RETRY: "4", RECEIPTS: "true" });
    expect(config.listen.port).toBe(9002);
    expect(config.subscriptions[0]?.delivery).toMatchObject({ retry: 4, receipts: true });
    expect(problems(text, { PORT: "9002", RETRY: "4", RECEIPTS: "yes" }, "herald.json")).toEqual([
      "herald.json:4:92 subscriptions[0].delivery.receipts: must be true or false",
    ]);
  });

  test("JSON is accepted, tabs and all", () => {
    const text =
      '{\n\t"listen": { "port": 9000 },\n\t"subscriptions": [\n\t\t{ "id": "a", "sink": "${SINK}" }\n\t]\n}\n';
    const config = parseConfig(text, "herald.json", { SINK: sink });
    expect(config.listen.port).toBe(9000);
    expect(config.subscriptions.map((s) => s.sink)).toEqual([sink]);
  });

  test("errors in JSON carry lines and columns too", () => {
    const text = [
      "{",
      '  "listen": { "port": "9000x" },',
      '  "subscriptions": [',
      '    { "id": "a", "sink": "/relative", "extra": true }',
      "  ]",
      "}",
    ].join("\n");
    expect(problems(text, {}, "herald.json")).toEqual([
      "herald.json:2:23 listen.port: must be an integer",
      "herald.json:4:26 subscriptions[0].sink: must be an absolute http(s) URL",
      "herald.json:4:39 subscriptions[0].extra: unknown key; expected one of: id, source, types, config, filters, sink, sinkcredential, protocol, protocolsettings, delivery",
    ]);
  });

  test("duplicate keys are errors, not last-one-wins, naming the field and its first line", () => {
    expect(problems('{ "listen": {}, "listen": {} }', {}, "h.json")).toEqual([
      "h.json:1:17 listen: duplicate key; it is already set on line 1 (each key may appear once)",
    ]);
    const nested = ["{", '  "listen": {', '    "port": 1,', '    "port": 2', "  }", "}"].join("\n");
    expect(problems(nested, {}, "h.json")).toEqual([
      "h.json:4:5 listen.port: duplicate key; it is already set on line 3 (each key may appear once)",
    ]);
  });

  test("a JSON syntax error is one issue with its line and column", () => {
    expect(problems('{\n  "listen": { "port": 1 \n', {}, "h.json")).toEqual([
      "h.json:3:1 invalid JSON: unexpected end of text; expected ',' or '}'",
    ]);
  });

  test.each([
    [
      '{\n  "listen": { "port": 1, },\n}',
      "h.json:2:24 invalid JSON: a trailing comma before '}' is not JSON",
    ],
    [
      '{\n  // the port\n  "listen": {}\n}',
      "h.json:2:3 invalid JSON: unexpected '/' (JSON has no comments); expected a key in double quotes",
    ],
    [
      "{ 'listen': {} }",
      `h.json:1:3 invalid JSON: unexpected "'" (JSON strings take double quotes); expected a key in double quotes`,
    ],
    [
      "listen:\n  port: 1\n",
      "h.json:1:1 invalid JSON: unexpected 'l'; expected a value (object, array, string, number, true, false or null)",
    ],
    [
      '{ "listen": { "port": ${PORT} } }',
      "h.json:1:23 invalid JSON: unexpected '$' (in JSON a ${VAR} reference goes inside a string); expected a value (object, array, string, number, true, false or null)",
    ],
    [
      "",
      "h.json:1:1 invalid JSON: unexpected end of text (the file is empty); expected a value (object, array, string, number, true, false or null)",
    ],
  ])("a .json file is strict JSON, not YAML: %j", (text, problem) => {
    expect(problems(text, { PORT: "9000" }, "h.json")).toEqual([problem]);
  });

  test("the extension decides, in any case; other names keep reading YAML (JSON included)", () => {
    const lenient = '{ "listen": { "port": 9000, }, } # YAML reads this\n';
    expect(problems(lenient, {}, "conf/HERALD.JSON")[0]).toMatch(
      /^conf\/HERALD\.JSON:1:27 invalid JSON/,
    );
    expect(parseConfig(lenient, "herald.yaml").listen.port).toBe(9000);
    expect(parseConfig(lenient, "HERALD_CONFIG").listen.port).toBe(9000);
  });

  test("references are interpolated in JSON strings, with the same errors as in YAML", () => {
    const text = [
      "{",
      '  "subscriptions": [',
      '    { "id": "a", "sink": "${SINK}", "delivery": { "timeout": "${TIMEOUT:-2s}" } },',
      '    { "id": "b", "sink": "${MISSING}" },',
      '    { "id": "c", "sink": "$${literal}" }',
      "  ]",
      "}",
    ].join("\n");
    expect(problems(text, { SINK: sink }, "h.json")).toEqual([
      "h.json:4:26 subscriptions[1].sink: environment variable MISSING is not set",
      "h.json:5:26 subscriptions[2].sink: must be an absolute http(s) URL",
    ]);
    const fixed = text.replace("${MISSING}", sink).replace("$${literal}", sink);
    const config = parseConfig(fixed, "h.json", { SINK: sink });
    expect(config.subscriptions.map((s) => s.sink)).toEqual([sink, sink, sink]);
    expect(config.subscriptions[0]?.delivery.timeoutMs).toBe(2000);
  });

  test("a reference in a JSON string is text, whatever braces and commas are around it", () => {
    const text = '{ "adapters": [{ "id": "a", "kind": "github", "secret": "${A}, {${B}}, #x" }] }';
    const config = parseConfig(text, "h.json", { A: "1", B: "2" });
    expect(config.adapters[0]).toMatchObject({ secret: "1, {2}, #x" });
  });
});

describe("parseConfig: YAML syntax", () => {
  test("a syntax error is reported alone, with its line, without the parser's follow-on noise", () => {
    expect(problems(yaml("listen:", "  port: 1", "subscriptions: [", "adapters: []"))).toEqual([
      "herald.yaml:4:1 Flow sequence in block collection must be sufficiently indented and end with a ]",
    ]);
  });

  test("independent syntax errors are all reported", () => {
    expect(problems(yaml("listen: {}", "listen: {}", "auth: a: b"))).toEqual([
      "herald.yaml:2:1 listen: duplicate key; it is already set on line 1 (each key may appear once)",
      "herald.yaml:3:7 Nested mappings are not allowed in compact mappings",
    ]);
  });

  test("one document per file", () => {
    expect(problems(yaml("listen: {}", "---", "limits: {}"))).toEqual([
      "herald.yaml:2:1 a config holds a single YAML document; remove the --- separator",
    ]);
  });

  test("unknown tags are errors, YAML 1.1 tags are not resolved into objects", () => {
    expect(problems(yaml("auth:", "  a: !secret x", "  b: !!set { x }"))).toEqual([
      "herald.yaml:2:6 Unresolved tag: !secret",
      "herald.yaml:3:6 Unresolved tag: tag:yaml.org,2002:set",
    ]);
  });

  test("aliases work and errors inside the anchor point at the anchor", () => {
    const config = parseConfig(
      yaml(
        "subscriptions:",
        "  - id: a",
        `    sink: ${sink}`,
        "    delivery: &slow { timeout: 30s }",
        "  - id: b",
        `    sink: ${sink}`,
        "    delivery: *slow",
      ),
      "x",
    );
    expect(config.subscriptions.map((s) => s.delivery.timeoutMs)).toEqual([30_000, 30_000]);
    expect(
      problems(
        yaml(
          "subscriptions:",
          "  - id: a",
          `    sink: ${sink}`,
          "    delivery: &slow { timeout: 30 }",
          "  - id: b",
          `    sink: ${sink}`,
          "    delivery: *slow",
        ),
      ),
    ).toEqual([
      "herald.yaml:4:32 subscriptions[0].delivery.timeout: must be a duration such as 250ms, 5s, 1m, 1h or PT5S",
      "herald.yaml:4:32 subscriptions[1].delivery.timeout: must be a duration such as 250ms, 5s, 1m, 1h or PT5S",
    ]);
  });

  test("an alias to an anchor that does not exist is an error at the alias", () => {
    expect(problems("listen: {}\nauth: *nowhere\n")).toEqual([
      "herald.yaml:2:7 auth: unknown alias *nowhere: no anchor &nowhere is set before it",
    ]);
  });

  test("nesting hundreds deep is refused in words of the config, not the engine's stack overflow", () => {
    const deep = `${"[".repeat(2000)}${"]".repeat(2000)}`;
    for (const [text, file] of [
      [`subscriptions: ${deep}\n`, "herald.yaml"],
      [`{"subscriptions": ${deep}}`, "herald.json"],
    ] as const) {
      const [problem, ...more] = problems(text, {}, file);
      expect(problem).toMatch(
        new RegExp(
          `^${file.replace(".", "\\.")}:1:\\d+ nested too deeply to read \\(a config needs a few levels, not hundreds\\)$`,
        ),
      );
      expect(more).toEqual([]);
    }
  });

  test("alias bombs are refused", () => {
    const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++) {
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(", ")}]`,
      );
    }
    expect(problems(yaml(...lines))).toEqual([
      "herald.yaml:1:1 Excessive alias count indicates a resource exhaustion attack",
    ]);
  });
});

describe("parseConfig: all errors at once", () => {
  test("collects every issue in every section, sorted by position", () => {
    expect(
      problems(
        yaml(
          "store: { kind: sqlite, path: '' }",
          "listen: { port: -1 }",
          "subscriptions:",
          "  - id: a",
          "    sink: ftp://x",
          "    filters: [{ sql: 'x =' }, { prefix: { Subject: '' } }]",
          "    delivery: { mode: batch, timeout: 0s, color: red }",
          "  - id: a",
          `    sink: ${sink}`,
          "extra: 1",
        ),
      ),
    ).toEqual([
      "herald.yaml:1:30 store.path: must not be empty",
      "herald.yaml:2:17 listen.port: must be from 0 to 65535",
      "herald.yaml:5:11 subscriptions[0].sink: must be an absolute http(s) URL",
      "herald.yaml:6:22 subscriptions[0].filters[0].sql: invalid CESQL at 1:4: expected an expression, found end of expression",
      "herald.yaml:6:43 subscriptions[0].filters[1].prefix.Subject: must be a CloudEvents attribute name: lower-case letters a-z and digits 0-9",
      "herald.yaml:6:52 subscriptions[0].filters[1].prefix.Subject: must not be empty",
      "herald.yaml:7:39 subscriptions[0].delivery.timeout: must be longer than zero",
      "herald.yaml:7:43 subscriptions[0].delivery.color: unknown key; expected one of: mode, maxBatchSize, maxBatchWait, concurrency, rate, handshake, timeout, retry, backoffPolicy, backoffDelay, backoffMax, deadLetterSink, signingSecret, reply, receipts",
      'herald.yaml:8:9 subscriptions[1].id: duplicate id "a"; subscriptions[0] has it',
      "herald.yaml:10:1 extra: unknown key; expected one of: listen, limits, store, auth, subscriptions, adapters",
    ]);
  });

  test("a runtime's check reports among the others, located and sorted, whatever else is broken", () => {
    // What the Workers adapter does (workersConfigCheck): it sees the document even when invalid.
    const check: ConfigCheck = (document, report) => {
      const store = (document as { store?: { kind?: unknown } }).store;
      if (store?.kind === "nats") report(["store", "kind"], "not on this runtime");
      report(["subscriptions", 0, "sink"], "unresolved fields are not reported twice");
    };
    const text = yaml(
      "listen: { port: -1 }",
      "store: { kind: nats, url: nats://127.0.0.1:4222 }",
      "subscriptions:",
      "  - { id: a, sink: '${SINK}' }",
    );
    let caught: unknown;
    try {
      parseConfig(text, "herald.yaml", {}, check);
    } catch (error) {
      caught = error;
    }
    expect((caught as ConfigInvalid).message.split("\n")).toEqual([
      "herald.yaml:1:17 listen.port: must be from 0 to 65535",
      "herald.yaml:2:16 store.kind: not on this runtime",
      "herald.yaml:4:20 subscriptions[0].sink: environment variable SINK is not set",
    ]);
  });

  test("the error is a coded HeraldError with structured issues", () => {
    let caught: unknown;
    try {
      parseConfig(yaml("listen:", "  port: x"), "herald.yaml");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigInvalid);
    const error = caught as ConfigInvalid;
    expect(error.code).toBe("config_invalid");
    expect(ConfigInvalid.code).toBe("config_invalid");
    expect(error.status).toBe(400);
    expect(error.issues).toEqual([
      {
        file: "herald.yaml",
        line: 2,
        column: 9,
        field: "listen.port",
        message: "must be an integer",
      },
    ]);
    expect(error.extensions).toEqual({ errors: error.issues });
  });
});
