/** Where something is in a CESQL expression: `offset` is a JavaScript string index (0-based). */
export interface SourcePosition {
  readonly offset: number;
  /** 1-based; `\n`, `\r\n` and `\r` each end a line. */
  readonly line: number;
  /** 1-based, in UTF-16 code units like `offset`. */
  readonly column: number;
}

/**
 * The line and column of `offset` in `text`.
 *
 * @example
 * positionAt("TRUE AND\n  x (", 13); // { offset: 13, line: 2, column: 5 }
 */
export function positionAt(text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let index = 0; index < end; index += 1) {
    const char = text.charCodeAt(index);
    // "\r\n" is one line break: count it at the "\n".
    if (char === 0x0a || (char === 0x0d && text.charCodeAt(index + 1) !== 0x0a)) {
      line += 1;
      lineStart = index + 1;
    }
  }
  return { offset, line, column: offset - lineStart + 1 };
}
