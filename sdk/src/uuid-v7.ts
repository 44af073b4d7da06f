const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

let lastMs = -1;
let counter = 0;
// Random bytes are drawn 4 KiB at a time: one getRandomValues call per 256 ids, not per id
// (it is a system call and a large share of an id's cost).
const pool = new Uint8Array(4096);
let used = pool.length;

function randomBytes(): Uint8Array {
  if (used === pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  used += 16;
  return pool.subarray(used - 16, used);
}

/**
 * A UUIDv7 (RFC 9562 5.7): 48 bits of Unix milliseconds, then a 12-bit counter in `rand_a`
 * (6.2 method 1) so ids made in the same millisecond still sort in creation order, then 62 random
 * bits. Time-ordered ids keep the gateway's store and dedupe index append-mostly. The counter
 * starts at a random value below 2048 each millisecond; if it ever runs out, the timestamp moves
 * on by one millisecond (6.2: never go backwards).
 *
 * @example
 * uuidv7(); // "01933b4e-8f2a-7c41-9d3e-5b6a1f0c2e7d"
 */
export function uuidv7(nowMs: number = Date.now()): string {
  const bytes = randomBytes();
  let ms = Math.floor(nowMs);
  if (ms > lastMs) {
    counter = ((bytes[6]! & 0x07) << 8) | bytes[7]!;
  } else {
    ms = lastMs;
    counter++;
    if (counter > 0xfff) {
      ms++;
      counter = 0;
    }
  }
  lastMs = ms;
  // 48-bit big-endian milliseconds: division keeps the bits above 2^32 (no 64-bit shifts in JS),
  // and a Uint8Array keeps the low 8 bits of what it is given.
  for (let i = 0; i < 6; i++) bytes[i] = Math.floor(ms / 2 ** (40 - 8 * i));
  bytes[6] = 0x70 | (counter >>> 8);
  bytes[7] = counter;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  let out = "";
  for (let i = 0; i < 16; i++) {
    // A dash before bytes 4, 6, 8 and 10: the bits of 0x550.
    if ((0x550 >> i) & 1) out += "-";
    out += HEX[bytes[i]!];
  }
  return out;
}
