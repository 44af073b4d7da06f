import { describe, expect, test } from "vitest";
import { ConfigInvalid } from "./config-invalid.js";
import { formatFieldPath } from "./field-path.js";
import { parseConfig } from "./load-config.js";
import { parseFilter, parseFilterList } from "./parse-filter.js";
import type { Report } from "./report.js";

/** Runs `parseFilter` at path `filters[0]`; returns its result and the reports as lines. */
function check(raw: unknown) {
  const reports: string[] = [];
  const report: Report = (path, message, options) => {
    reports.push(`${formatFieldPath(path)}: ${message}${options?.at === "key" ? " (key)" : ""}`);
  };
  return { filter: parseFilter(raw, ["filters", 0], report), reports };
}

function reportsOf(raw: unknown): string[] {
  const { filter, reports } = check(raw);
  expect(filter).toBeUndefined();
  return reports;
}

describe("parseFilter: valid filters (Subscriptions API 3.2.4.1.1)", () => {
  test.each([
    [{ exact: { type: "com.github.push", subject: "https://github.com/cloudevents/spec" } }],
    [{ prefix: { type: "com.github." } }],
    [{ suffix: { type: ".created", subject: "/cloudevents/spec" } }],
    [{ all: [{ exact: { type: "a" } }, { exact: { subject: "b" } }] }],
    [{ any: [{ exact: { type: "a" } }] }],
    [{ not: { exact: { type: "com.github.push" } } }],
    [{ not: { all: [{ any: [{ not: { prefix: { source: "/x" } } }] }] } }],
    [{ exact: { type: "a", specversion: "1.0", myext1: "v", "0": "digits only" } }],
    [{ sql: "EXISTS dataref" }],
    [{ sql: "subject LIKE 'uploads/%' AND INT(size) > 1000" }],
  ])("%j is kept as it is", (filter) => {
    expect(check(filter)).toEqual({ filter, reports: [] });
  });

  test("values are kept exactly: no trimming, no case folding", () => {
    expect(check({ exact: { subject: " A b " } }).filter).toEqual({ exact: { subject: " A b " } });
  });
});

describe("parseFilter: rejected filters", () => {
  test("a filter is an object", () => {
    expect(reportsOf("type = x")).toEqual(["filters[0]: must be an object"]);
    expect(reportsOf([{ exact: { type: "a" } }])).toEqual(["filters[0]: must be an object"]);
  });

  test("exactly one dialect per filter", () => {
    expect(reportsOf({})).toEqual([
      "filters[0]: must hold one filter dialect: exact, prefix, suffix, all, any, not, sql",
    ]);
    expect(reportsOf({ exact: { type: "a" }, prefix: { subject: "b" } })).toEqual([
      "filters[0]: must hold exactly one filter dialect; found exact, prefix",
    ]);
  });

  test("sql must be valid CESQL; the message gives the position in the expression", () => {
    expect(reportsOf({ sql: "source LIKE 5" })).toEqual([
      "filters[0].sql: invalid CESQL at 1:13: LIKE needs a string literal pattern, found integer 5",
    ]);
    expect(reportsOf({ sql: "EXISTS subject AND\n  (type = 'a'" })).toEqual([
      "filters[0].sql: invalid CESQL at 2:14: expected ')' to close '(' at 2:3, found end of expression",
    ]);
    expect(reportsOf({ sql: "" })).toEqual(["filters[0].sql: must not be empty"]);
  });

  test("sql that is wrong before any event comes is refused (CESQL 3.3: check at compile time)", () => {
    expect(reportsOf({ sql: "FOO(type)" })).toEqual([
      "filters[0].sql: invalid CESQL: unknown function FOO with 1 argument",
    ]);
    // Known name, wrong arity; and deep inside, or under `not`.
    expect(reportsOf({ sql: "EXISTS subject OR LENGTH()" })).toEqual([
      "filters[0].sql: invalid CESQL: unknown function LENGTH with 0 arguments",
    ]);
    expect(reportsOf({ sql: "IS_INT(size)" })).toEqual([
      "filters[0].sql: invalid CESQL: unknown function IS_INT with 1 argument (IS_INT was dropped before CESQL v1.0.0: write INT(x) where the value is used; an event whose x does not cast does not pass)",
    ]);
    expect(reportsOf({ not: { sql: "NOPE(1, 2)" } })).toEqual([
      "filters[0].not.sql: invalid CESQL: unknown function NOPE with 2 arguments",
    ]);
    for (const [sql, type] of [
      ["1 + 1", "an Integer"],
      ["-5", "an Integer"],
      ["'yes'", "a String"],
      ["LOWER(type)", "a String"],
      ["ABS(1)", "an Integer"],
      // Core attributes are Strings in every event (CloudEvents 1.0.2 3.1, 3.2; ingest checks).
      ["type", "a String"],
      ["subject", "a String"],
      ["TIME", "a String"],
    ]) {
      expect(reportsOf({ sql })).toEqual([
        `filters[0].sql: invalid CESQL: it never matches: its value is ${type}, never the Boolean true`,
      ]);
    }
    // These may be true: a Boolean result, or an attribute that can hold one.
    for (const sql of ["TRUE", "BOOL(flag)", "flag", "LENGTH(subject) > 3", "NOT flag"]) {
      expect(check({ sql })).toEqual({ filter: { sql }, reports: [] });
    }
  });

  test("sql as a string, not empty", () => {
    expect(reportsOf({ sql: " " })).toEqual(["filters[0].sql: must not be empty"]);
    expect(reportsOf({ sql: 5 })).toEqual(["filters[0].sql: must be a string, not a number"]);
    expect(reportsOf({ sql: `'${"x".repeat(5000)}'` })).toEqual([
      "filters[0].sql: invalid CESQL at 1:4097: expression is longer than 4096 characters",
    ]);
  });

  test("an unknown dialect is rejected, naming it", () => {
    expect(reportsOf({ regex: { type: ".*" } })).toEqual([
      'filters[0].regex: unknown filter dialect "regex"; supported: exact, prefix, suffix, all, any, not, sql (key)',
    ]);
    expect(reportsOf({ Exact: { type: "a" } })).toEqual([
      'filters[0].Exact: unknown filter dialect "Exact"; supported: exact, prefix, suffix, all, any, not, sql (key)',
    ]);
  });

  test.each(["exact", "prefix", "suffix"])("%s: a non-empty object of names to strings", (d) => {
    expect(reportsOf({ [d]: {} })).toEqual([`filters[0].${d}: must name at least one attribute`]);
    expect(reportsOf({ [d]: "type" })).toEqual([`filters[0].${d}: must be an object`]);
    expect(reportsOf({ [d]: [{ type: "a" }] })).toEqual([`filters[0].${d}: must be an object`]);
    expect(reportsOf({ [d]: { type: "" } })).toEqual([`filters[0].${d}.type: must not be empty`]);
    expect(reportsOf({ [d]: { type: 1 } })).toEqual([
      `filters[0].${d}.type: must be a string, not a number`,
    ]);
    expect(reportsOf({ [d]: { type: true } })).toEqual([
      `filters[0].${d}.type: must be a string, not a boolean`,
    ]);
    expect(reportsOf({ [d]: { type: null } })).toEqual([`filters[0].${d}.type: must be a string`]);
    expect(reportsOf({ [d]: { "": "x" } })).toEqual([
      `filters[0].${d}[""]: attribute names must not be empty (key)`,
    ]);
  });

  test.each(["Type", "data_base64", "my-ext", "é", "a b", "__proto__"])(
    "attribute name %j breaks the CloudEvents naming convention",
    (name) => {
      expect(reportsOf(JSON.parse(`{"exact":{${JSON.stringify(name)}:"x"}}`))).toEqual([
        `${formatFieldPath(["filters", 0, "exact", name])}: must be a CloudEvents attribute name: lower-case letters a-z and digits 0-9 (key)`,
      ]);
    },
  );

  test.each(["exact", "prefix", "suffix"])(
    "%s: data is the payload, not an attribute: refused, as it would never match",
    (d) => {
      expect(reportsOf({ [d]: { data: "x", type: "a" } })).toEqual([
        `filters[0].${d}.data: data is the event's payload, not an attribute: filters compare context attributes only, so it would never match (key)`,
      ]);
      // A name that merely starts with it is an ordinary extension.
      expect(check({ [d]: { dataref: "x" } }).reports).toEqual([]);
    },
  );

  test.each([
    ["a\nb", "must not contain control characters"],
    ["\u0000", "must not contain control characters"],
    ["x\ud800", "must not contain unpaired surrogates"],
    ["\ufffe", "must not contain Unicode noncharacters"],
  ])("a value no attribute can hold (%j) is refused: it would never match", (text, problem) => {
    for (const d of ["exact", "prefix", "suffix"]) {
      expect(reportsOf({ [d]: { subject: text } })).toEqual([
        `filters[0].${d}.subject: ${problem}: no CloudEvents attribute can hold it, so it would never match`,
      ]);
    }
    // Astral characters are whole pairs, and fine.
    expect(check({ exact: { subject: "😀" } }).reports).toEqual([]);
  });

  test("sql naming data is refused: CESQL reads attributes only, and data is never one", () => {
    const never =
      "data is the event's payload, not an attribute: CESQL reads context attributes only (CESQL 1), so it is always missing";
    for (const sql of ["data = 'x'", "EXISTS data", "NOT EXISTS DATA", "LENGTH(Data) > 2"]) {
      expect(reportsOf({ sql })).toEqual([`filters[0].sql: invalid CESQL: ${never}`]);
    }
    expect(check({ sql: "EXISTS dataref AND datacontenttype = 'x'" }).reports).toEqual([]);
  });

  test.each(["all", "any"])("%s: a non-empty list of filters", (d) => {
    expect(reportsOf({ [d]: [] })).toEqual([`filters[0].${d}: must not be empty`]);
    expect(reportsOf({ [d]: { exact: { type: "a" } } })).toEqual([
      `filters[0].${d}: must be a list`,
    ]);
    expect(reportsOf({ [d]: [{ exact: { type: "a" } }, { exact: {} }, "x"] })).toEqual([
      `filters[0].${d}[1].exact: must name at least one attribute`,
      `filters[0].${d}[2]: must be an object`,
    ]);
  });

  test("not: one filter", () => {
    expect(reportsOf({ not: [{ exact: { type: "a" } }] })).toEqual([
      "filters[0].not: must be an object",
    ]);
    expect(reportsOf({ not: {} })).toEqual([
      "filters[0].not: must hold one filter dialect: exact, prefix, suffix, all, any, not, sql",
    ]);
    expect(reportsOf({ not: null })).toEqual(["filters[0].not: must be an object"]);
  });

  test("problems at any depth are all reported", () => {
    expect(
      reportsOf({
        all: [
          { any: [{ sql: "x =" }, { not: { suffix: { Type: "" } } }] },
          { exact: { type: "ok" }, bogus: 1 },
        ],
      }),
    ).toEqual([
      "filters[0].all[0].any[0].sql: invalid CESQL at 1:4: expected an expression, found end of expression",
      "filters[0].all[0].any[1].not.suffix.Type: must be a CloudEvents attribute name: lower-case letters a-z and digits 0-9 (key)",
      "filters[0].all[0].any[1].not.suffix.Type: must not be empty",
      "filters[0].all[1]: must hold exactly one filter dialect; found exact, bogus",
      'filters[0].all[1].bogus: unknown filter dialect "bogus"; supported: exact, prefix, suffix, all, any, not, sql (key)',
    ]);
  });
});

describe("parseFilterList", () => {
  test("a subscription's list may be empty; a nested one may not", () => {
    const reports: string[] = [];
    const report: Report = (path, message) => reports.push(`${formatFieldPath(path)}: ${message}`);
    expect(parseFilterList([], ["filters"], report, true)).toEqual([]);
    expect(parseFilterList([], ["all"], report, false)).toBeUndefined();
    expect(reports).toEqual(["all: must not be empty"]);
  });
});

describe("filters in a config file", () => {
  test("report line, column and the full field path, at the key for dialect problems", () => {
    const text = [
      "subscriptions:",
      "  - id: thumbnails",
      "    sink: http://127.0.0.1:9000/thumbnail",
      "    filters:",
      '      - prefix: { subject: "uploads/" }',
      '      - sql: "EXISTS dataref AND"',
      "      - any:",
      "          - exact: { type: '' }",
      "          - regex: x",
      "      - not:",
      "          exact: {}",
      "",
    ].join("\n");
    let issues: string[] = [];
    try {
      parseConfig(text, "herald.yaml");
    } catch (error) {
      if (!(error instanceof ConfigInvalid)) throw error;
      issues = error.message.split("\n");
    }
    expect(issues).toEqual([
      "herald.yaml:6:14 subscriptions[0].filters[1].sql: invalid CESQL at 1:19: expected an expression, found end of expression",
      "herald.yaml:8:28 subscriptions[0].filters[2].any[0].exact.type: must not be empty",
      'herald.yaml:9:13 subscriptions[0].filters[2].any[1].regex: unknown filter dialect "regex"; supported: exact, prefix, suffix, all, any, not, sql',
      "herald.yaml:11:18 subscriptions[0].filters[3].not.exact: must name at least one attribute",
    ]);
  });
});
