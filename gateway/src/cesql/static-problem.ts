import { RESERVED_NAMES } from "../event/attribute-rules.js";
import { BUILTIN_FUNCTIONS } from "./builtin-functions.js";
import { toBoolean } from "./cast.js";
import { resolveFunction } from "./cesql-function.js";
import type { CesqlNode } from "./cesql-node.js";
import type { CesqlType } from "./cesql-value.js";
import { compileLikePattern } from "./like-pattern.js";

/**
 * What is wrong with a parsed CESQL expression as a filter before any event comes (CESQL 3.3:
 * "Whenever possible, some error checks SHOULD be done at compile time"); `undefined` when
 * nothing is:
 * - a call to a function that does not exist with that many arguments (3.5): at run time it is a
 *   _MissingFunctionError_ wherever it is evaluated;
 * - a reference to `data` (`data = 'x'`, `EXISTS data`): the payload is no attribute, and CESQL
 *   does not read it (1), so it is a _MissingAttributeError_ (or `false`) for every event;
 * - `NOT x LIKE 'p'` or `NOT x IN (...)` written as in SQL, which CESQL reads as `(NOT x) LIKE`
 *   (see `misreadNot`);
 * - a whole expression whose value is never a Boolean (a literal, arithmetic, a negation, or a
 *   function returning String or Integer): a filter passes only on `true` (CESQL 1.2), so it
 *   would never match. (An extension attribute alone may hold a Boolean: it is fine; a core one,
 *   such as `type`, is always a String.)
 *
 * @example
 * staticProblem(parseCesql("FOO(type)")); // "unknown function FOO with 1 argument"
 * staticProblem(parseCesql("1 + 1"));      // "it never matches: its value is an Integer, ..."
 * staticProblem(parseCesql("EXISTS subject")); // undefined
 */
export function staticProblem(node: CesqlNode): string | undefined {
  const problem = nodeProblem(node);
  if (problem !== undefined) return problem;
  const type = fixedType(node);
  return type === undefined || type === "Boolean"
    ? undefined
    : `it never matches: its value is ${type === "Integer" ? "an Integer" : "a String"}, never the Boolean true`;
}

/**
 * Type tests of the CESQL drafts that v1.0.0 does not define (its TCK dropped them as "not required
 * by spec"), with the cast that replaces them in a filter: a failed cast is an error, and an
 * expression with an error never passes (CESQL 1.2), so `INT(x) > 5` already means "x is an
 * Integer and more than 5". Herald keeps them missing rather than adding its own, so a filter means
 * the same in every CESQL v1.0.0 engine.
 */
const DRAFT_TESTS: Readonly<Record<string, string>> = { IS_INT: "INT", IS_BOOL: "BOOL" };

function nodeProblem(node: CesqlNode): string | undefined {
  switch (node.kind) {
    case "literal":
      return undefined;
    case "attribute":
    case "exists":
      // Names arrive lower-cased; `data` is the payload, never an attribute (ingest refuses it).
      return RESERVED_NAMES.has(node.name)
        ? `${node.name} is the event's payload, not an attribute: CESQL reads context attributes only (CESQL 1), so it is always missing`
        : undefined;
    case "call": {
      if (resolveFunction(BUILTIN_FUNCTIONS, node.name, node.args.length) === undefined) {
        const n = node.args.length;
        const unknown = `unknown function ${node.name} with ${n} argument${n === 1 ? "" : "s"}`;
        const cast = DRAFT_TESTS[node.name.toUpperCase()];
        return cast === undefined
          ? unknown
          : `${unknown} (${node.name.toUpperCase()} was dropped before CESQL v1.0.0: write ${cast}(x) where the value is used; an event whose x does not cast does not pass)`;
      }
      return firstOf(node.args);
    }
    case "not":
    case "negate":
      return nodeProblem(node.operand);
    case "like":
    case "in":
      return (
        misreadNot(node) ??
        nodeProblem(node.operand) ??
        (node.kind === "in" ? firstOf(node.set) : undefined)
      );
    default:
      return firstOf(node.operands);
  }
}

/**
 * `NOT x LIKE 'p'` and `NOT x IN (...)` as SQL users write them. In CESQL, prefix NOT binds tighter
 * than LIKE and IN (3.6, CESQLParser.g4), so they are `(NOT x) LIKE 'p'` and `(NOT x) IN (...)`: a
 * Boolean matched against a pattern that neither "true" nor "false" fits (never true; `NOT LIKE`
 * always true), or compared with elements that do not cast to Boolean (a _CastError_ for every
 * event that gets there). Valid CESQL, but never what was meant: the filter silently drops (or
 * passes) everything, so it is refused with the spelling that says what was meant.
 */
function misreadNot(node: Extract<CesqlNode, { kind: "like" | "in" }>): string | undefined {
  if (node.operand.kind !== "not") return undefined;
  const operator = `${node.negated ? "NOT " : ""}${node.kind === "like" ? "LIKE" : "IN"}`;
  if (node.kind === "like") {
    const matches = compileLikePattern(node.pattern);
    if (matches("true") || matches("false")) return undefined;
  } else if (!node.set.some(neverBoolean)) {
    return undefined;
  }
  const rest = node.kind === "like" ? "'pattern'" : "(...)";
  const bare = `x ${node.kind === "like" ? "LIKE" : "IN"} ${rest}`;
  const negated = `x NOT ${node.kind === "like" ? "LIKE" : "IN"} ${rest}`;
  // What SQL means by it: NOT (x LIKE 'p'), or for NOT x NOT LIKE 'p' NOT (x NOT LIKE 'p').
  const [write, inner] = node.negated ? [bare, negated] : [negated, bare];
  return `NOT binds tighter than ${operator} (CESQL 3.6): NOT x ${operator} ${rest} is (NOT x) ${operator} ${rest}, which tests the Boolean NOT x; write ${write} or NOT (${inner})`;
}

/** A literal that an implicit cast to Boolean refuses (3.7; an Integer too, see `toBoolean`). */
function neverBoolean(node: CesqlNode): boolean {
  if (node.kind !== "literal") return false;
  return (
    typeof node.value === "number" ||
    (typeof node.value === "string" && toBoolean(node.value, "implicit").failure !== undefined)
  );
}

function firstOf(nodes: readonly CesqlNode[]): string | undefined {
  for (const node of nodes) {
    const found = nodeProblem(node);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The type of the expression's value when it does not depend on the event. */
function fixedType(node: CesqlNode): CesqlType | undefined {
  switch (node.kind) {
    case "literal":
      return typeof node.value === "boolean"
        ? "Boolean"
        : typeof node.value === "number"
          ? "Integer"
          : "String";
    case "arithmetic":
    case "negate":
      return "Integer";
    case "call":
      return resolveFunction(BUILTIN_FUNCTIONS, node.name, node.args.length)?.returns;
    case "attribute":
      return STRING_ATTRIBUTES.has(node.name) ? "String" : undefined;
    default:
      return undefined;
  }
}

/**
 * The core attributes (CloudEvents 1.0.2 3.1, 3.2): Strings in every event (ingest refuses any
 * other type), so `type` alone as a filter is never true. Extensions may hold a Boolean.
 */
const STRING_ATTRIBUTES: ReadonlySet<string> = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "datacontenttype",
  "dataschema",
  "subject",
  "time",
]);
