import { positionAt, type SourcePosition } from "./source-position.js";

/**
 * A CESQL expression that does not parse (CESQL 3.3 _ParseError_), or breaks Herald's size
 * limits. A `TypeError`: an expression is code a subscriber wrote, checked when the subscription
 * is created, never per event. `message` reads `invalid CESQL at LINE:COLUMN: REASON`.
 *
 * @example
 * try { compileCesql("ABC("); } catch (error) {
 *   if (error instanceof CesqlParseError) console.log(error.position.column, error.reason);
 *   // 5 "expected an expression, found end of expression"
 * }
 */
export class CesqlParseError extends TypeError {
  static readonly code = "cesql_parse";
  readonly code = CesqlParseError.code;
  /** The CESQL error kind (3.3), as the TCK names it. */
  readonly kind = "parse";
  readonly position: SourcePosition;
  /** The message without the position. */
  readonly reason: string;

  constructor(expression: string, offset: number, reason: string) {
    const position = positionAt(expression, offset);
    super(`invalid CESQL at ${position.line}:${position.column}: ${reason}`);
    this.name = "CesqlParseError";
    this.position = position;
    this.reason = reason;
  }
}
