/**
 * A bounded set of keys that forgets the oldest first: `add` past `max` drops the key added
 * longest ago. The order lives in a FIFO beside the `Set`, not in the `Set`'s own insertion
 * order: V8 keeps a deleted entry's slot until the table is rebuilt, so taking the first value of
 * a `Set` whose oldest values keep being deleted walks every slot deleted so far (~8 µs per add
 * at 10,000 keys, against ~0.1 µs this way).
 *
 * @example
 * const acks = new RememberedKeys(10_000);
 * acks.add("message-1 job-7");
 * acks.has("message-1 job-7"); // true, until 10,000 newer keys were added
 */
export class RememberedKeys {
  readonly #keys = new Set<string>();
  #order: string[] = [];
  #head = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new TypeError("RememberedKeys: max must be a positive integer");
    }
  }

  get size(): number {
    return this.#keys.size;
  }

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** Remembers `key` (a key already held keeps its place); forgets the oldest past `max`. */
  add(key: string): void {
    if (this.#keys.has(key)) return;
    this.#keys.add(key);
    this.#order.push(key);
    if (this.#keys.size <= this.max) return;
    this.#keys.delete(this.#order[this.#head++] as string);
    if (this.#head >= 1024 && this.#head * 2 >= this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }
}
