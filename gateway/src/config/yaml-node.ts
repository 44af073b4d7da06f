import { isScalar } from "yaml";

/**
 * The source offset where a parsed YAML node starts, `undefined` for a node without a range (one
 * made in code, or a missing value).
 *
 * @example
 * const document = parseDocument("a: 1\n");
 * startOf(document.contents); // 0
 */
export function startOf(node: unknown): number | undefined {
  if (typeof node !== "object" || node === null || !("range" in node)) return undefined;
  const range: unknown = node.range;
  return Array.isArray(range) && typeof range[0] === "number" ? range[0] : undefined;
}

/**
 * A mapping key as the text a field path uses.
 *
 * @example
 * keyText(new Scalar("port")); // "port"
 */
export function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}
