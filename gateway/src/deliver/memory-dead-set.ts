import type { DeadJob } from "./delivery-queue.js";

/** Stale ids tolerated in the order before it is rebuilt: at least this many, and half of it. */
const MIN_STALE = 1_024;

/**
 * One subscription's dead jobs in the memory queue, by id and in id order (oldest first), so a
 * page of the dead set costs O(log n + its jobs) wherever it starts, not O(n log n): copying,
 * filtering and sorting every dead job for each page took 24 ms at 50,000 dead jobs, and paging
 * through them all grew with the square of their number.
 *
 * Jobs are mostly buried in id order; one buried out of order (a job that died after a younger
 * one) marks the order unsorted, and the next read sorts it once (an array sorted but for its end
 * sorts in linear time). A job that leaves keeps its id in the order (skipped when read) until the
 * stale ids are half of it, when it is rebuilt: O(1) amortized per removal, not a splice.
 *
 * @example
 * const set = new MemoryDeadSet();
 * set.add(job);
 * for (const dead of set.after(42)) page.push(dead);
 */
export class MemoryDeadSet {
  readonly #jobs = new Map<string, DeadJob>();
  /** Every job's id as a number, with stale ones (ids no longer in `#jobs`). */
  #order: number[] = [];
  #sorted = true;
  #stale = 0;

  get size(): number {
    return this.#jobs.size;
  }

  get(id: string): DeadJob | undefined {
    return this.#jobs.get(id);
  }

  has(id: string): boolean {
    return this.#jobs.has(id);
  }

  add(job: DeadJob): void {
    const id = Number(job.id);
    this.delete(job.id);
    this.#jobs.set(job.id, job);
    const last = this.#order[this.#order.length - 1];
    if (last !== undefined && id < last) this.#sorted = false;
    this.#order.push(id);
  }

  /** Removes the job; `true` when it was there. */
  delete(id: string): boolean {
    if (!this.#jobs.delete(id)) return false;
    this.#stale++;
    if (this.#stale >= MIN_STALE && this.#stale * 2 > this.#order.length) this.#compact();
    return true;
  }

  clear(): void {
    this.#jobs.clear();
    this.#order = [];
    this.#sorted = true;
    this.#stale = 0;
  }

  /** The jobs with an id above `from`, oldest first, read lazily. */
  *after(from: number): Generator<DeadJob> {
    this.#sort();
    const order = this.#order;
    for (let at = firstAbove(order, from); at < order.length; at++) {
      // A job buried again after a redrive has its id twice (side by side once sorted).
      if (at > 0 && order[at] === order[at - 1]) continue;
      const job = this.#jobs.get(String(order[at]));
      if (job !== undefined) yield job;
    }
  }

  /** The id of the newest job held, 0 when none. */
  newestId(): number {
    this.#sort();
    const order = this.#order;
    for (let at = order.length - 1; at >= 0; at--) {
      const id = order[at] as number;
      if (this.#jobs.has(String(id))) return id;
    }
    return 0;
  }

  /** Every job's id, oldest first. */
  ids(): string[] {
    return [...this.after(0)].map((job) => job.id);
  }

  #sort(): void {
    if (!this.#sorted) this.#compact();
  }

  /**
   * Keeps the ids of jobs still here, once each (a job redriven and buried again left its old
   * id behind), in ascending order.
   */
  #compact(): void {
    const order = this.#order.filter((id) => this.#jobs.has(String(id)));
    if (!this.#sorted) order.sort((a, b) => a - b);
    let kept = 0;
    for (const id of order) if (kept === 0 || order[kept - 1] !== id) order[kept++] = id;
    order.length = kept;
    this.#order = order;
    this.#sorted = true;
    this.#stale = 0;
  }
}

/** The index of the first number above `from` in the ascending `order` (binary search). */
function firstAbove(order: readonly number[], from: number): number {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((order[mid] as number) <= from) low = mid + 1;
    else high = mid;
  }
  return low;
}
