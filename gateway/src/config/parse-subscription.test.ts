import { describe, expect, test } from "vitest";
import { ConfigInvalid } from "./config-invalid.js";
import { formatFieldPath } from "./field-path.js";
import { parseConfig } from "./load-config.js";
import { MAX_SINK_HEADER_BYTES } from "./parse-protocol-settings.js";
import { parseSubscription } from "./parse-subscription.js";
import type { Report } from "./report.js";
import { validateSubscription } from "./validate-subscription.js";
import { MAX_URL_LENGTH } from "./value-checks.js";

const sink = "http://127.0.0.1:9000/hook";

/** Runs `parseSubscription` and returns its result and the reports as `field: message` lines. */
function check(raw: unknown) {
  const reports: string[] = [];
  const report: Report = (path, message, options) => {
    reports.push(`${formatFieldPath(path)}: ${message}${options?.at === "key" ? " (key)" : ""}`);
  };
  return { subscription: parseSubscription(raw, report), reports };
}

/** `check` for input that must be rejected: the reports only, and no result. */
function reportsOf(raw: unknown): string[] {
  const { subscription, reports } = check(raw);
  expect(subscription).toBeUndefined();
  return reports;
}

/** The issues of a config holding `lines` (YAML) as its first subscription, starting at line 3. */
function configProblems(...lines: string[]): string[] {
  const text = ["subscriptions:", "  - id: s", ...lines.map((line) => `    ${line}`), ""];
  try {
    parseConfig(text.join("\n"), "herald.yaml");
  } catch (error) {
    if (error instanceof ConfigInvalid) return error.message.split("\n");
    throw error;
  }
  return expect.fail("expected ConfigInvalid");
}

describe("parseSubscription: a valid subscription", () => {
  test("the minimum is id and sink; everything else defaults", () => {
    expect(check({ id: "a", sink })).toEqual({
      subscription: {
        id: "a",
        filters: [],
        sink,
        protocol: "HTTP",
        protocolsettings: { headers: {} },
        delivery: { mode: "binary", timeoutMs: 5_000 },
      },
      reports: [],
    });
  });

  test("every field, normalised", () => {
    expect(
      check({
        id: "thumbnails",
        source: "/images",
        types: ["com.example.image.created", "com.example.image.updated"],
        filters: [{ prefix: { subject: "uploads/" } }, { not: { exact: { type: "x" } } }],
        sink: "https://example.com/thumbnail",
        protocol: "HTTP",
        protocolsettings: { headers: { "x-team": "media", Authorization: "Bearer t" } },
        delivery: { mode: "structured", timeout: "PT0.5S" },
      }).subscription,
    ).toEqual({
      id: "thumbnails",
      source: "/images",
      types: ["com.example.image.created", "com.example.image.updated"],
      filters: [{ prefix: { subject: "uploads/" } }, { not: { exact: { type: "x" } } }],
      sink: "https://example.com/thumbnail",
      protocol: "HTTP",
      protocolsettings: { headers: { "x-team": "media", Authorization: "Bearer t" } },
      delivery: { mode: "structured", timeoutMs: 500 },
    });
  });

  test("null means absent for optional fields", () => {
    expect(
      check({ id: "a", sink, source: null, types: null, filters: null, delivery: null })
        .subscription,
    ).toEqual(check({ id: "a", sink }).subscription);
  });
});

describe("parseSubscription: rules (Subscriptions API 3.2.1)", () => {
  test("the subscription must be an object", () => {
    expect(reportsOf(["a"])).toEqual([": must be an object"]);
    expect(reportsOf(null)).toEqual([": must be an object"]);
  });

  test("id is a required non-empty string", () => {
    expect(reportsOf({ sink })).toEqual(["id: is required"]);
    expect(reportsOf({ id: "", sink })).toEqual(["id: must not be empty"]);
    expect(reportsOf({ id: 7, sink })).toEqual(["id: must be a string, not a number"]);
    // A URL path cannot hold them as an id: /subscriptions/.. resolves to /.
    expect(reportsOf({ id: "..", sink })).toEqual([
      'id: must not be "..": /subscriptions/.. is a dot segment no URL can address',
    ]);
    expect(reportsOf({ id: ".", sink })).toEqual([
      'id: must not be ".": /subscriptions/. is a dot segment no URL can address',
    ]);
    expect(check({ id: "...", sink }).subscription?.id).toBe("...");
    // An unpaired surrogate (a JSON `\ud800` escape) has no UTF-8 form: in a URL, the store and
    // on /metrics it would be U+FFFD, one id with `a\udc00`.
    expect(reportsOf({ id: "a\ud800", sink })).toEqual([
      "id: must not contain an unpaired surrogate (U+D800): it has no UTF-8 form",
    ]);
    expect(reportsOf({ id: "\udc00b", sink })).toEqual([
      "id: must not contain an unpaired surrogate (U+DC00): it has no UTF-8 form",
    ]);
    expect(check({ id: "a\ud83d\ude00", sink }).subscription?.id).toBe("a\ud83d\ude00");
  });

  test("source, when present, is a non-empty string", () => {
    expect(reportsOf({ id: "a", sink, source: "" })).toEqual(["source: must not be empty"]);
    expect(reportsOf({ id: "a", sink, source: ["/a"] })).toEqual(["source: must be a string"]);
  });

  test("source is a URI-reference, as an event's source is (core spec 3.1)", () => {
    for (const good of ["/images", "urn:uuid:6e8bc430", "https://example.com/a?b#c", "a%20b"]) {
      expect(check({ id: "a", sink, source: good }).subscription?.source).toBe(good);
    }
    expect(reportsOf({ id: "a", sink, source: "/my images" })).toEqual([
      "source: must be a URI-reference (RFC 3986); encode other characters",
    ]);
    expect(reportsOf({ id: "a", sink, source: "/caf\u00e9" })).toEqual([
      "source: must be a URI-reference (RFC 3986); encode other characters",
    ]);
    expect(reportsOf({ id: "a", sink, source: "1a:b" })).toEqual([
      "source: has an invalid URI scheme",
    ]);
    expect(reportsOf({ id: "a", sink, source: "/a[1]" })).toEqual([
      "source: uses square brackets outside an IP literal",
    ]);
  });

  test("types, when present, is a non-empty list of non-empty strings", () => {
    expect(reportsOf({ id: "a", sink, types: [] })).toEqual(["types: must not be empty"]);
    expect(reportsOf({ id: "a", sink, types: "com.x" })).toEqual(["types: must be a list"]);
    expect(reportsOf({ id: "a", sink, types: ["ok", "", 3] })).toEqual([
      "types[1]: must not be empty",
      "types[2]: must be a string, not a number",
    ]);
  });

  test("a type no event can carry (a control character) is refused: it would never match", () => {
    expect(reportsOf({ id: "a", sink, types: ["ok", "com.x\n"] })).toEqual([
      "types[1]: must not contain control characters: no CloudEvents attribute can hold it, so it would never match",
    ]);
  });

  test("filters is a list, possibly empty", () => {
    expect(check({ id: "a", sink, filters: [] }).subscription?.filters).toEqual([]);
    expect(reportsOf({ id: "a", sink, filters: { exact: { type: "x" } } })).toEqual([
      "filters: must be a list",
    ]);
  });

  test("sink is a required absolute http(s) URL", () => {
    expect(reportsOf({ id: "a" })).toEqual(["sink: is required"]);
    for (const bad of ["/relative", "ftp://example.com/", "example.com", "", 80]) {
      expect(reportsOf({ id: "a", sink: bad })).toEqual(["sink: must be an absolute http(s) URL"]);
    }
  });

  test("sink must not have port 0, which nothing can connect to", () => {
    for (const bad of ["http://127.0.0.1:0/hook", "https://example.com:00/"]) {
      expect(reportsOf({ id: "a", sink: bad })).toEqual([
        "sink: must not have port 0: name the port the server listens on (1 to 65535)",
      ]);
    }
    expect(check({ id: "a", sink: "http://127.0.0.1:80/hook" }).reports).toEqual([]);
  });

  test("sink with a % that starts no %XX escape is refused (RFC 3986 2.1); %XX escapes are kept", () => {
    for (const bad of ["http://127.0.0.1:9/api/%zz", "http://127.0.0.1:9/a%", "http://h/?q=%4"]) {
      expect(reportsOf({ id: "a", sink: bad })).toEqual([
        "sink: has a % that does not start a %XX escape (RFC 3986 2.1): write a % itself as %25",
      ]);
    }
    const fine = "http://127.0.0.1:9/a%20b?q=%2F%c3%a9";
    expect(check({ id: "a", sink: fine }).reports).toEqual([]);
  });

  test("sink and deadLetterSink longer than servers take (414/431 to every request) are refused", () => {
    const at = (length: number) => `http://127.0.0.1:9/${"a".repeat(length - 19)}`;
    expect(at(MAX_URL_LENGTH)).toHaveLength(MAX_URL_LENGTH);
    expect(check({ id: "a", sink: at(MAX_URL_LENGTH) }).reports).toEqual([]);
    const tooLong = `is ${MAX_URL_LENGTH + 1} characters long; at most ${MAX_URL_LENGTH} are allowed (RFC 9110 4.1: what servers are asked to support)`;
    expect(reportsOf({ id: "a", sink: at(MAX_URL_LENGTH + 1) })).toEqual([`sink: ${tooLong}`]);
    expect(
      reportsOf({ id: "a", sink, delivery: { deadLetterSink: at(MAX_URL_LENGTH + 1) } }),
    ).toEqual([`delivery.deadLetterSink: ${tooLong}`]);
  });

  test("sink must not carry credentials, and the report does not repeat them", () => {
    for (const bad of [
      "https://user:s3cret@example.com/hook",
      "http://token@127.0.0.1:9000/hook",
      "http://:s3cret@example.com/",
    ]) {
      const reports = reportsOf({ id: "a", sink: bad });
      expect(reports).toEqual([
        "sink: must not contain credentials; use protocolsettings.headers with an Authorization header",
      ]);
      expect(reports.join()).not.toMatch(/s3cret|token|example\.com|127\.0\.0\.1/);
    }
    expect(check({ id: "a", sink: "https://example.com/@team?to=a@b" }).reports).toEqual([]);
  });

  test('protocol defaults to "HTTP", the only one, compared case-sensitively', () => {
    expect(check({ id: "a", sink, protocol: "HTTP" }).reports).toEqual([]);
    for (const bad of ["http", "AMQP", "MQTT5", 1]) {
      expect(reportsOf({ id: "a", sink, protocol: bad })).toEqual([
        'protocol: must be "HTTP" (the only delivery protocol supported; case-sensitive)',
      ]);
    }
  });

  test("filter, as spec 3.3's HTTP placeholder spells it, is refused with the spelling of 3.2.1", () => {
    expect(reportsOf({ id: "a", sink, filter: { exact: { type: "a" } } })).toEqual([
      'filter: unknown key: spell it filters, a list of filter expressions (Subscriptions API 3.2.1; the HTTP binding placeholder of 3.3 writes "filter"): [{ "exact": { "type": "..." } }] (key)',
    ]);
  });

  test("another protocol is refused once, not again through its protocolsettings (3.2.2.2-3.2.2.5)", () => {
    // The settings the spec defines for those protocols are not HTTP's: reporting them as
    // unknown keys ("expected one of: method, headers") would point at the wrong fix.
    const cases = [
      { protocol: "MQTT5", protocolsettings: { topicname: "t", qos: 1 } },
      { protocol: "NATS", protocolsettings: { subject: "s" } },
      { protocol: "KAFKA", protocolsettings: { topicname: "t" } },
      { protocol: "AMQP", protocolsettings: { address: "a" } },
    ];
    for (const proposed of cases) {
      expect(reportsOf({ id: "a", sink, ...proposed })).toEqual([
        'protocol: must be "HTTP" (the only delivery protocol supported; case-sensitive)',
      ]);
    }
    // Under HTTP (given or defaulted) they are still unknown keys.
    expect(reportsOf({ id: "a", sink, protocolsettings: { subject: "s" } })).toEqual([
      "protocolsettings.subject: unknown key; expected one of: method, headers (key)",
    ]);
  });

  test("keys outside the resource shape are unknown keys, pointed at by key", () => {
    const known =
      "id, source, types, config, filters, sink, sinkcredential, protocol, protocolsettings, delivery";
    expect(reportsOf({ id: "a", sink, Sink: sink })).toEqual([
      `Sink: unknown key; expected one of: ${known} (key)`,
    ]);
  });

  test.each([
    "sinkCredential",
    "SinkCredential",
    "sinkcredentials",
    "sink_credential",
    "sink-credential",
  ])(
    "%s, a near spelling of the spec's sinkcredential, is named with the spec's spelling and what to use",
    (key) => {
      expect(reportsOf({ id: "a", sink, [key]: { credentialtype: "PLAIN" } })).toEqual([
        `${formatFieldPath([key])}: unknown key: the Subscriptions API's OpenAPI document spells it sinkcredential (spec.md 3.2.1 heads it sinkCredential, but every other member is lower case), which is not supported either: send the sink's credential as a header in protocolsettings.headers (e.g. Authorization), or sign deliveries with delivery.signingSecret (key)`,
      ]);
    },
  );

  test("config (3.2.1) is kept as given, keys non-empty; {} is left out; sinkcredential is named", () => {
    expect(check({ id: "a", sink, config: {} }).subscription).not.toHaveProperty("config");
    // The spec's own example (3.2.1): keys are the manager's to define, values of any type.
    const config = { data: "hello", interval: 5, nested: { on: [true, null] } };
    expect(check({ id: "a", sink, config }).subscription?.config).toEqual(config);
    expect(reportsOf({ id: "a", sink, config: { "": 1, ok: 2 } })).toEqual([
      'config[""]: keys must not be empty (Subscriptions API 3.2.1 config) (key)',
    ]);
    expect(
      reportsOf({ id: "a", sink, config: { n: { deep: [Number.POSITIVE_INFINITY] } } }),
    ).toEqual(["config.n: numbers must be finite: the value would not read back as sent"]);
    expect(reportsOf({ id: "a", sink, config: "x" })).toEqual(["config: must be an object"]);
    expect(reportsOf({ id: "a", sink, config: [1] })).toEqual(["config: must be an object"]);
    expect(reportsOf({ id: "a", sink, sinkcredential: { credentialtype: "ACCESSTOKEN" } })).toEqual(
      [
        expect.stringMatching(
          /^sinkcredential: not supported: send the sink's credential as a header/,
        ),
      ],
    );
  });

  test("a path prefix places the reports where the subscription sits", () => {
    const reports: string[] = [];
    parseSubscription({ id: "a" }, (path) => reports.push(formatFieldPath(path)), [
      "subscriptions",
      3,
    ]);
    expect(reports).toEqual(["subscriptions[3].sink"]);
  });
});

describe("parseSubscription: protocolsettings (3.2.2.1)", () => {
  test("headers: names are HTTP tokens, values printable ASCII strings (RFC 9110 5.5)", () => {
    const printable = "must be printable ASCII; percent-encode other characters";
    expect(
      reportsOf({
        id: "a",
        sink,
        protocolsettings: {
          headers: {
            "x-ok": "fine",
            "bad name": "v",
            "": "v",
            "x-crlf": "a\r\nInjected: yes",
            "x-nul": "a\0b",
            "x-control": "a\u0001b",
            "x-del": "a\u007fb",
            "x-latin1": "caf\u00e9",
            "x-euro": "\u20ac5",
            "x-number": 3,
          },
        },
      }),
    ).toEqual([
      'protocolsettings.headers["bad name"]: must be an HTTP header name (an RFC 9110 token) (key)',
      'protocolsettings.headers[""]: must be an HTTP header name (an RFC 9110 token) (key)',
      `protocolsettings.headers["x-crlf"]: ${printable}`,
      `protocolsettings.headers["x-nul"]: ${printable}`,
      `protocolsettings.headers["x-control"]: ${printable}`,
      `protocolsettings.headers["x-del"]: ${printable}`,
      `protocolsettings.headers["x-latin1"]: ${printable}`,
      `protocolsettings.headers["x-euro"]: ${printable}`,
      'protocolsettings.headers["x-number"]: must be a string, not a number',
    ]);
  });

  test("headers: a value with a space or tab at either end is refused, as HTTP drops them", () => {
    const edges =
      "must not start or end with a space or tab: HTTP drops them (RFC 9110 5.5), so the sink would not get the value as written";
    expect(
      reportsOf({
        id: "a",
        sink,
        protocolsettings: {
          headers: {
            "x-inner": "a b\tc",
            "x-empty": "",
            "x-lead": " padded",
            "x-trail": "padded\t",
            "x-blank": "  ",
          },
        },
      }),
    ).toEqual([
      `protocolsettings.headers["x-lead"]: ${edges}`,
      `protocolsettings.headers["x-trail"]: ${edges}`,
      `protocolsettings.headers["x-blank"]: ${edges}`,
    ]);
  });

  test("headers: those the event, the HTTP client or the gateway owns are refused", () => {
    const headers = {
      "CE-Id": "1",
      "content-type": "text/plain",
      Host: "evil.example",
      "content-length": "3",
      "Content-Encoding": "gzip",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      "webhook-signature": "v1,abc",
      "x-team": "media",
    };
    expect(reportsOf({ id: "a", sink, protocolsettings: { headers } })).toEqual([
      `protocolsettings.headers["CE-Id"]: cannot be set here: it carries the event's attributes (ce-*) (key)`,
      `protocolsettings.headers["content-type"]: cannot be set here: it is the event's datacontenttype (or the content mode's) (key)`,
      "protocolsettings.headers.Host: cannot be set here: it belongs to the HTTP connection, set by the client (key)",
      `protocolsettings.headers["content-length"]: cannot be set here: it belongs to the HTTP connection, set by the client (key)`,
      `protocolsettings.headers["Content-Encoding"]: cannot be set here: it describes the body, which is sent as it is (identity) (key)`,
      "protocolsettings.headers.traceparent: cannot be set here: it is written by the gateway on each delivery (trace context, signature, reply preference) (key)",
      `protocolsettings.headers["webhook-signature"]: cannot be set here: it is written by the gateway on each delivery (trace context, signature, reply preference) (key)`,
    ]);
  });

  test("headers: tab, space and every visible ASCII character are fine", () => {
    const headers = { "x-tab": "a\tb", "x-visible": "a !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~" };
    expect(
      check({ id: "a", sink, protocolsettings: { headers } }).subscription?.protocolsettings,
    ).toEqual({ headers });
  });

  test("headers: a rejected value is not repeated in the report (it may be a credential)", () => {
    const reports = reportsOf({
      id: "a",
      sink,
      protocolsettings: { headers: { Authorization: "Bearer s3cr\u00e9t" } },
    });
    expect(reports.join()).not.toMatch(/Bearer|s3cr/);
  });

  test("header names are unique regardless of case", () => {
    expect(
      reportsOf({ id: "a", sink, protocolsettings: { headers: { "X-Team": "a", "x-team": "b" } } }),
    ).toEqual([
      'protocolsettings.headers["x-team"]: duplicate header name (header names are case-insensitive) (key)',
    ]);
  });

  test("headers adding up to more than sinks accept are refused, not sent to die with 431", () => {
    // 8 headers of 1024 bytes each ("x-hN", 1016 of value, 4 for ": " and CRLF): 8 KiB exactly.
    const fits: Record<string, string> = {};
    for (let i = 0; i < 8; i++) fits[`x-h${i}`] = "v".repeat(1016);
    const total = Object.entries(fits).reduce((n, [k, v]) => n + k.length + v.length + 4, 0);
    expect(total).toBe(MAX_SINK_HEADER_BYTES);
    expect(check({ id: "a", sink, protocolsettings: { headers: fits } }).reports).toEqual([]);
    const over = { ...fits, "x-one": "1" };
    expect(reportsOf({ id: "a", sink, protocolsettings: { headers: over } })).toEqual([
      `protocolsettings.headers: add up to ${MAX_SINK_HEADER_BYTES + 10} bytes; at most ${MAX_SINK_HEADER_BYTES} are allowed: sinks refuse larger header sections (431) and every delivery would fail`,
    ]);
  });

  test("an empty header value is allowed; so are empty settings", () => {
    expect(
      check({ id: "a", sink, protocolsettings: { headers: { "x-empty": "" } } }).subscription
        ?.protocolsettings,
    ).toEqual({ headers: { "x-empty": "" } });
    expect(check({ id: "a", sink, protocolsettings: {} }).subscription?.protocolsettings).toEqual({
      headers: {},
    });
  });

  test("method: POST, as every delivery is, and not kept (the spec's own example)", () => {
    const { subscription, reports } = check({
      id: "a",
      sink,
      protocolsettings: { method: "POST", headers: { "x-team": "media" } },
    });
    expect(reports).toEqual([]);
    expect(subscription?.protocolsettings).toEqual({ headers: { "x-team": "media" } });
    expect(check({ id: "a", sink, protocolsettings: { method: null } }).reports).toEqual([]);
  });

  test("method: anything but POST is refused; methods are case-sensitive (RFC 9110 9.1)", () => {
    for (const bad of ["PUT", "GET", "post", "Post", "", 1]) {
      expect(reportsOf({ id: "a", sink, protocolsettings: { method: bad } })).toEqual([
        "protocolsettings.method: only POST is supported (case-sensitive, as HTTP methods are)",
      ]);
    }
  });

  test("other settings are unknown keys", () => {
    expect(reportsOf({ id: "a", sink, protocolsettings: { qos: 1 } })).toEqual([
      "protocolsettings.qos: unknown key; expected one of: method, headers (key)",
    ]);
    expect(reportsOf({ id: "a", sink, protocolsettings: [] })).toEqual([
      "protocolsettings: must be an object",
    ]);
    expect(reportsOf({ id: "a", sink, protocolsettings: { headers: [] } })).toEqual([
      "protocolsettings.headers: must be an object",
    ]);
  });

  test("headers: __proto__ is refused, not accepted and then dropped", () => {
    // JSON.parse makes it an own member; written into a plain object it would set the prototype.
    const raw = JSON.parse(
      `{"id":"a","sink":"${sink}","protocolsettings":{"headers":{"__proto__":"x","x-b":"1"}}}`,
    );
    expect(reportsOf(raw)).toEqual([
      "protocolsettings.headers.__proto__: is not supported as a header name: headers are kept in JavaScript objects, where __proto__ is no plain key, so it would be dropped (key)",
    ]);
  });
});

describe("parseSubscription: positions in a config file", () => {
  test("each rule reports the line, column and field of the offending value", () => {
    expect(
      configProblems(
        "source: ''",
        "types: [ok, '']",
        "sink: ftp://example.com/",
        "protocol: http",
        "protocolsettings:",
        "  headers:",
        "    bad header: x",
        "    x-count: 3",
        "    x-name: José",
        "  method: PUT",
        "delivery: { mode: bulk }",
        "sinkCredential: {}",
      ),
    ).toEqual([
      "herald.yaml:3:13 subscriptions[0].source: must not be empty",
      "herald.yaml:4:17 subscriptions[0].types[1]: must not be empty",
      "herald.yaml:5:11 subscriptions[0].sink: must be an absolute http(s) URL",
      'herald.yaml:6:15 subscriptions[0].protocol: must be "HTTP" (the only delivery protocol supported; case-sensitive)',
      'herald.yaml:9:9 subscriptions[0].protocolsettings.headers["bad header"]: must be an HTTP header name (an RFC 9110 token)',
      'herald.yaml:10:18 subscriptions[0].protocolsettings.headers["x-count"]: must be a string, not a number',
      'herald.yaml:11:17 subscriptions[0].protocolsettings.headers["x-name"]: must be printable ASCII; percent-encode other characters',
      "herald.yaml:12:15 subscriptions[0].protocolsettings.method: only POST is supported (case-sensitive, as HTTP methods are)",
      "herald.yaml:13:23 subscriptions[0].delivery.mode: must be one of: binary, structured, batch",
      "herald.yaml:14:5 subscriptions[0].sinkCredential: unknown key: the Subscriptions API's OpenAPI document spells it sinkcredential (spec.md 3.2.1 heads it sinkCredential, but every other member is lower case), which is not supported either: send the sink's credential as a header in protocolsettings.headers (e.g. Authorization), or sign deliveries with delivery.signingSecret",
    ]);
  });

  test("a missing required field points at the subscription", () => {
    expect(configProblems("source: /a")).toEqual([
      "herald.yaml:2:5 subscriptions[0].sink: is required",
    ]);
  });

  test("ids are unique across the list, even when a duplicate is otherwise invalid", () => {
    const text = [
      "subscriptions:",
      "  - id: a",
      `    sink: ${sink}`,
      "  - id: b",
      `    sink: ${sink}`,
      "  - id: a",
      "  - id: b",
      `    sink: ${sink}`,
      "",
    ].join("\n");
    expect(() => parseConfig(text, "herald.yaml")).toThrow(
      [
        "herald.yaml:6:5 subscriptions[2].sink: is required",
        'herald.yaml:6:9 subscriptions[2].id: duplicate id "a"; subscriptions[0] has it',
        'herald.yaml:7:9 subscriptions[3].id: duplicate id "b"; subscriptions[1] has it',
      ].join("\n"),
    );
  });

  test("subscriptions must be a list of objects", () => {
    expect(() => parseConfig("subscriptions: { id: a }\n", "h.yaml")).toThrow(
      "h.yaml:1:16 subscriptions: must be a list",
    );
    expect(() => parseConfig("subscriptions: [a]\n", "h.yaml")).toThrow(
      "h.yaml:1:17 subscriptions[0]: must be an object",
    );
  });
});

describe("validateSubscription (for the Subscriptions API)", () => {
  test("returns the normalised subscription", () => {
    expect(validateSubscription({ id: "a", sink }).delivery).toEqual({
      mode: "binary",
      timeoutMs: 5_000,
    });
  });

  test("throws ConfigInvalid with every issue, without lines", () => {
    let caught: unknown;
    try {
      validateSubscription({ id: "a", sink: "nope", filters: [{ sql: "x =" }] });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigInvalid);
    expect((caught as ConfigInvalid).status).toBe(400);
    expect((caught as ConfigInvalid).issues).toEqual([
      {
        file: "request body",
        field: "filters[0].sql",
        message: "invalid CESQL at 1:4: expected an expression, found end of expression",
      },
      { file: "request body", field: "sink", message: "must be an absolute http(s) URL" },
    ]);
    expect((caught as ConfigInvalid).message).toBe(
      [
        "request body filters[0].sql: invalid CESQL at 1:4: expected an expression, found end of expression",
        "request body sink: must be an absolute http(s) URL",
      ].join("\n"),
    );
  });

  test("names the origin it is given", () => {
    expect(() => validateSubscription("x", "PUT /subscriptions/a")).toThrow(
      "PUT /subscriptions/a must be an object",
    );
  });
});
