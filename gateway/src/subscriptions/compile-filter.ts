import { CesqlParseError } from "../cesql/cesql-parse-error.js";
import { compileCesql } from "../cesql/compile-cesql.js";
import { attributeString, type CloudEvent } from "../event/cloud-event.js";
import type { Filter } from "./subscription.js";

/** A compiled filter expression: `true` when the event passes it (Subscriptions API 3.2.4). */
export type FilterPredicate = (event: CloudEvent) => boolean;

type KeysOfUnion<T> = T extends unknown ? keyof T : never;
type ExpressionOf<T, D extends PropertyKey> = T extends { readonly [K in D]: infer E } ? E : never;

/** Names of the filter dialects: `"exact" | "prefix" | "suffix" | "all" | "any" | "not" | "sql"`. */
export type FilterDialect = KeysOfUnion<Filter>;

/** The dialect-specific value of a filter expression, e.g. `DialectExpression<"not">` is `Filter`. */
export type DialectExpression<D extends FilterDialect> = ExpressionOf<Filter, D>;

/**
 * Compiles one dialect's expression; `compile` compiles nested expressions (`all`, `any`, `not`).
 * Throws a `TypeError` for an expression the dialect's definition forbids.
 */
export type DialectCompiler<D extends FilterDialect> = (
  expression: DialectExpression<D>,
  compile: (filter: Filter) => FilterPredicate,
) => FilterPredicate;

// The one place dialects are plugged in; callers keep calling compileFilter/compileFilters.
const DIALECTS: { readonly [D in FilterDialect]: DialectCompiler<D> } = {
  exact: (attributes) =>
    compareAttributes("exact", attributes, (actual, value) => actual === value),
  prefix: (attributes) =>
    compareAttributes("prefix", attributes, (actual, value) => actual.startsWith(value)),
  suffix: (attributes) =>
    compareAttributes("suffix", attributes, (actual, value) => actual.endsWith(value)),
  all: (filters, compile) => allOf(nested("all", filters).map(compile)),
  any: (filters, compile) => anyOf(nested("any", filters).map(compile)),
  not: (filter, compile) => negate(compile(filter)),
  sql: (expression) => compileSql(expression),
};

/**
 * Compiles one filter expression (Subscriptions API 3.2.4) into a predicate, once, so matching an
 * event does no parsing. Throws a `TypeError` for what validation should have rejected: not exactly
 * one known dialect key, no attribute or an empty attribute name or value in `exact`/`prefix`/
 * `suffix`, an empty `all`/`any`, or an `sql` expression that is not valid CESQL (the message
 * then gives the line and column).
 *
 * @example
 * const isGithubPush = compileFilter({ exact: { type: "com.github.push" } });
 * isGithubPush({ attributes: { specversion: "1.0", id: "1", source: "/gh", type: "com.github.push" } }); // true
 * compileFilter({ sql: "subject LIKE 'uploads/%' AND INT(size) > 1000" }); // a CESQL predicate
 */
export function compileFilter(filter: Filter): FilterPredicate {
  const keys = Object.keys(filter);
  const dialect = keys[0];
  if (keys.length !== 1 || dialect === undefined || !Object.hasOwn(DIALECTS, dialect)) {
    const known = Object.keys(DIALECTS).join(", ");
    throw new TypeError(
      `a filter has exactly one dialect key (${known}), got {${keys.join(", ")}}`,
    );
  }
  // The key names the dialect, so the value is that dialect's expression (3.2.4.1 JSON encoding).
  const compileDialect = DIALECTS[dialect as FilterDialect] as (
    expression: unknown,
    compile: (filter: Filter) => FilterPredicate,
  ) => FilterPredicate;
  return compileDialect((filter as Readonly<Record<string, unknown>>)[dialect], compileFilter);
}

/**
 * Compiles a subscription's `filters` list: the expressions are ANDed and an empty list passes
 * every event (Subscriptions API 3.2.1 "filters", 3.2.4).
 *
 * @example
 * const passes = compileFilters([{ prefix: { type: "com.example." } }, { not: { exact: { subject: "test" } } }]);
 * passes(event); // true when type starts with "com.example." and subject is not "test" (or absent)
 * compileFilters([])(event); // true
 */
export function compileFilters(filters: readonly Filter[]): FilterPredicate {
  return allOf(filters.map(compileFilter));
}

const always: FilterPredicate = () => true;

/**
 * exact/prefix/suffix (3.2.4.1.1): every listed attribute must be present and its string form must
 * pass `test` (case-sensitive). Names are looked up as written: CloudEvents names are lowercase, so
 * a name with capitals never matches.
 */
function compareAttributes(
  dialect: FilterDialect,
  attributes: Readonly<Record<string, string>>,
  test: (actual: string, value: string) => boolean,
): FilterPredicate {
  const entries = Object.entries(attributes);
  // The spec is silent on an empty map; config validation rejects it, so an empty one here is a bug
  // rather than a filter that silently passes everything.
  if (entries.length === 0) throw new TypeError(`${dialect} filter: needs at least one attribute`);
  for (const [name, value] of entries) {
    // 3.2.4.1.1: "The attribute name and value ... MUST NOT be empty strings."
    if (name === "" || value === "") {
      throw new TypeError(`${dialect} filter: attribute names and values must not be empty`);
    }
  }
  return (event) => {
    for (const [name, value] of entries) {
      // Own properties only: "constructor" is a valid attribute name, and a plain attributes object
      // would otherwise hand back Object.prototype.constructor for an event without it.
      if (!Object.hasOwn(event.attributes, name)) return false;
      const actual = attributeString(event, name);
      if (actual === undefined || !test(actual, value)) return false;
    }
    return true;
  };
}

/**
 * sql (3.2.4.1.2): a CESQL v1.0.0 expression, compiled once. The event passes only when it
 * evaluates to `true` without an error (CESQL 1.2).
 */
function compileSql(expression: string): FilterPredicate {
  // 3.2.4.1.2: "The filter expression MUST NOT be an empty string."
  if (typeof expression !== "string" || expression.trim() === "") {
    throw new TypeError("sql filter: needs a non-empty CESQL expression");
  }
  try {
    const compiled = compileCesql(expression);
    return (event) => compiled.matches(event);
  } catch (error) {
    if (!(error instanceof CesqlParseError)) throw error;
    throw new TypeError(`sql filter: ${error.message}`, { cause: error });
  }
}

/** all/any (3.2.4.1.1): "there MUST be at least one filter expression in the array". */
function nested(dialect: FilterDialect, filters: readonly Filter[]): readonly Filter[] {
  if (filters.length === 0) throw new TypeError(`${dialect} filter: needs at least one filter`);
  return filters;
}

function allOf(predicates: readonly FilterPredicate[]): FilterPredicate {
  const [first] = predicates;
  if (first === undefined) return always;
  if (predicates.length === 1) return first;
  return (event) => {
    for (const predicate of predicates) if (!predicate(event)) return false;
    return true;
  };
}

function anyOf(predicates: readonly FilterPredicate[]): FilterPredicate {
  const [first] = predicates;
  if (predicates.length === 1 && first !== undefined) return first;
  return (event) => {
    for (const predicate of predicates) if (predicate(event)) return true;
    return false;
  };
}

function negate(predicate: FilterPredicate): FilterPredicate {
  return (event) => !predicate(event);
}
