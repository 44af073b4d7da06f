/**
 * JSON Pointer (RFC 6901): `""` is the whole document, `/a/b` the member `b` of member `a`;
 * `~1` stands for `/` and `~0` for `~` in a reference token; array elements are named by their
 * index written in decimal without leading zeros.
 */

/**
 * Why `pointer` is not a JSON Pointer, or `undefined` when it is one.
 *
 * @example
 * jsonPointerProblem("repository/url"); // "must be empty or start with /"
 */
export function jsonPointerProblem(pointer: string): string | undefined {
  if (pointer !== "" && !pointer.startsWith("/")) return "must be empty or start with /";
  if (/~(?![01])/.test(pointer)) return "has a ~ that is not ~0 or ~1 (RFC 6901 section 3)";
  return undefined;
}

/**
 * The value `pointer` refers to in `document`, or `undefined` when it refers to nothing (a
 * missing member, an index past the end, `-`, or a step into a scalar). Only own members are
 * followed. Throws a TypeError for a string that is not a JSON Pointer (check config with
 * `jsonPointerProblem`).
 *
 * @example
 * evaluateJsonPointer({ "a/b": [10, 20] }, "/a~1b/1"); // 20
 */
export function evaluateJsonPointer(document: unknown, pointer: string): unknown {
  const problem = jsonPointerProblem(pointer);
  if (problem !== undefined) throw new TypeError(`not a JSON Pointer: ${problem}`);
  if (pointer === "") return document;
  let current = document;
  for (const raw of pointer.slice(1).split("/")) {
    // RFC 6901 section 4: ~1 first, then ~0, so "~01" is "~1", not "/".
    const token = raw.replaceAll("~1", "/").replaceAll("~0", "~");
    if (Array.isArray(current)) {
      if (!/^(?:0|[1-9][0-9]*)$/.test(token)) return undefined;
      const index = Number(token);
      if (index >= current.length) return undefined;
      current = current[index];
    } else if (typeof current === "object" && current !== null && Object.hasOwn(current, token)) {
      current = (current as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return current;
}
