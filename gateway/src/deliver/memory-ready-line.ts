/** A job that became due: its id, subscription and the entry token it was queued under. */
export interface ReadySlot {
  readonly id: string;
  readonly subscriptionId: string;
  /** Rises with every state change of any job, so it also orders slots by when they came due. */
  readonly token: number;
}

interface Line {
  slots: ReadySlot[];
  head: number;
}

/**
 * Due jobs in the order they came due, with a way to pass over the jobs of skipped subscriptions
 * without scanning them again on every lease. One FIFO line holds them; a lease that meets a job
 * of a skipped subscription moves it to that subscription's parked line (each job is moved at most
 * once). Every parked job came due before every job still in the main line, so a lease takes the
 * parked jobs of the subscriptions it does not skip first (merged by token), then the main line.
 * Taking k jobs costs O(k + p) for p parked subscriptions, not O(due jobs of skipped ones).
 *
 * Slots go stale when their job changes state; `isCurrent` tells, and stale slots are dropped
 * as they are met.
 *
 * @example
 * const line = new ReadyLine((slot) => entries.get(slot.id)?.token === slot.token);
 * line.push({ id: "1", subscriptionId: "a", token: 1 });
 * line.take(10, new Set(["a"]), (slot) => leased.push(slot)); // nothing: "a" is skipped
 */
export class ReadyLine {
  readonly #main: Line = { slots: [], head: 0 };
  readonly #parked = new Map<string, Line>();

  constructor(private readonly isCurrent: (slot: ReadySlot) => boolean) {}

  push(slot: ReadySlot): void {
    this.#main.slots.push(slot);
  }

  /** Forgets the parked jobs of a subscription whose jobs were all dropped. */
  forget(subscriptionId: string): void {
    this.#parked.delete(subscriptionId);
  }

  /** Calls `use` for up to `max` current slots not in `skip`, oldest first; returns how many. */
  take(max: number, skip: ReadonlySet<string> | undefined, use: (slot: ReadySlot) => void): number {
    let taken = 0;
    if (this.#parked.size > 0) taken = this.#takeParked(max, skip, use);
    const main = this.#main;
    while (taken < max && main.head < main.slots.length) {
      const slot = main.slots[main.head++] as ReadySlot;
      if (!this.isCurrent(slot)) continue;
      if (skip?.has(slot.subscriptionId)) {
        this.#park(slot);
        continue;
      }
      use(slot);
      taken++;
    }
    compact(main);
    return taken;
  }

  #park(slot: ReadySlot): void {
    const line = this.#parked.get(slot.subscriptionId);
    if (line === undefined) this.#parked.set(slot.subscriptionId, { slots: [slot], head: 0 });
    else line.slots.push(slot);
  }

  #takeParked(
    max: number,
    skip: ReadonlySet<string> | undefined,
    use: (slot: ReadySlot) => void,
  ): number {
    const open: [string, Line][] = [];
    for (const entry of this.#parked) if (!skip?.has(entry[0])) open.push(entry);
    let taken = 0;
    while (taken < max) {
      let best: Line | undefined;
      for (const [subscriptionId, line] of open) {
        const head = this.#currentHead(line);
        if (head === undefined) {
          this.#parked.delete(subscriptionId);
          continue;
        }
        if (best === undefined || head.token < (best.slots[best.head] as ReadySlot).token) {
          best = line;
        }
      }
      if (best === undefined) break;
      use(best.slots[best.head++] as ReadySlot);
      taken++;
    }
    for (const [, line] of open) compact(line);
    return taken;
  }

  #currentHead(line: Line): ReadySlot | undefined {
    while (line.head < line.slots.length) {
      const slot = line.slots[line.head] as ReadySlot;
      if (this.isCurrent(slot)) return slot;
      line.head++;
    }
    return undefined;
  }
}

/** Drops a line's consumed front once it is most of the array. */
function compact(line: Line): void {
  if (line.head === line.slots.length) {
    line.slots = [];
    line.head = 0;
  } else if (line.head > 1024 && line.head * 2 > line.slots.length) {
    line.slots = line.slots.slice(line.head);
    line.head = 0;
  }
}
