import { CesqlParseError } from "./cesql-parse-error.js";
import { KEYWORDS, type Token } from "./token.js";

const SPACE = /[ \t\r\n]/; // CESQLLexer.g4 SPACE: only these four are skipped
const WORD_CHAR = /[A-Za-z0-9_]/;
const DIGITS = /^[0-9]+$/;
// FUNCTION_IDENTIFIER_WITH_UNDERSCORE: [A-Z] [A-Z_]*, case-insensitive.
const FUNCTION_NAME = /^[A-Za-z][A-Za-z_]*$/;
const VISIBLE = /^[\p{L}\p{N}\p{P}\p{S}]$/u;
const OPERATORS = ["!=", "<>", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%"] as const;

/**
 * Splits a CESQL expression into tokens (CESQLLexer.g4), ending with an `end` token. Runs in one
 * pass, linear in the length. Throws `CesqlParseError` for a character no token can start with,
 * an unterminated string, or a word that is neither a name nor an integer (e.g. `1_a`).
 *
 * String literals (2.2): inside `'...'`, `\'` and `''` are a `'`; inside `"..."`, `\"` and `""`
 * are a `"`. Any other backslash pair is kept as written (both characters), so a LIKE pattern still
 * sees its `\%` and `\_` escapes (3.4.3) and `'ab\c'` is the four characters `ab\c` (TCK
 * like_expression.yaml "Exact match (2)").
 *
 * @example
 * tokenize("a != 'x'").map((t) => t.kind); // ["name", "operator", "string", "end"]
 */
export function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let index = 0;
  while (index < expression.length) {
    const char = expression.charAt(index);
    if (SPACE.test(char)) {
      index += 1;
      continue;
    }
    const start = index;
    if (char === "(" || char === ")" || char === ",") {
      tokens.push({ kind: char, text: char, start, end: start + 1 });
      index += 1;
    } else if (char === "'" || char === '"') {
      const { value, end } = readString(expression, start);
      tokens.push({ kind: "string", text: value, start, end });
      index = end;
    } else if (WORD_CHAR.test(char)) {
      while (index < expression.length && WORD_CHAR.test(expression.charAt(index))) index += 1;
      tokens.push(wordToken(expression, start, index));
    } else {
      const operator = OPERATORS.find((op) => expression.startsWith(op, start));
      if (operator === undefined) {
        const found = char === "!" ? "'!' (did you mean '!='?)" : describeChar(expression, start);
        throw new CesqlParseError(expression, start, `unexpected character ${found}`);
      }
      tokens.push({ kind: "operator", text: operator, start, end: start + operator.length });
      index += operator.length;
    }
  }
  tokens.push({ kind: "end", text: "", start: expression.length, end: expression.length });
  return tokens;
}

function readString(expression: string, start: number): { value: string; end: number } {
  const quote = expression.charAt(start);
  let value = "";
  let index = start + 1;
  while (index < expression.length) {
    const char = expression.charAt(index);
    if (char === "\\" && index + 1 < expression.length) {
      const next = expression.charAt(index + 1);
      value += next === quote ? quote : `\\${next}`;
      index += 2;
    } else if (char === quote) {
      if (expression.charAt(index + 1) !== quote) return { value, end: index + 1 };
      value += quote; // '' inside '...' (CESQLLexer.g4 SQUOTA_STRING)
      index += 2;
    } else {
      value += char;
      index += 1;
    }
  }
  throw new CesqlParseError(expression, start, `unterminated string literal (no closing ${quote})`);
}

function wordToken(expression: string, start: number, end: number): Token {
  const text = expression.slice(start, end);
  // An all-digit word is an INTEGER_LITERAL (it wins the tie with IDENTIFIER_WITH_NUMBER).
  if (DIGITS.test(text)) return { kind: "integer", text, start, end };
  const upper = text.toUpperCase();
  if (upper === "TRUE" || upper === "FALSE") return { kind: "boolean", text: upper, start, end };
  if (KEYWORDS.has(upper)) return { kind: "keyword", text: upper, start, end };
  if (text.includes("_") && !FUNCTION_NAME.test(text)) {
    throw new CesqlParseError(
      expression,
      start,
      `invalid name ${text}: attribute names are letters and digits, function names letters and '_'`,
    );
  }
  return { kind: "name", text, start, end };
}

function describeChar(expression: string, index: number): string {
  const codePoint = expression.codePointAt(index) ?? 0;
  const hex = codePoint.toString(16).toUpperCase().padStart(4, "0");
  // Letters, digits, punctuation and symbols are shown; spaces and controls only by code.
  return VISIBLE.test(String.fromCodePoint(codePoint))
    ? `'${String.fromCodePoint(codePoint)}' (U+${hex})`
    : `U+${hex}`;
}
