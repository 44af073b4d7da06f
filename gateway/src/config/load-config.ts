import { ConfigInvalid, type ConfigIssue } from "./config-invalid.js";
import { readConfigSource } from "./config-source.js";
import { type FieldPath, formatFieldPath } from "./field-path.js";
import type { HeraldConfig } from "./herald-config.js";
import { interpolateDocument } from "./interpolate-document.js";
import type { Env } from "./interpolate-env.js";
import { parseHeraldConfig } from "./parse-herald-config.js";
import type { Report } from "./report.js";
import { isNotAString, readingConfigText } from "./value-checks.js";

/**
 * What a runtime checks on top of the config's own rules (a Worker's: what it cannot honour), on
 * the interpolated document whether or not the rest of it is valid. It reports like a validator,
 * so its issues come with file, line and column, among the others and in the same order.
 */
export type ConfigCheck = (document: unknown, report: Report) => void;

/**
 * Parses and validates a config text (YAML, or JSON, which is YAML) into a normalised
 * `HeraldConfig`. `${VAR}` and `${VAR:-default}` in string values are replaced from `env` (an
 * empty object unless given: this core never reads `process.env` itself).
 *
 * Throws `ConfigInvalid` carrying *every* problem, each with file, line, column and field path:
 * YAML syntax errors alone when there are any (the rest would be guesswork), otherwise every
 * missing variable, unknown key and broken rule, and whatever `check` reports.
 *
 * @example
 * const config = parseConfig("listen: { port: ${PORT} }\n", "herald.yaml", { PORT: "9000" });
 * config.listen; // { host: "127.0.0.1", port: 9000 }
 * parseConfig("listen: { prot: 1 }\n", "herald.yaml");
 * // throws ConfigInvalid: herald.yaml:1:11 listen.prot: unknown key; expected one of: host, port
 */
export function parseConfig(
  text: string,
  file: string,
  env: Env = {},
  check?: ConfigCheck,
): HeraldConfig {
  const source = readConfigSource(text, file);
  if (source.syntaxIssues.length > 0) throw new ConfigInvalid(source.syntaxIssues);

  const issues: ConfigIssue[] = [];
  const issue: Report = (path, message, options) => {
    issues.push({
      file,
      ...source.locate(path, options),
      field: formatFieldPath(path),
      message,
      ...(options?.subscription === undefined ? {} : { subscription: options.subscription }),
    });
  };
  // A value whose variable is missing is still the literal `${VAR}` text; whatever the validator
  // says about that text would only repeat the real problem, so it is not reported again.
  const unresolved = new Set<string>();
  const retyped = new Map<string, { readonly path: FieldPath; readonly text: string }>();
  interpolateDocument(
    source.document,
    env,
    (path, message, options) => {
      unresolved.add(formatFieldPath(path));
      issue(path, message, options);
    },
    (path, text) => retyped.set(formatFieldPath(path), { path, text }),
  );

  let raw: unknown;
  try {
    raw = source.document.toJS();
  } catch (error) {
    // Only resource limits throw here (an alias expanding too many times).
    issue([], error instanceof Error ? error.message : String(error));
    throw new ConfigInvalid(issues);
  }
  const resolved: Report = (path, message, options) => {
    if (!unresolved.has(formatFieldPath(path))) issue(path, message, options);
  };
  const validate = (): HeraldConfig | undefined => {
    const parsed = readingConfigText(() => parseHeraldConfig(raw, resolved));
    if (check !== undefined) readingConfigText(() => check(raw, resolved));
    return parsed;
  };
  const interpolationIssues = issues.length;
  let config = validate();
  // An unquoted reference is typed as YAML types its text, so a secret, token or id that is all
  // digits (or `true`) would be "not a string" where the setting takes text: there it is read as
  // its variable's text, and the config validated again.
  const asText = issues.filter((found) => retyped.has(found.field) && isNotAString(found.message));
  if (asText.length > 0) {
    for (const found of asText) {
      const reference = retyped.get(found.field);
      if (reference !== undefined) raw = replaceAt(raw, reference.path, reference.text);
    }
    issues.length = interpolationIssues;
    config = validate();
  }
  if (config === undefined || issues.length > 0) throw new ConfigInvalid(sortByPosition(issues));
  return config;
}

/** `raw` with the value at `path` (where one is) replaced by `value`, in place. */
function replaceAt(raw: unknown, path: FieldPath, value: string): unknown {
  if (path.length === 0) return value;
  let parent: unknown = raw;
  for (const segment of path.slice(0, -1)) {
    // Own keys only: a path never walks into Object.prototype.
    if (typeof parent !== "object" || parent === null || !Object.hasOwn(parent, segment))
      return raw;
    parent = (parent as Record<string | number, unknown>)[segment];
  }
  const last = path[path.length - 1];
  if (typeof parent === "object" && parent !== null && last !== undefined) {
    if (Object.hasOwn(parent, last)) {
      // defineProperty: a key named `__proto__` stays a plain key, as `toJS` made it.
      Object.defineProperty(parent, last, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  }
  return raw;
}

function sortByPosition(issues: readonly ConfigIssue[]): ConfigIssue[] {
  // Stable: issues on the same spot keep the order the validator found them in.
  return [...issues].sort(
    (a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0),
  );
}
