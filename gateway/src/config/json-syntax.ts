/** Where a text stops being JSON, and why. */
export interface JsonSyntaxError {
  /** Offset in the text (UTF-16 code units) of the character that breaks the grammar. */
  readonly offset: number;
  readonly message: string;
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?/y;
const HEX4 = /[0-9A-Fa-f]{4}/y;
const LITERALS = ["true", "false", "null"] as const;

/**
 * Checks `text` against the JSON grammar of RFC 8259 (section 2 to 7) alone, and returns the first
 * place it breaks, or `undefined` for a JSON text. `JSON.parse` would say the same, but its
 * messages differ between engines and often carry no position; a config error must name the line
 * and column. Nothing here accepts what JSON does not: no comments, no trailing commas, no single
 * quotes, no bare words, no empty text (`what` names it in that message: "file" unless said
 * otherwise). A leading byte order mark is skipped (RFC 8259 section
 * 8.1 lets a parser ignore it). Nesting is followed on an explicit stack, so depth cannot overflow
 * the call stack.
 *
 * @example
 * checkJsonSyntax('{ "a": 1, }'); // { offset: 8, message: "a trailing comma before '}' is not JSON" }
 * checkJsonSyntax('{ "a": 1 }'); // undefined
 */
export function checkJsonSyntax(text: string, what = "file"): JsonSyntaxError | undefined {
  let at = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const open: ("{" | "[")[] = [];

  const skipSpace = (): void => {
    while (at < text.length && WHITESPACE.has(text.charAt(at))) at++;
  };
  const fail = (message: string): JsonSyntaxError => ({ offset: at, message });
  const unexpected = (): string => {
    if (at >= text.length) return "unexpected end of text";
    const c = text.charAt(at);
    const code = c.charCodeAt(0);
    if (code < 0x20) return `unexpected control character U+${hex(code)}`;
    return c === "'" ? `unexpected "'"` : `unexpected '${c}'`;
  };

  /** What a YAML or JavaScript habit at `at` is called in JSON. */
  const hint = (depth: number): string => {
    if (at >= text.length) return depth === 0 ? ` (the ${what} is empty)` : "";
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the message names the config syntax.
    if (text.startsWith("${", at)) return " (in JSON a ${VAR} reference goes inside a string)";
    const c = text.charAt(at);
    if (c === "'") return " (JSON strings take double quotes)";
    if (c === "/" || c === "#") return " (JSON has no comments)";
    return "";
  };

  /** A string at `at` (which holds `"`); `at` ends after its closing quote. */
  const readString = (): JsonSyntaxError | undefined => {
    at++;
    for (;;) {
      if (at >= text.length) return fail("a string is not closed; expected '\"'");
      const c = text.charAt(at);
      if (c === '"') {
        at++;
        return undefined;
      }
      if (c.charCodeAt(0) < 0x20) {
        const code = hex(c.charCodeAt(0));
        return fail(
          `control character U+${code} inside a string; write it as an escape (\\n, \\t)`,
        );
      }
      if (c === "\\") {
        const escaped = text.charAt(at + 1);
        if (ESCAPES.has(escaped)) at += 2;
        else if (escaped === "u" && matchAt(HEX4, text, at + 2) === 4) at += 6;
        else
          return fail('invalid escape; expected one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX');
      } else at++;
    }
  };

  /** A key and its colon, in an object; `at` ends on the value. */
  const readKey = (): JsonSyntaxError | undefined => {
    skipSpace();
    if (text.charAt(at) !== '"') {
      return fail(`${unexpected()}${hint(1)}; expected a key in double quotes`);
    }
    const error = readString();
    if (error !== undefined) return error;
    skipSpace();
    if (text.charAt(at) !== ":") return fail(`${unexpected()}; expected ':' after the key`);
    at++;
    return undefined;
  };

  for (;;) {
    // A value is expected at `at`.
    skipSpace();
    const c = text.charAt(at);
    if (c === "{" || c === "[") {
      at++;
      skipSpace();
      if (text.charAt(at) !== (c === "{" ? "}" : "]")) {
        open.push(c);
        if (c === "{") {
          const error = readKey();
          if (error !== undefined) return error;
        }
        continue;
      }
      at++;
    } else if (c === '"') {
      const error = readString();
      if (error !== undefined) return error;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const length = matchAt(NUMBER, text, at);
      if (length === 0) return fail(`${unexpected()}; expected a number`);
      at += length;
      if (/[0-9.eE+-]/.test(text.charAt(at))) {
        return fail(`${unexpected()} in a number (no leading zeros; digits after '.' and 'e')`);
      }
    } else {
      const literal = LITERALS.find((word) => text.startsWith(word, at));
      if (literal === undefined) {
        return fail(
          `${unexpected()}${hint(open.length)}; expected a value (object, array, string, number, true, false or null)`,
        );
      }
      at += literal.length;
    }

    // After a value: close what is complete, then a comma starts the next member.
    for (;;) {
      skipSpace();
      const container = open.at(-1);
      if (container === undefined) {
        if (at >= text.length) return undefined;
        return fail(`${unexpected()} after the end of the JSON value${hint(1)}`);
      }
      const close = container === "{" ? "}" : "]";
      const next = text.charAt(at);
      if (next === close) {
        open.pop();
        at++;
        continue;
      }
      if (next !== ",") return fail(`${unexpected()}${hint(1)}; expected ',' or '${close}'`);
      const comma = at;
      at++;
      skipSpace();
      if (text.charAt(at) === close) {
        return { offset: comma, message: `a trailing comma before '${close}' is not JSON` };
      }
      if (container === "{") {
        const error = readKey();
        if (error !== undefined) return error;
      }
      break;
    }
  }
}

/** The length of `pattern` (sticky) matched at `offset`, 0 when it does not match there. */
function matchAt(pattern: RegExp, text: string, offset: number): number {
  pattern.lastIndex = offset;
  const match = pattern.exec(text);
  return match === null ? 0 : match[0].length;
}

function hex(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, "0");
}
