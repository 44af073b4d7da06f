import { describe, expect, it } from "vitest";
import { CesqlParseError } from "../cesql/cesql-parse-error.js";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { compileFilter, compileFilters } from "./compile-filter.js";
import type { Filter } from "./subscription.js";

function event(extra: Record<string, AttributeValue> = {}): CloudEvent {
  const base = {
    specversion: "1.0",
    id: "1",
    source: "/orders",
    type: "com.example.order.created",
  };
  return { attributes: { ...base, ...extra } };
}

const plain = event({ subject: "orders/42" });

function passes(filter: Filter, e: CloudEvent = plain): boolean {
  return compileFilter(filter)(e);
}

function compileError(filter: unknown): unknown {
  try {
    compileFilter(filter as Filter);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("exact (3.2.4.1.1)", () => {
  it("passes when the attribute equals the value, case-sensitively", () => {
    expect(passes({ exact: { type: "com.example.order.created" } })).toBe(true);
    expect(passes({ exact: { type: "com.example.order" } })).toBe(false);
    expect(passes({ exact: { type: "com.example.order.created.v2" } })).toBe(false);
    expect(passes({ exact: { type: "COM.example.order.created" } })).toBe(false);
  });

  it("requires every listed attribute to match", () => {
    expect(passes({ exact: { type: "com.example.order.created", subject: "orders/42" } })).toBe(
      true,
    );
    expect(passes({ exact: { type: "com.example.order.created", subject: "orders/7" } })).toBe(
      false,
    );
    expect(passes({ exact: { type: "other", subject: "orders/42" } })).toBe(false);
  });

  it("is false when the attribute is missing", () => {
    expect(passes({ exact: { dataschema: "x" } })).toBe(false);
    expect(passes({ exact: { type: "com.example.order.created", tenant: "a" } })).toBe(false);
  });

  it("compares boolean and integer extensions through their string form", () => {
    const typed = event({ flag: true, off: false, count: 42, negative: -7 });
    expect(passes({ exact: { flag: "true" } }, typed)).toBe(true);
    expect(passes({ exact: { off: "false" } }, typed)).toBe(true);
    expect(passes({ exact: { count: "42" } }, typed)).toBe(true);
    expect(passes({ exact: { negative: "-7" } }, typed)).toBe(true);
    expect(passes({ exact: { flag: "True" } }, typed)).toBe(false);
    expect(passes({ exact: { count: "42.0" } }, typed)).toBe(false);
    expect(passes({ exact: { count: "042" } }, typed)).toBe(false);
  });

  it("looks attribute names up as written (CloudEvents names are lowercase)", () => {
    expect(passes({ exact: { Type: "com.example.order.created" } })).toBe(false);
    expect(passes({ exact: { TYPE: "com.example.order.created" } })).toBe(false);
  });

  it("never reads inherited properties as attributes", () => {
    expect(passes({ exact: { constructor: "function Object() { [native code] }" } })).toBe(false);
    expect(passes({ prefix: { constructor: "function" } })).toBe(false);
    expect(passes({ not: { prefix: { constructor: "function" } } })).toBe(true);
    expect(passes({ exact: { constructor: "c" } }, event({ constructor: "c" }))).toBe(true);
  });
});

describe("prefix (3.2.4.1.1)", () => {
  it("passes when the attribute starts with the value, case-sensitively", () => {
    expect(passes({ prefix: { type: "com.example." } })).toBe(true);
    expect(passes({ prefix: { type: "com.example.order.created" } })).toBe(true);
    expect(passes({ prefix: { type: "example" } })).toBe(false);
    expect(passes({ prefix: { type: "Com.example." } })).toBe(false);
    expect(passes({ prefix: { type: "com.example.order.created." } })).toBe(false);
  });

  it("requires every listed attribute; missing attributes fail", () => {
    expect(passes({ prefix: { type: "com.", subject: "orders/" } })).toBe(true);
    expect(passes({ prefix: { type: "com.", subject: "users/" } })).toBe(false);
    expect(passes({ prefix: { tenant: "a" } })).toBe(false);
  });

  it("uses the string form of non-string attributes", () => {
    const typed = event({ count: 4200, flag: true });
    expect(passes({ prefix: { count: "42" } }, typed)).toBe(true);
    expect(passes({ prefix: { count: "43" } }, typed)).toBe(false);
    expect(passes({ prefix: { flag: "tr" } }, typed)).toBe(true);
  });
});

describe("suffix (3.2.4.1.1)", () => {
  it("passes when the attribute ends with the value, case-sensitively", () => {
    expect(passes({ suffix: { type: ".created" } })).toBe(true);
    expect(passes({ suffix: { type: "com.example.order.created" } })).toBe(true);
    expect(passes({ suffix: { type: ".deleted" } })).toBe(false);
    expect(passes({ suffix: { type: ".Created" } })).toBe(false);
  });

  it("requires every listed attribute; missing attributes fail", () => {
    expect(passes({ suffix: { type: "created", subject: "/42" } })).toBe(true);
    expect(passes({ suffix: { type: "created", subject: "/7" } })).toBe(false);
    expect(passes({ suffix: { tenant: "a" } })).toBe(false);
  });

  it("uses the string form of non-string attributes", () => {
    const typed = event({ count: 4200, flag: false });
    expect(passes({ suffix: { count: "00" } }, typed)).toBe(true);
    expect(passes({ suffix: { count: "01" } }, typed)).toBe(false);
    expect(passes({ suffix: { flag: "alse" } }, typed)).toBe(true);
  });
});

const yes: Filter = { exact: { type: "com.example.order.created" } };
const no: Filter = { exact: { type: "nope" } };

describe("all, any, not (3.2.4.1.1)", () => {
  it("all passes only when every nested filter passes", () => {
    expect(passes({ all: [yes] })).toBe(true);
    expect(passes({ all: [yes, yes, yes] })).toBe(true);
    expect(passes({ all: [yes, no] })).toBe(false);
    expect(passes({ all: [no, yes] })).toBe(false);
    expect(passes({ all: [no] })).toBe(false);
  });

  it("any passes when at least one nested filter passes", () => {
    expect(passes({ any: [yes] })).toBe(true);
    expect(passes({ any: [no, no, yes] })).toBe(true);
    expect(passes({ any: [no] })).toBe(false);
    expect(passes({ any: [no, no] })).toBe(false);
  });

  it("not inverts its nested filter, including a failure on a missing attribute", () => {
    expect(passes({ not: yes })).toBe(false);
    expect(passes({ not: no })).toBe(true);
    expect(passes({ not: { exact: { tenant: "a" } } })).toBe(true);
    expect(passes({ not: { not: yes } })).toBe(true);
  });

  it("nests: not(any(all(...), ...))", () => {
    const filter: Filter = {
      not: {
        any: [
          { all: [{ prefix: { type: "com.example." } }, { suffix: { subject: "/42" } }] },
          { exact: { flag: "true" } },
        ],
      },
    };
    expect(passes(filter, event({ subject: "orders/42" }))).toBe(false);
    expect(passes(filter, event({ subject: "orders/7" }))).toBe(true);
    expect(passes(filter, event({ subject: "orders/7", flag: true }))).toBe(false);
    expect(passes(filter, event({ flag: false }))).toBe(true);
  });

  it("nests: all(any(not(...)), not(all(...)))", () => {
    const filter: Filter = {
      all: [
        { any: [{ not: { prefix: { subject: "orders/" } } }, { exact: { priority: "1" } }] },
        { not: { all: [{ exact: { source: "/orders" } }, { exact: { region: "eu" } }] } },
      ],
    };
    expect(passes(filter, event({ subject: "users/1" }))).toBe(true);
    expect(passes(filter, event({ subject: "orders/1" }))).toBe(false);
    expect(passes(filter, event({ subject: "orders/1", priority: 1 }))).toBe(true);
    expect(passes(filter, event({ subject: "users/1", region: "eu" }))).toBe(false);
    expect(passes(filter, event({ subject: "users/1", region: "us" }))).toBe(true);
  });
});

describe("compileFilters (3.2.1 filters)", () => {
  it("passes every event for an empty list", () => {
    expect(compileFilters([])(plain)).toBe(true);
    expect(compileFilters([])({ attributes: {} })).toBe(true);
  });

  it("ANDs the expressions", () => {
    expect(compileFilters([yes])(plain)).toBe(true);
    expect(compileFilters([yes, { prefix: { subject: "orders/" } }])(plain)).toBe(true);
    expect(compileFilters([yes, no])(plain)).toBe(false);
    expect(compileFilters([no, yes])(plain)).toBe(false);
  });
});

describe("sql (3.2.4.1.2, CESQL v1.0.0)", () => {
  it("passes an event when the expression is true without an error", () => {
    expect(passes({ sql: "source LIKE '/ord%' AND EXISTS subject" })).toBe(true);
    expect(passes({ sql: "subject = 'orders/43'" })).toBe(false);
    expect(passes({ sql: "INT(seq) > 10" }, event({ seq: "11" }))).toBe(true);
  });

  it("fails an event on any error, even when the value is true", () => {
    expect(passes({ sql: "NOT 10" })).toBe(false);
    expect(passes({ sql: "NOT (missing = 'x')" })).toBe(false);
    expect(passes({ not: { sql: "missing = 'x'" } })).toBe(true);
  });

  it("fails an event when the value is not a Boolean", () => {
    expect(passes({ sql: "'true'" })).toBe(false);
    expect(passes({ sql: "1" })).toBe(false);
  });

  it("looks attributes up by own property", () => {
    expect(passes({ sql: "EXISTS constructor" })).toBe(false);
    expect(passes({ sql: "constructor = 'c'" }, event({ constructor: "c" }))).toBe(true);
  });
});

describe("compile-time errors", () => {
  it("rejects invalid CESQL with a TypeError giving the position, nested anywhere", () => {
    const error = compileError({ any: [yes, { not: { sql: "source LIKE 5" } }] });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(
      "sql filter: invalid CESQL at 1:13: LIKE needs a string literal pattern, found integer 5",
    );
    expect((error as TypeError).cause).toBeInstanceOf(CesqlParseError);
  });

  it.each([[""], ["  "], [7]])("rejects the sql expression %j", (sql) => {
    const error = compileError({ sql });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe("sql filter: needs a non-empty CESQL expression");
  });

  it.each([
    ["exact without attributes", { exact: {} }, "exact filter: needs at least one attribute"],
    ["prefix without attributes", { prefix: {} }, "prefix filter: needs at least one attribute"],
    ["suffix without attributes", { suffix: {} }, "suffix filter: needs at least one attribute"],
    ["empty all", { all: [] }, "all filter: needs at least one filter"],
    ["empty any", { any: [] }, "any filter: needs at least one filter"],
    [
      "empty exact name",
      { exact: { "": "x" } },
      "exact filter: attribute names and values must not be empty",
    ],
    [
      "empty prefix value",
      { prefix: { type: "" } },
      "prefix filter: attribute names and values must not be empty",
    ],
    [
      "empty suffix value",
      { suffix: { type: "" } },
      "suffix filter: attribute names and values must not be empty",
    ],
  ])("rejects %s", (_, filter, message) => {
    const error = compileError(filter);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(message);
  });

  it.each([
    ["no dialect", {}, "{}"],
    ["two dialects", { exact: { type: "a" }, prefix: { type: "b" } }, "{exact, prefix}"],
    ["an unknown dialect", { regex: { type: ".*" } }, "{regex}"],
    ["an inherited name", { toString: "x" }, "{toString}"],
  ])("rejects %s", (_, filter, got) => {
    const error = compileError(filter);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe(
      `a filter has exactly one dialect key (exact, prefix, suffix, all, any, not, sql), got ${got}`,
    );
  });
});
