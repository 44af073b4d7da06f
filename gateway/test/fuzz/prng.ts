/**
 * A small seeded PRNG (mulberry32) with the helpers the HTTP fuzzer draws from: the same seed
 * gives the same requests, so a failure is replayed with `HERALD_FUZZ_SEED`.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Another generator seeded from this one (for a sub-stream that does not shift the rest). */
  fork(): Prng {
    return new Prng(Math.floor(this.next() * 4_294_967_296));
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(0, 255);
    return out;
  }

  /** A string of `n` characters drawn from `alphabet`. */
  text(n: number, alphabet: string): string {
    const chars = [...alphabet];
    let out = "";
    for (let i = 0; i < n; i++) out += this.pick(chars);
    return out;
  }

  /** Some `length` ASCII letters and digits. */
  word(min = 1, max = 8): string {
    return this.text(this.int(min, max), "abcdefghijklmnopqrstuvwxyz0123456789");
  }

  /** A string of hostile characters: controls, NUL, BOM, lone surrogates, noncharacters, emoji. */
  oddText(max = 12): string {
    const pieces = [
      "\u0000",
      "\u0001",
      "\u001b[2J",
      "\u007f",
      "\u0085",
      "\ufeff",
      "\ud800",
      "\udc00",
      "\ud83d\ude00",
      "\ufffe",
      "\uffff",
      "\u2028",
      "€",
      "é",
      "%",
      "%2",
      "%zz",
      "%00",
      "%C3%A9",
      "%E2%82%AC",
      "%ED%A0%80",
      "%FF",
      '"',
      "\\",
      "\r",
      "\n",
      "\t",
      " ",
      ",",
      ";",
      "=",
      "/",
      "..",
      "*",
      "'",
      "<",
      "a",
      "Z",
      "0",
    ];
    let out = "";
    const n = this.int(0, max);
    for (let i = 0; i < n; i++) out += this.pick(pieces);
    return out;
  }
}
