import { dedupeKey } from "../store/dedupe-window.js";

/**
 * The dedupe keys of an in-memory queue: `source` + `id` pairs with the time they expire.
 *
 * Memory is bounded twice: a key is forgotten once its window has passed, and at most `maxKeys`
 * are held: beyond that the oldest are forgotten early, so at most `maxKeys` keys (about 150 bytes
 * each) live at once and dedupe covers min(window, the last `maxKeys` events).
 *
 * Every key gets the same window, so the order keys are recorded in is the order they expire in:
 * a FIFO of (key, expiry) beside the lookup `Map` gives the oldest in O(1). The `Map`'s own
 * insertion order is not used for that: V8 leaves a deleted entry's slot in place until the table
 * is rebuilt, so taking the first key of a `Map` whose oldest keys keep being deleted walks every
 * slot deleted so far (at 100,000 keys that cost ~85 µs per claim after 200,000 events, ~420 µs
 * after 300,000).
 *
 * @example
 * const keys = new DedupeKeys(60_000, 100_000);
 * keys.claim("/orders", "1", now); // true: first time
 * keys.claim("/orders", "1", now); // false: a duplicate
 */
export class DedupeKeys {
  /** Key -> expiry (epoch ms). */
  readonly #expiries = new Map<string, number>();
  /**
   * The keys in the order they were recorded (so by expiry), from `#head` on, each with the
   * expiry it was recorded with: an entry whose key is no longer held with that expiry is stale.
   */
  #order: string[] = [];
  #orderExpiries: number[] = [];
  #head = 0;

  constructor(
    readonly windowMs: number,
    readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.#expiries.size;
  }

  /** Records the pair unless it is held and unexpired; says whether it was recorded. */
  claim(source: string, id: string, now: number): boolean {
    this.#sweep(now);
    const key = dedupeKey(source, id);
    const expiry = this.#expiries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    if (this.windowMs <= 0) {
      this.#expiries.delete(key);
      return true;
    }
    const until = now + this.windowMs;
    this.#expiries.set(key, until);
    this.#order.push(key);
    this.#orderExpiries.push(until);
    if (this.#expiries.size > this.maxKeys) this.#forgetOldest();
    return true;
  }

  /** Forgets the keys whose window has passed, oldest first. */
  #sweep(now: number): void {
    while (this.#head < this.#order.length) {
      const until = this.#orderExpiries[this.#head] as number;
      if (until > now) break;
      this.#drop(this.#head++);
    }
    this.#compact();
  }

  /** Forgets the oldest key still held. */
  #forgetOldest(): void {
    while (this.#head < this.#order.length) {
      if (this.#drop(this.#head++)) break;
    }
    this.#compact();
  }

  /** Forgets the key of one FIFO entry unless the entry is stale; says whether it forgot it. */
  #drop(index: number): boolean {
    const key = this.#order[index] as string;
    if (this.#expiries.get(key) !== this.#orderExpiries[index]) return false;
    this.#expiries.delete(key);
    return true;
  }

  /** Drops the FIFO's consumed head once it is at least half of it (amortised O(1)). */
  #compact(): void {
    if (this.#head < 1024 || this.#head * 2 < this.#order.length) return;
    this.#order = this.#order.slice(this.#head);
    this.#orderExpiries = this.#orderExpiries.slice(this.#head);
    this.#head = 0;
  }
}
