import { RESERVED_NAMES } from "../event/attribute-rules.js";
import { BUILTIN_FUNCTIONS } from "./builtin-functions.js";
import { resolveFunction } from "./cesql-function.js";
import type { CesqlNode } from "./cesql-node.js";
import type { CesqlType } from "./cesql-value.js";
import { compileNode } from "./compile-node.js";
import type { EvaluationScope } from "./evaluation-scope.js";

/**
 * What is wrong with a parsed CESQL expression as a filter before any event comes (CESQL 3.3:
 * "Whenever possible, some error checks SHOULD be done at compile time"); `undefined` when
 * nothing is:
 * - a call to a function that does not exist with that many arguments (3.5): at run time it is a
 *   _MissingFunctionError_ wherever it is evaluated;
 * - a reference to `data` (`data = 'x'`, `EXISTS data`): the payload is no attribute, and CESQL
 *   does not read it (1), so it is a _MissingAttributeError_ (or `false`) for every event;
 * - a whole expression whose value is never a Boolean (a literal, arithmetic, a negation, or a
 *   function returning String or Integer): a filter passes only on `true` (CESQL 1.2), so it
 *   would never match. (An attribute alone may hold a Boolean: it is fine.)
 * - a whole expression that reads no attribute and is not `true` (`'type' = 'x'`, `1 / 0 = 0`):
 *   it has that value for every event, so it would never match either.
 *
 * @example
 * staticProblem(parseCesql("FOO(type)")); // "unknown function FOO with 1 argument"
 * staticProblem(parseCesql("1 + 1"));      // "it never matches: its value is an Integer, ..."
 * staticProblem(parseCesql("\"subject\" = 'x'")); // "it never matches: it reads no attribute, ..."
 * staticProblem(parseCesql("EXISTS subject")); // undefined
 */
export function staticProblem(node: CesqlNode): string | undefined {
  const problem = nodeProblem(node);
  if (problem !== undefined) return problem;
  const type = fixedType(node);
  if (type !== undefined && type !== "Boolean") {
    return `it never matches: its value is ${type === "Integer" ? "an Integer" : "a String"}, never the Boolean true`;
  }
  return constantProblem(node);
}

/**
 * An expression that reads no attribute has one value for every event, so it is evaluated now:
 * one that is not `true` without an error would never match. The usual cause is an attribute
 * name in quotes: `'type' = 'x'` or, as SQL writes identifiers, `"subject" = 'x'` compare two
 * string literals (CESQL 2.2: `''` and `""` both delimit strings). A bare `FALSE` says what it
 * means and is left alone.
 */
function constantProblem(node: CesqlNode): string | undefined {
  if (node.kind === "literal" || readsEvent(node)) return undefined;
  const scope: EvaluationScope = { attributes: {}, error: undefined };
  const value = compileNode(node).evaluate(scope);
  if (value === true && scope.error === undefined) return undefined;
  const outcome =
    scope.error === undefined
      ? "it is false for every event"
      : `it fails for every event (${scope.error.message})`;
  const quoted = quotedName(node);
  const hint =
    quoted === undefined
      ? ""
      : `; ${JSON.stringify(quoted)} is a string literal there, not the attribute: write attribute names without quotes`;
  return `it never matches: it reads no attribute, and ${outcome}${hint}`;
}

/** Whether evaluating the expression looks at the event (an attribute or `EXISTS`). */
function readsEvent(node: CesqlNode): boolean {
  return someNode(node, (n) => n.kind === "attribute" || n.kind === "exists");
}

/**
 * The first name-like string literal where an attribute usually stands: left of a comparison,
 * `LIKE` or `IN` (`'type' = 'x'`, `"subject" LIKE 'a%'`).
 */
function quotedName(node: CesqlNode): string | undefined {
  let found: string | undefined;
  someNode(node, (n) => {
    const left =
      n.kind === "comparison"
        ? n.operands[0]
        : n.kind === "like" || n.kind === "in"
          ? n.operand
          : undefined;
    if (left?.kind !== "literal" || typeof left.value !== "string") return false;
    if (!/^[a-z][a-z0-9]*$/i.test(left.value)) return false;
    found = left.value;
    return true;
  });
  return found;
}

/** Whether `test` holds for the node or any node under it (in reading order). */
function someNode(node: CesqlNode, test: (node: CesqlNode) => boolean): boolean {
  if (test(node)) return true;
  switch (node.kind) {
    case "literal":
    case "attribute":
    case "exists":
      return false;
    case "call":
      return node.args.some((arg) => someNode(arg, test));
    case "not":
    case "negate":
    case "like":
      return someNode(node.operand, test);
    case "in":
      return someNode(node.operand, test) || node.set.some((item) => someNode(item, test));
    default:
      return node.operands.some((operand) => someNode(operand, test));
  }
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
      return nodeProblem(node.operand);
    case "in":
      return nodeProblem(node.operand) ?? firstOf(node.set);
    default:
      return firstOf(node.operands);
  }
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
    default:
      return undefined;
  }
}
