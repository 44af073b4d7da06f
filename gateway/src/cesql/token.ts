/**
 * Lexical tokens of CESQL (CESQLLexer.g4). Keywords are case-insensitive (spec section 2), so the
 * lexer stores them upper-cased in `text`; `name` tokens keep the text as written.
 */
export type TokenKind =
  | "integer" // INTEGER_LITERAL without its sign: the parser folds an adjacent sign in
  | "string" // DQUOTED_STRING_LITERAL / SQUOTED_STRING_LITERAL, `text` is the decoded value
  | "boolean" // TRUE / FALSE
  | "name" // IDENTIFIER, IDENTIFIER_WITH_NUMBER or FUNCTION_IDENTIFIER_WITH_UNDERSCORE
  | "keyword" // AND OR XOR NOT LIKE EXISTS IN
  | "operator" // = != <> < <= > >= + - * / %
  | "(" // LR_BRACKET
  | ")" // RR_BRACKET
  | "," // COMMA
  | "end"; // EOF

/** One token: its kind, text, and where it starts and ends (string indexes, end exclusive). */
export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** Keywords other than TRUE/FALSE (CESQLLexer.g4 "Operators" and "Like, exists, in"). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  "AND",
  "OR",
  "XOR",
  "NOT",
  "LIKE",
  "EXISTS",
  "IN",
]);

/** How a token is named in a parse error: `')'`, `keyword AND`, `end of expression`, ... */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case "end":
      return "end of expression";
    case "string":
      return "a string literal";
    case "integer":
      return `integer ${token.text}`;
    case "boolean":
      return token.text;
    case "name":
      return `name ${token.text}`;
    case "keyword":
      return token.text;
    default:
      return `'${token.text}'`;
  }
}
