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
 * @example
 * const node = compileNode(parseCesql("EXISTS subject"));
 * node.evaluate({ attributes: { subject: "x" }, error: undefined }); // true
 */
export function compileNode(node: CesqlNode): CompiledNode {
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
      return fn === undefined
        ? missingFunction(node.name, node.args.length)
        : compileCall(fn, node.args.map(compileNode));
    }
    case "not":
      return compileNot(compileNode(node.operand));
    case "negate":
      return compileNegate(compileNode(node.operand));
    case "like":
      return compileLike(compileNode(node.operand), node.pattern, node.negated);
    case "in":
      return compileIn(compileNode(node.operand), node.set.map(compileNode), node.negated);
    case "logic":
      return compileLogic(node.operands.map(compileNode), node.operators);
    case "comparison":
      return compileComparison(node.operands.map(compileNode), node.operators);
    case "arithmetic":
      return compileArithmetic(node.operands.map(compileNode), node.operators);
  }
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
