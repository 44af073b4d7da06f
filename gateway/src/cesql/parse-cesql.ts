import { CESQL_LIMITS } from "./cesql-limits.js";
import type {
  ArithmeticOperator,
  CesqlNode,
  ComparisonOperator,
  LogicOperator,
} from "./cesql-node.js";
import { CesqlParseError } from "./cesql-parse-error.js";
import { INT32_MAX, INT32_MIN } from "./int32.js";
import { tokenize } from "./lexer.js";
import { positionAt } from "./source-position.js";
import { describeToken, type Token } from "./token.js";

const LOGIC: ReadonlySet<string> = new Set(["AND", "OR", "XOR"]);
const COMPARISON: ReadonlySet<string> = new Set(["=", "!=", "<>", "<", "<=", ">", ">="]);
const ADDITIVE: ReadonlySet<string> = new Set(["+", "-"]);
const MULTIPLICATIVE: ReadonlySet<string> = new Set(["*", "/", "%"]);
const FUNCTION_NAME = /^[A-Za-z][A-Za-z_]*$/;

/**
 * Parses a CESQL expression (CESQLParser.g4 `cesql: expression EOF`) into a `CesqlNode`.
 * Recursive descent with one function per precedence level, from loosest to tightest (3.6 and
 * the order of the grammar's alternatives):
 *
 * 1. `AND`, `OR`, `XOR`: one level, evaluated left to right (3.6), so `a OR b AND c` is
 *    `(a OR b) AND c` (CESQLParser.g4 says `<assoc=right>`; the spec's text wins); use
 *    parentheses to mean otherwise.
 * 2. `=`, `!=`, `<>`, `<`, `<=`, `>`, `>=` (left-associative, as are 3 and 4)
 * 3. `+`, `-`
 * 4. `*`, `/`, `%`
 * 5. `x [NOT] LIKE 'pattern'` and `x [NOT] IN (...)`, applied left to right
 * 6. prefix `NOT` and `-`: they bind tighter than every binary operator, so `NOT a = b` is
 *    `(NOT a) = b`
 * 7. literals, attributes, `EXISTS name`, function calls, `( expression )`
 *
 * Keywords, function names and attribute names are case-insensitive (section 2; TCK
 * `EXISTS SOURCE`); attribute names are lower-cased, as CloudEvents names are. A `-` or `+` written
 * right before digits is the integer literal's sign (2.2 `integer-literal`), so `-2147483648` is a
 * valid literal. Throws `CesqlParseError` with the position of the first problem, including an
 * expression over `CESQL_LIMITS.maxLength` or nested deeper than `CESQL_LIMITS.maxDepth`.
 *
 * @example
 * parseCesql("subject LIKE 'uploads/%'");
 * // { kind: "like", operand: { kind: "attribute", name: "subject" }, pattern: "uploads/%", negated: false }
 */
export function parseCesql(expression: string): CesqlNode {
  if (expression.length > CESQL_LIMITS.maxLength) {
    throw new CesqlParseError(
      expression,
      CESQL_LIMITS.maxLength,
      `expression is longer than ${CESQL_LIMITS.maxLength} characters`,
    );
  }
  return new Parser(expression, tokenize(expression)).parseAll();
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly expression: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseAll(): CesqlNode {
    const node = this.parseLogic();
    const next = this.peek();
    if (next.kind !== "end") {
      this.fail(next, `expected an operator or end of expression, found ${describeToken(next)}`);
    }
    return node;
  }

  private parseLogic(): CesqlNode {
    const operands = [this.parseComparison()];
    const operators: LogicOperator[] = [];
    while (this.peek().kind === "keyword" && LOGIC.has(this.peek().text)) {
      operators.push(this.next().text as LogicOperator);
      operands.push(this.parseComparison());
    }
    return chain("logic", operands, operators);
  }

  private parseComparison(): CesqlNode {
    const operands = [this.parseAdditive()];
    const operators: ComparisonOperator[] = [];
    while (this.isOperator(COMPARISON)) {
      operators.push(this.next().text as ComparisonOperator);
      operands.push(this.parseAdditive());
    }
    return chain("comparison", operands, operators);
  }

  private parseAdditive(): CesqlNode {
    return this.parseArithmetic(ADDITIVE, () => this.parseMultiplicative());
  }

  private parseMultiplicative(): CesqlNode {
    return this.parseArithmetic(MULTIPLICATIVE, () => this.parsePostfix());
  }

  private parseArithmetic(symbols: ReadonlySet<string>, operand: () => CesqlNode): CesqlNode {
    const operands = [operand()];
    const operators: ArithmeticOperator[] = [];
    while (this.isOperator(symbols)) {
      operators.push(this.next().text as ArithmeticOperator);
      operands.push(operand());
    }
    return chain("arithmetic", operands, operators);
  }

  /** `x [NOT] LIKE string-literal` (3.4.3) and `x [NOT] IN (set)` (3.4.5). */
  private parsePostfix(): CesqlNode {
    let node = this.parseUnary();
    for (;;) {
      const token = this.peek();
      if (token.kind !== "keyword") return node;
      let negated = false;
      let operator = token;
      if (token.text === "NOT") {
        const after = this.peekAt(1);
        if (after.kind !== "keyword" || (after.text !== "LIKE" && after.text !== "IN")) {
          return this.fail(after, `expected LIKE or IN after NOT, found ${describeToken(after)}`);
        }
        this.next();
        negated = true;
        operator = after;
      }
      if (operator.text === "LIKE") {
        this.next();
        const pattern = this.next();
        // 3.4.3: "MUST be a valid string literal without casting, otherwise ... a parse error".
        if (pattern.kind !== "string") {
          return this.fail(
            pattern,
            `LIKE needs a string literal pattern, found ${describeToken(pattern)}`,
          );
        }
        node = { kind: "like", operand: node, pattern: pattern.text, negated };
      } else if (operator.text === "IN") {
        this.next();
        node = { kind: "in", operand: node, set: this.parseList("IN", false), negated };
      } else {
        return node;
      }
    }
  }

  /** Prefix `NOT x` (3.4.1), `-x`, and a sign written right before digits (2.2). */
  private parseUnary(): CesqlNode {
    const token = this.peek();
    if (token.kind === "operator" && (token.text === "-" || token.text === "+")) {
      const digits = this.peekAt(1);
      if (digits.kind === "integer" && digits.start === token.end) {
        this.index += 2;
        return this.integer(`${token.text}${digits.text}`, token);
      }
    }
    const isNot = token.kind === "keyword" && token.text === "NOT";
    if (!isNot && !(token.kind === "operator" && token.text === "-")) return this.parsePrimary();
    this.next();
    this.enter(token);
    const operand = this.parseUnary();
    this.depth -= 1;
    return { kind: isNot ? "not" : "negate", operand };
  }

  private parsePrimary(): CesqlNode {
    const token = this.next();
    switch (token.kind) {
      case "integer":
        return this.integer(token.text, token);
      case "string":
        return { kind: "literal", value: token.text };
      case "boolean":
        return { kind: "literal", value: token.text === "TRUE" };
      case "name":
        if (this.peek().kind === "(") {
          if (!FUNCTION_NAME.test(token.text)) {
            return this.fail(token, `invalid function name ${token.text}: only letters and '_'`);
          }
          return {
            kind: "call",
            name: token.text.toUpperCase(),
            args: this.parseList(token.text, true),
          };
        }
        return { kind: "attribute", name: this.attributeName(token) };
      case "keyword":
        if (token.text === "EXISTS") {
          const name = this.next();
          if (name.kind !== "name") {
            return this.fail(
              name,
              `expected an attribute name after EXISTS, found ${describeToken(name)}`,
            );
          }
          return { kind: "exists", name: this.attributeName(name) };
        }
        break;
      case "(": {
        this.enter(token);
        const inner = this.parseLogic();
        this.expectClose(token);
        this.depth -= 1;
        return inner;
      }
    }
    return this.fail(token, `expected an expression, found ${describeToken(token)}`);
  }

  /** `( a, b, ... )` after a function name (may be empty) or after IN (3.4.5: n > 0). */
  private parseList(owner: string, allowEmpty: boolean): CesqlNode[] {
    const open = this.next();
    if (open.kind !== "(") {
      return this.fail(open, `expected '(' after ${owner}, found ${describeToken(open)}`);
    }
    this.enter(open);
    const items: CesqlNode[] = [];
    if (!(allowEmpty && this.peek().kind === ")")) {
      items.push(this.parseLogic());
      while (this.peek().kind === ",") {
        this.next();
        items.push(this.parseLogic());
      }
    }
    this.expectClose(open);
    this.depth -= 1;
    return items;
  }

  private attributeName(token: Token): string {
    // 2.2: value identifiers are letters and digits; `_` only appears in function names.
    if (token.text.includes("_")) {
      this.fail(
        this.peek(),
        `expected '(' after function name ${token.text}, found ${describeToken(this.peek())}`,
      );
    }
    return token.text.toLowerCase();
  }

  private integer(text: string, at: Token): CesqlNode {
    const value = Number(text);
    // 2.2: "Integer literals MUST be valid 32 bit signed integer values."
    if (value < INT32_MIN || value > INT32_MAX) {
      return this.fail(at, `integer ${text} is outside the 32-bit range`);
    }
    return { kind: "literal", value: value + 0 };
  }

  private expectClose(open: Token): void {
    const close = this.next();
    if (close.kind !== ")") {
      const { line, column } = positionAt(this.expression, open.start);
      this.fail(
        close,
        `expected ')' to close '(' at ${line}:${column}, found ${describeToken(close)}`,
      );
    }
  }

  private enter(token: Token): void {
    this.depth += 1;
    if (this.depth > CESQL_LIMITS.maxDepth) {
      this.fail(token, `expression is nested deeper than ${CESQL_LIMITS.maxDepth} levels`);
    }
  }

  private isOperator(symbols: ReadonlySet<string>): boolean {
    const token = this.peek();
    return token.kind === "operator" && symbols.has(token.text);
  }

  private peek(): Token {
    return this.peekAt(0);
  }

  private peekAt(ahead: number): Token {
    // The last token is always `end`, so reading past it keeps returning `end`.
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index += 1;
    return token;
  }

  private fail(token: Token, reason: string): never {
    throw new CesqlParseError(this.expression, token.start, reason);
  }
}

function chain<K extends "logic" | "comparison" | "arithmetic", O extends string>(
  kind: K,
  operands: CesqlNode[],
  operators: O[],
): CesqlNode {
  const [only] = operands;
  if (operators.length === 0 && only !== undefined) return only;
  return { kind, operands, operators } as CesqlNode;
}
