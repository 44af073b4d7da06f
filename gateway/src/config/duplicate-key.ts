import { type Document, isMap, isSeq } from "yaml";
import type { FieldPath } from "./field-path.js";
import { keyText, startOf } from "./yaml-node.js";

/** A key written twice in one mapping: where it is, and where it was first set. */
export interface DuplicateKey {
  /** The path of the repeated key, e.g. `["listen", "port"]`. */
  readonly path: FieldPath;
  /** Source offset of the key's first occurrence in the same mapping. */
  readonly firstOffset: number;
}

/**
 * The key that the YAML parser's `DUPLICATE_KEY` error at `offset` is about. The parser keeps both
 * pairs in the mapping and reports the second one's key position only; a reader needs the field
 * (`listen.port`) and where it was set first, as every other config issue names its field.
 * `undefined` when no key starts at `offset` (the error came from somewhere unexpected).
 *
 * @example
 * const document = parseDocument("listen:\n  port: 1\n  port: 2\n");
 * findDuplicateKey(document, 18); // { path: ["listen", "port"], firstOffset: 10 }
 */
export function findDuplicateKey(document: Document, offset: number): DuplicateKey | undefined {
  return search(document.contents, [], offset);
}

function search(node: unknown, path: FieldPath, offset: number): DuplicateKey | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (startOf(pair.key) === offset) {
        const name = keyText(pair.key);
        const first = node.items.find((other) => keyText(other.key) === name);
        return { path: [...path, name], firstOffset: startOf(first?.key) ?? offset };
      }
      const found = search(pair.value, [...path, keyText(pair.key)], offset);
      if (found !== undefined) return found;
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      const found = search(item, [...path, index], offset);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}
