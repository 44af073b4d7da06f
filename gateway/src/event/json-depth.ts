/**
 * How deeply `data` may nest (objects and arrays). JSON.parse accepts any depth, but
 * JSON.stringify and every other recursive walk of the value would overflow the stack on a few
 * thousand levels, so a hostile body could crash a delivery later. 128 levels is far beyond any
 * real payload.
 */
export const MAX_JSON_DEPTH = 128;

/**
 * True when `value` nests deeper than `max` levels. Iterative, so it cannot overflow the stack
 * however deep the input is, and it stops at the first path that goes too deep.
 *
 * @example
 * jsonTooDeep(JSON.parse("[[[1]]]"), 2) // => true
 */
export function jsonTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  if (typeof value !== "object" || value === null) return false;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) return true;
    const children = Array.isArray(node) ? node : Object.values(node as object);
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
