import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createStringTrie } from "./string-trie.js";

function found(trie: ReturnType<typeof createStringTrie<string>>, text: string): string[][] {
  const out: (readonly string[])[] = [];
  trie.collect(text, out);
  return out.map((list) => [...list]);
}

describe("createStringTrie", () => {
  it("prefix: finds every key the text starts with, shortest first, items in insertion order", () => {
    const trie = createStringTrie<string>("prefix");
    trie.add("ab", "ab-1");
    trie.add("a", "a");
    trie.add("ab", "ab-2");
    trie.add("abd", "abd");
    trie.add("b", "b");
    expect(found(trie, "abc")).toStrictEqual([["a"], ["ab-1", "ab-2"]]);
    expect(found(trie, "ab")).toStrictEqual([["a"], ["ab-1", "ab-2"]]);
    expect(found(trie, "xab")).toStrictEqual([]);
    expect(found(trie, "")).toStrictEqual([]);
  });

  it("suffix: finds every key the text ends with, shortest first", () => {
    const trie = createStringTrie<string>("suffix");
    trie.add(".created", "created");
    trie.add("d", "d");
    trie.add("order.created", "order");
    expect(found(trie, "com.order.created")).toStrictEqual([["d"], ["created"], ["order"]]);
    expect(found(trie, "created")).toStrictEqual([["d"]]);
    expect(found(trie, "created.x")).toStrictEqual([]);
  });

  it("compares UTF-16 code units, as startsWith and endsWith do", () => {
    const trie = createStringTrie<string>("prefix");
    trie.add("\u{1F600}", "emoji");
    trie.add("\uD83D", "high surrogate");
    expect(found(trie, "\u{1F600}!")).toStrictEqual([["high surrogate"], ["emoji"]]);
    expect("\u{1F600}!".startsWith("\uD83D")).toBe(true);
  });

  it("agrees with startsWith and endsWith on random keys and texts", () => {
    // Two letters and a lone surrogate: keys share long prefixes, so labels get split often.
    const text = fc.string({ unit: fc.constantFrom("a", "b", "\uD83D"), maxLength: 6 });
    fc.assert(
      fc.property(
        fc.constantFrom("prefix" as const, "suffix" as const),
        fc.array(
          text.filter((k) => k !== ""),
          { maxLength: 12 },
        ),
        fc.array(text, { minLength: 1, maxLength: 6 }),
        (direction, keys, texts) => {
          const trie = createStringTrie<number>(direction);
          for (const [i, key] of keys.entries()) trie.add(key, i);
          for (const t of texts) {
            const expected = keys
              .map((key, i) => ({ key, i }))
              .filter(({ key }) => (direction === "prefix" ? t.startsWith(key) : t.endsWith(key)))
              .sort((x, y) => x.key.length - y.key.length || x.i - y.i)
              .map(({ i }) => i);
            const out: (readonly number[])[] = [];
            trie.collect(t, out);
            expect(out.flat()).toStrictEqual(expected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("createStringTrie remove", () => {
  it("finds what is left, and holds no node for removed keys", () => {
    for (const direction of ["prefix", "suffix"] as const) {
      const trie = createStringTrie<string>(direction);
      trie.add("abc", "keep");
      const before = trie.nodes();
      const keys = ["a", "ab", "abcd", "abce", "abx", "b", "abc"];
      for (const key of keys)
        trie.add(direction === "prefix" ? key : [...key].reverse().join(""), key);
      for (const key of keys)
        trie.remove(direction === "prefix" ? key : [...key].reverse().join(""), key);
      trie.remove("zzz", "nothing");
      expect(trie.nodes()).toBe(before);
      const found: (readonly string[])[] = [];
      trie.collect(direction === "prefix" ? "abcdef" : "fedabc", found);
      expect(found).toStrictEqual([["keep"]]);
    }
  });
});
