import type { CesqlValue } from "./cesql-value.js";

/** Logic operators: one precedence level, evaluated left to right (CESQL 3.6). */
export type LogicOperator = "AND" | "OR" | "XOR";
export type ComparisonOperator = "=" | "!=" | "<>" | "<" | "<=" | ">" | ">=";
export type ArithmeticOperator = "+" | "-" | "*" | "/" | "%";

/**
 * The parsed form of a CESQL expression (CESQLParser.g4 `expression`). A run of binary operators
 * of one precedence level is one `chain` node, so `a OR b OR c ...` makes a flat node rather than
 * a deep tree: nesting depth then only grows with parentheses, prefix operators and calls.
 * `operators[i]` sits between `operands[i]` and `operands[i + 1]`.
 *
 * @example
 * parseCesql("NOT EXISTS subject");
 * // { kind: "not", operand: { kind: "exists", name: "subject" } }
 */
export type CesqlNode =
  | { readonly kind: "literal"; readonly value: CesqlValue }
  | { readonly kind: "attribute"; readonly name: string }
  | { readonly kind: "exists"; readonly name: string }
  | { readonly kind: "call"; readonly name: string; readonly args: readonly CesqlNode[] }
  | { readonly kind: "not"; readonly operand: CesqlNode }
  | { readonly kind: "negate"; readonly operand: CesqlNode }
  | {
      readonly kind: "like";
      readonly operand: CesqlNode;
      readonly pattern: string;
      readonly negated: boolean;
    }
  | {
      readonly kind: "in";
      readonly operand: CesqlNode;
      readonly set: readonly CesqlNode[];
      readonly negated: boolean;
    }
  | ChainNode<"logic", LogicOperator>
  | ChainNode<"comparison", ComparisonOperator>
  | ChainNode<"arithmetic", ArithmeticOperator>;

/** A run of same-precedence binary operators. */
export interface ChainNode<K extends string, O extends string> {
  readonly kind: K;
  readonly operands: readonly CesqlNode[];
  readonly operators: readonly O[];
}
