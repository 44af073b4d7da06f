import {
  type Alias,
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type YAMLError,
} from "yaml";
import type { ConfigIssue } from "./config-invalid.js";
import { findDuplicateKey } from "./duplicate-key.js";
import { type FieldPath, formatFieldPath } from "./field-path.js";
import { checkJsonSyntax } from "./json-syntax.js";
import type { ReportOptions } from "./report.js";
import { keyText, startOf } from "./yaml-node.js";

/** 1-based line and column in the source text. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A parsed config text, with the means to point back into the text. */
export interface ConfigSource {
  readonly document: Document;
  /**
   * Syntax errors (JSON's, for a `.json` file) and YAML's warnings (unknown tags, duplicate keys),
   * as issues with lines.
   */
  readonly syntaxIssues: readonly ConfigIssue[];
  /**
   * The position of the value at `path` (or of its key with `{ at: "key" }`); where the path does
   * not exist (a required field is missing), the position of the deepest part that does.
   */
  locate(path: FieldPath, options?: ReportOptions): SourcePosition;
}

/**
 * Parses a config text without judging its content. A file named `*.json` must be strict JSON
 * (RFC 8259: no comments, trailing commas or single quotes; a syntax error is one issue at its line
 * and column); any other name is YAML, of which JSON is a subset, so a config without a file name
 * (the Worker's `HERALD_CONFIG`) may be either. Unresolvable YAML tags are reported rather than kept
 * as strings, and YAML 1.1 tags such as `!!set` or `!!timestamp` are not resolved, so the result
 * is only plain objects, lists, strings, numbers, booleans and nulls. Duplicate keys are an issue
 * in both.
 *
 * @example
 * const source = readConfigSource("listen:\n  port: x\n", "herald.yaml");
 * source.locate(["listen", "port"]); // { line: 2, column: 9 }
 * readConfigSource('{ "listen": {}, }', "herald.json").syntaxIssues[0]?.message;
 * // "invalid JSON: a trailing comma before '}' is not JSON"
 */
export function readConfigSource(text: string, file: string): ConfigSource {
  if (!JSON_FILE.test(file)) return readYaml(maskReferences(text), text, file);
  const error = checkJsonSyntax(text);
  // A strict JSON text reads as the same values in YAML, which keeps the positions `locate` needs.
  // Its references all sit inside quoted strings, where YAML reads `{`, `,` and `#` as text, so
  // they are not masked (masking could take `${", "}` across two strings for one reference).
  if (error === undefined) return readYaml(text, text, file);
  const at = positionIn(text, error.offset);
  return {
    document: new Document(null),
    syntaxIssues: [{ file, ...at, field: "", message: `invalid JSON: ${error.message}` }],
    locate: () => at,
  };
}

const JSON_FILE = /\.json$/i;

function readYaml(masked: string, text: string, file: string): ConfigSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(masked, {
    lineCounter,
    prettyErrors: false,
    resolveKnownTags: false,
  });
  if (masked !== text) unmaskDocument(document.contents);
  const position = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  };
  const parsed = withoutCascade([...document.errors, ...document.warnings]).map(
    (error): ConfigIssue => {
      const at = position(error.pos[0]);
      const duplicate =
        error.code === "DUPLICATE_KEY" ? findDuplicateKey(document, error.pos[0]) : undefined;
      if (duplicate === undefined) return { file, ...at, field: "", message: explain(error) };
      // Named like every other issue (the field), not only as the parser's "Map keys must be
      // unique", and with where the first one is: the reader has to delete one of the two.
      const first = position(duplicate.firstOffset);
      return {
        file,
        ...at,
        field: formatFieldPath(duplicate.path),
        message: `duplicate key; it is already set on line ${first.line} (each key may appear once)`,
      };
    },
  );
  // An alias without its anchor parses, but fails only when the document is converted, with no
  // position; said here, where it is, like any other syntax error.
  const syntaxIssues =
    parsed.length > 0
      ? parsed
      : unresolvedAliases(document).map(({ alias, path }) => ({
          file,
          ...position(startOf(alias) ?? 0),
          field: formatFieldPath(path),
          message: `unknown alias *${alias.source}: no anchor &${alias.source} is set before it`,
        }));
  return {
    document,
    syntaxIssues,
    locate: (path, options) => position(offsetOf(document, path, options?.at === "key")),
  };
}

/** The aliases of `document` whose anchor is not set before them, with where they are. */
function unresolvedAliases(document: Document): { alias: Alias; path: FieldPath }[] {
  const found: { alias: Alias; path: FieldPath }[] = [];
  const walk = (node: unknown, path: FieldPath): void => {
    if (isAlias(node)) {
      if (node.resolve(document) === undefined) found.push({ alias: node, path });
    } else if (isMap(node)) {
      for (const pair of node.items) {
        walk(pair.key, path);
        walk(pair.value, [...path, keyText(pair.key)]);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        walk(item, [...path, index]);
      });
    }
  };
  walk(document.contents, []);
  return found;
}

// `${NAME}` and `${NAME:-default}` on one line, and `$${...}`, the escape for a literal `${`. Never
// across a quote: a `${` left unclosed in a quoted string (`"${X"`, or `"$${"`, a literal) ends
// with the string, and the `}` of a flow collection or a comment after it is the YAML's. A
// reference nested in another's default (`${A:-${B}}`, refused when interpolated) is taken whole:
// cut at its first `}`, the `}` left over closed the flow collection, and the answer was a YAML
// syntax error instead of "nesting is not supported".
const REFERENCE = /(?<!\$)\$\{[^}\n"']*\$\{[^}\n"']*\}[^}\n"']*\}|\$?\$\{[^}\n"']*\}/g;
// Characters of a reference that YAML would read as syntax inside a flow collection (`{ port:
// ${PORT} }`) or a comment, swapped one for one with the private-use characters U+E000 onwards
// while parsing.
const SYNTAX = ["$", "{", "}", ",", "[", "]", "#", ":"];
const SYNTAX_CHARS = /[${},[\]#:]/g;
const FIRST_MASK = 0xe000;
const MASKED = /[\uE000-\uE007]/g;

/**
 * The text with each `${...}` reference disguised as plain characters, so a reference parses as
 * the plain scalar it stands for wherever it is written, inside `{ }` and `[ ]` too, as if the
 * text had been substituted before parsing (Docker Compose's rule). One character for one, so
 * lines and columns stay right. A text that already holds those private-use characters is left
 * as it is.
 */
function maskReferences(text: string): string {
  if (!text.includes("${") || text.search(MASKED) !== -1) return text;
  return text.replace(REFERENCE, (match) =>
    match.replace(SYNTAX_CHARS, (c) => String.fromCharCode(FIRST_MASK + SYNTAX.indexOf(c))),
  );
}

/** The 1-based line and column of `offset`, counted as YAML's `LineCounter` counts them. */
function positionIn(text: string, offset: number): SourcePosition {
  const before = text.slice(0, offset);
  const lineStart = before.lastIndexOf("\n") + 1;
  return { line: before.split("\n").length, column: offset - lineStart + 1 };
}

function unmask(text: string): string {
  return text.replace(MASKED, (c) => SYNTAX[c.charCodeAt(0) - FIRST_MASK] ?? c);
}

/** Puts the references back as written, in every key and string value. */
function unmaskDocument(node: unknown): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      unmaskDocument(pair.key);
      unmaskDocument(pair.value);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) unmaskDocument(item);
  } else if (isScalar(node) && typeof node.value === "string") {
    node.value = unmask(node.value);
  }
}

/** Walks `path` down the YAML node tree and returns the source offset to point at. */
function offsetOf(document: Document, path: FieldPath, atKey: boolean): number {
  let node: unknown = document.contents;
  let offset = startOf(node) ?? 0;
  for (const [index, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(document);
    let child: unknown;
    if (isMap(node)) {
      const pair = node.items.find((item) => keyText(item.key) === String(segment));
      if (pair === undefined) break;
      const keyStart = startOf(pair.key) ?? offset;
      if (atKey && index === path.length - 1) return keyStart;
      child = pair.value;
      // `key:` with nothing after it: the (empty) value has no useful position; the key does.
      offset = isScalar(child) && child.value === null ? keyStart : (startOf(child) ?? keyStart);
    } else if (isSeq(node) && typeof segment === "number") {
      child = node.items[segment];
      if (child === undefined) break;
      offset = startOf(child) ?? offset;
    } else break;
    node = child;
  }
  return offset;
}

/**
 * After one syntax error the parser is out of step and calls every later token unexpected, or
 * describes the same spot twice; those follow-on errors say nothing new, so they are dropped.
 */
function withoutCascade(errors: readonly YAMLError[]): YAMLError[] {
  const seen = new Set<number>();
  return errors.filter((error, index) => {
    const repeat = seen.has(error.pos[0]) || (index > 0 && error.code === "UNEXPECTED_TOKEN");
    seen.add(error.pos[0]);
    return !repeat;
  });
}

function explain(error: YAMLError): string {
  if (error.code === "MULTIPLE_DOCS") {
    return "a config holds a single YAML document; remove the --- separator";
  }
  // The parser's own words are the JavaScript engine's ("Maximum call stack size exceeded").
  if (error.code === "RESOURCE_EXHAUSTION" && /call stack/i.test(error.message)) {
    return "nested too deeply to read (a config needs a few levels, not hundreds)";
  }
  return error.message;
}
