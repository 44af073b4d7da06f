/** Environment variables: `process.env` on Node, the bindings object on Workers, a literal in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

export interface Interpolation {
  /** The text with every reference replaced (references that failed are left as written). */
  readonly value: string;
  /** One message per reference that could not be replaced; empty when all were. */
  readonly errors: readonly string[];
}

// `$${` (escape), or `${` up to the next `}` (the `}` missing when the reference is unclosed).
const REFERENCE = /\$\$\{|\$\{([^}]*)(\})?/g;
const BODY = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/;

/**
 * Replaces `${NAME}` with the variable's value and `${NAME:-default}` with the value, or `default`
 * when the variable is unset or empty (the POSIX shell rule); a default is plain text, without
 * references of its own. `$${` writes a literal `${`. A
 * reference to an unset variable without a default is an error: a secret that silently became an
 * empty string would be worse than a gateway that does not start. Values are inserted as they are,
 * never interpolated again.
 *
 * @example
 * interpolateEnv("Bearer ${TOKEN}", { TOKEN: "abc" }); // { value: "Bearer abc", errors: [] }
 * interpolateEnv("${PORT:-8080}", {}); // { value: "8080", errors: [] }
 * interpolateEnv("${SECRET}", {}).errors; // ["environment variable SECRET is not set"]
 */
export function interpolateEnv(text: string, env: Env): Interpolation {
  const errors: string[] = [];
  const value = text.replace(REFERENCE, (match, body: string | undefined, close?: string) => {
    if (match === "$${") return "${";
    if (close === undefined) {
      errors.push("unclosed ${ (write $${ for a literal ${)");
      return match;
    }
    const reference = BODY.exec(body ?? "");
    if (!reference) {
      errors.push(`invalid reference \${${body}}: expected \${NAME} or \${NAME:-default}`);
      return match;
    }
    const [, name = "", fallback] = reference;
    // `${A:-${B}}` (nesting, as shells allow) would read as the default `${B` followed by a
    // stray `}`: a value nobody wrote, silently. Refused instead.
    if (fallback?.includes("${")) {
      errors.push(
        `invalid reference \${${body}}}: a default cannot hold another reference (nesting is not supported)`,
      );
      return match;
    }
    const found = env[name];
    if (found !== undefined && (fallback === undefined || found !== "")) return found;
    if (fallback !== undefined) return fallback;
    errors.push(`environment variable ${name} is not set`);
    return match;
  });
  return { value, errors };
}
