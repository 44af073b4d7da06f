import { MinHeap } from "./min-heap.js";

/**
 * Records ordered by `at`, like `MinHeap`, but O(1) for the common case: records that arrive in
 * time order (lease expiries, `now + leaseMs` with one lease duration) go to a FIFO line, and only
 * one earlier than the line's last record (a retry due sooner) goes to a heap. `peek` and `pop`
 * take the earlier of the two fronts.
 *
 * @example
 * const line = new TimeLine<{ at: number; id: string }>();
 * line.push({ at: 10, id: "a" });
 * line.push({ at: 20, id: "b" }); // appended: no sift
 * line.push({ at: 5, id: "c" }); // out of order: into the heap
 * line.pop(); // { at: 5, id: "c" }
 */
export class TimeLine<T extends { readonly at: number }> {
  #line: T[] = [];
  #head = 0;
  readonly #heap = new MinHeap<T>();

  get size(): number {
    return this.#line.length - this.#head + this.#heap.size;
  }

  peek(): T | undefined {
    const first = this.#line[this.#head];
    const top = this.#heap.peek();
    if (first === undefined) return top;
    return top !== undefined && top.at < first.at ? top : first;
  }

  push(item: T): void {
    const line = this.#line;
    const last = line[line.length - 1];
    if (line.length === this.#head || (last as T).at <= item.at) line.push(item);
    else this.#heap.push(item);
  }

  pop(): T | undefined {
    const first = this.#line[this.#head];
    const top = this.#heap.peek();
    if (first === undefined || (top !== undefined && top.at < first.at)) return this.#heap.pop();
    this.#head++;
    if (this.#head === this.#line.length) {
      this.#line = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#line.length) {
      // Drop the consumed front once it is most of the array.
      this.#line = this.#line.slice(this.#head);
      this.#head = 0;
    }
    return first;
  }

  /** Keeps only the records `keep` accepts (used to drop records that went stale). */
  filter(keep: (item: T) => boolean): void {
    const line: T[] = [];
    for (let i = this.#head; i < this.#line.length; i++) {
      const item = this.#line[i] as T;
      if (keep(item)) line.push(item);
    }
    this.#line = line;
    this.#head = 0;
    this.#heap.filter(keep);
  }
}
