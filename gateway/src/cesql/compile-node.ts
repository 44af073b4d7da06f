import { attributeValue } from "./attribute-value.js";
import { BUILTIN_FUNCTIONS } from "./builtin-functions.js";
import { resolveFunction } from "./cesql-function.js";
import type { CesqlNode } from "./cesql-node.js";
import { typeOf } from "./cesql-value.js";
import { checked, compileArithmetic } from "./compile-arithmetic.js";
import { compileCall, missingFunction } from "./compile-call.js";
import { compileComparison } from "./compile-comparison.js";
import { compileIn } from "./compile-in.js";
import { compileLike } from "./compile-like.js";
import { compileLogic } from "./compile-logic.js";
import {
  type CompiledNode,
  castOperand,
  type EvaluationScope,
  report,
} from "./evaluation-scope.js";

/**
 * Compiles a parsed expression into a tree of closures, once; evaluating never looks at the
 * syntax tree again. Functions are resolved here (3.3: "some error checks SHOULD be done at
 * compile time"), though a missing one still only fails when evaluated, as the TCK expects.
 *
 * A function call written more than once (`LOWER(subject) = 'a' OR LOWER(subject) = 'b'`) runs
 * once per evaluation: an expression is referentially transparent (CESQL 1: "any part of an
 * expression can be replaced with its output value"), so the second one takes the first one's
 * value. Each LOWER, UPPER, TRIM or CONCAT builds a new string as long as its argument, so a
 * filter that repeats one as often as the length limit allows cost some 200 copies of a 250 KB
 * attribute per event: two seconds during which no other publisher was answered.
 *
 * @example
 * const node = compileNode(parseCesql("EXISTS subject"));
 * node.evaluate({ attributes: { subject: "x" }, error: undefined }); // true
 */
export function compileNode(node: CesqlNode): CompiledNode {
  return compileWith(node, repeatedCalls(node));
}

/** Slots for the calls written more than once, by their text (`callKey`). */
type CallSlots = ReadonlyMap<string, number>;

function compileWith(node: CesqlNode, slots: CallSlots): CompiledNode {
  const compile = (child: CesqlNode) => compileWith(child, slots);
  switch (node.kind) {
    case "literal": {
      const { value } = node;
      return { evaluate: () => value, type: typeOf(value) };
    }
    case "attribute":
      return compileAttribute(node.name);
    case "exists": {
      // 3.4.4. Own properties only: "constructor" is a valid attribute name.
      const { name } = node;
      return { evaluate: (scope) => Object.hasOwn(scope.attributes, name), type: "Boolean" };
    }
    case "call": {
      const fn = resolveFunction(BUILTIN_FUNCTIONS, node.name, node.args.length);
      if (fn === undefined) return missingFunction(node.name, node.args.length);
      const call = compileCall(fn, node.args.map(compile));
      const slot = slots.get(callKey(node));
      return slot === undefined ? call : remembered(call, slot);
    }
    case "not":
      return compileNot(compile(node.operand));
    case "negate":
      return compileNegate(compile(node.operand));
    case "like":
      return compileLike(compile(node.operand), node.pattern, node.negated);
    case "in":
      return compileIn(compile(node.operand), node.set.map(compile), node.negated);
    case "logic":
      return compileLogic(node.operands.map(compile), node.operators);
    case "comparison":
      return compileComparison(node.operands.map(compile), node.operators);
    case "arithmetic":
      return compileArithmetic(node.operands.map(compile), node.operators);
  }
}

/** The same text for the same call: the parsed node, whose names are already normalised. */
function callKey(node: CesqlNode): string {
  return JSON.stringify(node);
}

/** A slot for each call that occurs more than once in the expression. */
function repeatedCalls(root: CesqlNode): CallSlots {
  const counts = new Map<string, number>();
  const pending: CesqlNode[] = [root];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    switch (node.kind) {
      case "call": {
        const key = callKey(node);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        pending.push(...node.args);
        break;
      }
      case "not":
      case "negate":
      case "like":
        pending.push(node.operand);
        break;
      case "in":
        pending.push(node.operand, ...node.set);
        break;
      case "logic":
      case "comparison":
      case "arithmetic":
        pending.push(...node.operands);
        break;
    }
  }
  const slots = new Map<string, number>();
  for (const [key, count] of counts) if (count > 1) slots.set(key, slots.size);
  return slots;
}

/**
 * A call whose value is kept in `scope.memo[slot]` for the rest of the evaluation. Only a value
 * computed without an error is kept: after an error, fail-fast evaluation (4.1) runs no other node
 * that could read it.
 */
function remembered(call: CompiledNode, slot: number): CompiledNode {
  const run = call.evaluate;
  const evaluate = (scope: EvaluationScope) => {
    const kept = scope.memo?.[slot];
    if (kept !== undefined) return kept;
    const value = run(scope);
    if (scope.error === undefined) {
      scope.memo ??= [];
      scope.memo[slot] = value;
    }
    return value;
  };
  return { evaluate, type: call.type };
}

/** An attribute (3.2): its value, or `false` with a _MissingAttributeError_ when absent. */
function compileAttribute(name: string): CompiledNode {
  const message = `the event has no attribute ${name}`;
  const evaluate = (scope: EvaluationScope) => {
    // Own properties only: `constructor` must not find Object.prototype.constructor.
    if (!Object.hasOwn(scope.attributes, name)) {
      report(scope, "missingAttribute", message);
      return false;
    }
    return attributeValue(scope.attributes[name]!);
  };
  return { evaluate, type: "Boolean" };
}

/** `NOT x` (3.4.1), `x` cast to Boolean: `NOT 'TRUE'` is `false`. */
function compileNot(operand: CompiledNode): CompiledNode {
  const evaluateOperand = operand.evaluate;
  const evaluate = (scope: EvaluationScope) => {
    const value = evaluateOperand(scope);
    if (scope.error !== undefined) return false;
    return !castOperand(scope, value, "Boolean");
  };
  return { evaluate, type: "Boolean" };
}

/** `-x` (3.4.1), `x` cast to Integer: `-'10'` is `-10`, `-TRUE` is `-1`. */
function compileNegate(operand: CompiledNode): CompiledNode {
  const evaluateOperand = operand.evaluate;
  const evaluate = (scope: EvaluationScope) => {
    const value = evaluateOperand(scope);
    if (scope.error !== undefined) return 0;
    const x = castOperand(scope, value, "Integer") as number;
    return checked(scope, -x, `-(${x})`);
  };
  return { evaluate, type: "Integer" };
}
