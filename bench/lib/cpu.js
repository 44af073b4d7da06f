// CPU accounting from /proc (Linux), to tell whether the system under test was the bottleneck:
// its own process near 100% of one core means it was saturated; the load core near 100% means the
// load generator (wrk + sink) may have been the limit instead. Elsewhere every reading is undefined.
import { readFileSync } from "node:fs";

/** Jiffies per second; 100 on every Linux configuration Node supports. */
const HZ = 100;

/** @returns {Map<number, { busy: number, total: number }> | undefined} per-core jiffies */
export function coreTimes() {
  try {
    /** @type {Map<number, { busy: number, total: number }>} */
    const cores = new Map();
    for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
      const m = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (m === null) continue;
      const f = /** @type {string} */ (m[2]).split(/\s+/).map(Number);
      // user nice system idle iowait irq softirq steal ...
      const idle = (f[3] ?? 0) + (f[4] ?? 0);
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
      cores.set(Number(m[1]), { busy: total - idle, total });
    }
    return cores;
  } catch {
    return undefined;
  }
}

/**
 * Busy percentage of `core` between two coreTimes() samples.
 * @param {ReturnType<typeof coreTimes>} before
 * @param {ReturnType<typeof coreTimes>} after
 * @param {number} core
 */
export function coreBusyPct(before, after, core) {
  const a = before?.get(core);
  const b = after?.get(core);
  if (a === undefined || b === undefined || b.total === a.total) return undefined;
  return round1((100 * (b.busy - a.busy)) / (b.total - a.total));
}

/**
 * CPU seconds (user + system) a process has used so far.
 * @param {number} pid
 */
export function processCpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / HZ;
  } catch {
    return undefined;
  }
}

/** @param {number} x */
export function round1(x) {
  return Math.round(x * 10) / 10;
}
