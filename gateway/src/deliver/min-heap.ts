/**
 * A binary min-heap of records ordered by `at` (ties in insertion order are not guaranteed).
 * Used for due times and lease expiries, so the next one is found in O(1) and each change costs
 * O(log n).
 *
 * @example
 * const heap = new MinHeap<{ at: number; id: string }>();
 * heap.push({ at: 20, id: "b" });
 * heap.push({ at: 10, id: "a" });
 * heap.pop(); // { at: 10, id: "a" }
 */
export class MinHeap<T extends { readonly at: number }> {
  #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as T).at <= item.at) break;
      items[i] = items[parent] as T;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child =
        right < items.length && (items[right] as T).at < (items[left] as T).at ? right : left;
      if ((items[child] as T).at >= last.at) break;
      items[i] = items[child] as T;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Keeps only the records `keep` accepts (used to drop records that went stale). */
  filter(keep: (item: T) => boolean): void {
    const kept = this.#items.filter(keep);
    this.#items = [];
    for (const item of kept) this.push(item);
  }
}
