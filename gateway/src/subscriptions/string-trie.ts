/**
 * Items filed under strings, found by every key that is a prefix (or, reading from the end, a
 * suffix) of a text. A lookup walks the text once, so its cost depends on the text's length and
 * not on how many keys are stored. Keys are compared by UTF-16 code units, as `startsWith` and
 * `endsWith` compare them, so the trie agrees with those exactly.
 */
export interface StringTrie<T> {
  /**
   * Files `item` under `key`; items under one key keep the order they were added in, or the one
   * `place` puts `item` in among them.
   */
  add(key: string, item: T, place?: (items: T[], item: T) => void): void;
  /**
   * Takes `item` out from under `key` (nothing when it is not there). Nodes left without items
   * or children go, and a chain left without a branch is one node again, so a trie through which
   * many short-lived keys passed holds what its present keys need, not one node per key it held.
   */
  remove(key: string, item: T): void;
  /** Pushes onto `out` the item list of every stored key that `text` starts (or ends) with. */
  collect(text: string, out: (readonly T[])[]): void;
  /** How many nodes the trie holds, the root included (for tests). */
  nodes(): number;
}

interface TrieNode<T> {
  /** The code units from the parent to this node, in reading order (reversed for a suffix trie). */
  label: string;
  /** `label` as it appears in the text (the same for a prefix trie), compared natively. */
  inText: string;
  /** Children by the first code unit of their label. */
  children: Map<number, TrieNode<T>> | undefined;
  items: T[] | undefined;
}

/**
 * Creates an empty trie: `"prefix"` finds keys that a text starts with, `"suffix"` keys that it
 * ends with (the same trie over reversed strings). Chains without branches are one node (a radix
 * trie), so a lookup takes a few map probes and native string compares, not one per character.
 *
 * @example
 * const trie = createStringTrie<string>("prefix");
 * trie.add("/orders", "a");
 * trie.add("/orders/eu", "b");
 * const found: (readonly string[])[] = [];
 * trie.collect("/orders/eu/1", found); // found: [["a"], ["b"]]
 */
export function createStringTrie<T>(direction: "prefix" | "suffix"): StringTrie<T> {
  const fromEnd = direction === "suffix";
  const reading = (text: string) => (fromEnd ? reverse(text) : text);
  const node = (label: string, children: TrieNode<T>["children"], items: T[] | undefined) => ({
    label,
    inText: reading(label),
    children,
    items,
  });
  const root: TrieNode<T> = node("", undefined, undefined);
  // The label of `child` starts `read` characters into `text` (in reading order) when this holds.
  const continues = (text: string, read: number, child: TrieNode<T>) =>
    fromEnd ? text.endsWith(child.inText, text.length - read) : text.startsWith(child.inText, read);
  return {
    add(key, item, place) {
      const units = reading(key);
      let at: TrieNode<T> = root;
      let read = 0;
      while (read < units.length) {
        const child = at.children?.get(units.charCodeAt(read));
        if (child === undefined) {
          at.children ??= new Map();
          at.children.set(units.charCodeAt(read), node(units.slice(read), undefined, [item]));
          return;
        }
        let common = 1;
        while (
          common < child.label.length &&
          read + common < units.length &&
          child.label.charCodeAt(common) === units.charCodeAt(read + common)
        ) {
          common += 1;
        }
        if (common < child.label.length) {
          // The key leaves (or ends inside) the child's label: split the label there.
          const lower = node(child.label.slice(common), child.children, child.items);
          child.label = child.label.slice(0, common);
          child.inText = reading(child.label);
          child.children = new Map([[lower.label.charCodeAt(0), lower]]);
          child.items = undefined;
        }
        at = child;
        read += common;
      }
      at.items ??= [];
      if (place === undefined) at.items.push(item);
      else place(at.items, item);
    },
    remove(key, item) {
      const units = reading(key);
      const path: TrieNode<T>[] = [root];
      let at = root;
      let read = 0;
      while (read < units.length) {
        const child = at.children?.get(units.charCodeAt(read));
        if (child === undefined || !units.startsWith(child.label, read)) return;
        at = child;
        read += child.label.length;
        path.push(at);
      }
      const i = at.items?.indexOf(item) ?? -1;
      if (at.items === undefined || i < 0) return;
      at.items.splice(i, 1);
      if (at.items.length === 0) at.items = undefined;
      // Tidy up from the node upwards: drop empty leaves, merge a lone child into its parent.
      for (let depth = path.length - 1; depth > 0; depth -= 1) {
        const node = path[depth] as TrieNode<T>;
        const parent = path[depth - 1] as TrieNode<T>;
        if (node.items !== undefined) break;
        const size = node.children?.size ?? 0;
        if (size === 0) {
          parent.children?.delete(node.label.charCodeAt(0));
          if (parent.children?.size === 0) parent.children = undefined;
          continue;
        }
        if (size === 1) {
          const [only] = (node.children as Map<number, TrieNode<T>>).values() as Iterable<
            TrieNode<T>
          >;
          if (only !== undefined) {
            node.label += only.label;
            node.inText = reading(node.label);
            node.children = only.children;
            node.items = only.items;
          }
        }
        break;
      }
    },
    nodes() {
      let count = 0;
      const stack = [root];
      for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
        count += 1;
        if (node.children !== undefined) stack.push(...node.children.values());
      }
      return count;
    },
    collect(text, out) {
      let at = root;
      let read = 0;
      for (;;) {
        if (at.items !== undefined) out.push(at.items);
        if (read >= text.length) return;
        const unit = text.charCodeAt(fromEnd ? text.length - 1 - read : read);
        const child = at.children?.get(unit);
        if (child === undefined || !continues(text, read, child)) return;
        at = child;
        read += child.label.length;
      }
    },
  };
}

/** Reverses a string by UTF-16 code units (what endsWith compares), not by code points. */
function reverse(text: string): string {
  let out = "";
  for (let i = text.length - 1; i >= 0; i -= 1) out += text.charAt(i);
  return out;
}
