/**
 * Items filed under strings, found by every key that is a prefix (or, reading from the end, a
 * suffix) of a text. A lookup walks the text once, one UTF-16 code unit per step, so its cost
 * depends on the text's length and not on how many keys are stored; code units are also what
 * `startsWith`/`endsWith` compare, so the trie agrees with them exactly.
 */
export interface StringTrie<T> {
  /** Files `item` under `key`; items under one key keep the order they were added in. */
  add(key: string, item: T): void;
  /** Pushes onto `out` the item list of every stored key that `text` starts (or ends) with. */
  collect(text: string, out: (readonly T[])[]): void;
}

interface TrieNode<T> {
  children: Map<number, TrieNode<T>> | undefined;
  items: T[] | undefined;
}

/**
 * Creates an empty trie: `"prefix"` finds keys that a text starts with, `"suffix"` keys that it
 * ends with (the same trie over reversed strings).
 *
 * @example
 * const trie = createStringTrie<string>("prefix");
 * trie.add("/orders", "a");
 * trie.add("/orders/eu", "b");
 * const found: (readonly string[])[] = [];
 * trie.collect("/orders/eu/1", found); // found: [["a"], ["b"]]
 */
export function createStringTrie<T>(direction: "prefix" | "suffix"): StringTrie<T> {
  const root: TrieNode<T> = { children: undefined, items: undefined };
  const fromEnd = direction === "suffix";
  return {
    add(key, item) {
      let node = root;
      for (let step = 0; step < key.length; step += 1) {
        const unit = key.charCodeAt(fromEnd ? key.length - 1 - step : step);
        node.children ??= new Map();
        let child = node.children.get(unit);
        if (child === undefined) {
          child = { children: undefined, items: undefined };
          node.children.set(unit, child);
        }
        node = child;
      }
      node.items ??= [];
      node.items.push(item);
    },
    collect(text, out) {
      if (root.items !== undefined) out.push(root.items);
      let node: TrieNode<T> | undefined = root;
      for (let step = 0; step < text.length; step += 1) {
        node = node.children?.get(text.charCodeAt(fromEnd ? text.length - 1 - step : step));
        if (node === undefined) return;
        if (node.items !== undefined) out.push(node.items);
      }
    },
  };
}
