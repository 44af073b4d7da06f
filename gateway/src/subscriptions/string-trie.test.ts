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
});
