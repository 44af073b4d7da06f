/** Where a value sits in a config document or request body: keys and list indexes from the root. */
export type FieldPath = readonly (string | number)[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Renders a path the way a reader would write it in JavaScript: dotted names, bracketed indexes, and
 * quoted brackets for names that are not identifiers (header names like `x-team`).
 *
 * @example
 * formatFieldPath(["subscriptions", 0, "filters", 1, "prefix"]); // "subscriptions[0].filters[1].prefix"
 * formatFieldPath(["protocolsettings", "headers", "x-team"]); // 'protocolsettings.headers["x-team"]'
 */
export function formatFieldPath(path: FieldPath): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
