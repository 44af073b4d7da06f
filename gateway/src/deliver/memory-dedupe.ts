import { dedupeKey } from "../store/dedupe-window.js";

/**
 * The dedupe keys of an in-memory queue: `source` + `id` pairs with the time they expire.
 *
 * Memory is bounded twice: a key is forgotten once its window has passed (expired keys are swept
 * from the oldest end on every `claim`, O(1) amortised, since a `Map` iterates in insertion order
 * and every key gets the same window), and at most `maxKeys` are held: beyond that the oldest are
 * forgotten early, so at most `maxKeys` keys (about 150 bytes each) live at once and dedupe
 * covers min(window, the last `maxKeys` events).
 *
 * @example
 * const keys = new DedupeKeys(60_000, 100_000);
 * keys.claim("/orders", "1", now); // true: first time
 * keys.claim("/orders", "1", now); // false: a duplicate
 */
export class DedupeKeys {
  /** Key -> expiry (epoch ms), oldest first. */
  readonly #keys = new Map<string, number>();

  constructor(
    readonly windowMs: number,
    readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.#keys.size;
  }

  /** Records the pair unless it is held and unexpired; says whether it was recorded. */
  claim(source: string, id: string, now: number): boolean {
    this.#sweep(now);
    const key = dedupeKey(source, id);
    const expiry = this.#keys.get(key);
    if (expiry !== undefined && expiry > now) return false;
    // Deleted first so a renewed key moves to the young end and the order stays by expiry.
    this.#keys.delete(key);
    if (this.windowMs <= 0) return true;
    this.#keys.set(key, now + this.windowMs);
    if (this.#keys.size > this.maxKeys) this.#forgetOldest();
    return true;
  }

  #sweep(now: number): void {
    for (const [key, expiry] of this.#keys) {
      if (expiry > now) return;
      this.#keys.delete(key);
    }
  }

  #forgetOldest(): void {
    for (const key of this.#keys.keys()) {
      this.#keys.delete(key);
      return;
    }
  }
}
