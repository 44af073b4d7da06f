import type { EventParts } from "../../store/event-codec.js";

/**
 * A job of the SQLite queue that is due and known only here, not to the file's due-time indexes:
 * accepted by this process and not handed out yet, or handed back by an expired lease.
 */
export interface FreshJob {
  readonly id: number;
  readonly subscriptionId: string;
  /** When it became due: its accept, or the expiry of the lease that held it. */
  readonly due: number;
  /** Its encoded event when kept here (see `FreshJobs`); else it is read from the file. */
  readonly event: EventParts | undefined;
  /**
   * Handed out before and back from an expired lease: no longer fresh for back-pressure, and its
   * holder may have settled it since, so its row is checked when it is handed out again.
   */
  readonly returned: boolean;
}

/** One subscription's jobs in due order: an array read from `head`, compacted as it drains. */
interface Line {
  readonly subscriptionId: string;
  jobs: FreshJob[];
  head: number;
  /** Its place in the heap of line heads; `PARKED` while set aside for the skip set. */
  at: number;
}

/** `Line.at` of a line set aside because the current skip set holds its subscription. */
const PARKED = -1;

const NO_SKIP: ReadonlySet<string> = new Set();

/**
 * The in-memory side of the SQLite queue's fast path. A job accepted here is written with due
 * time 0, which keeps it out of the partial due-time indexes (no index writes on accept, none on
 * complete, no index read per lease), and waits here instead, one line per subscription in due
 * order. At most `maxJobs` wait here (the queue writes further jobs as indexed, due rows); the
 * encoded events of at most `maxEventJobs` of them and `maxEventBytes` bytes are kept, so that a
 * job handed out moments after its accept is not read back from the file. After a restart the
 * store makes every job of due time 0 an indexed due row again.
 *
 * The lines sit in a min-heap by their first job, so the earliest job is found in O(1) and taking
 * it costs O(log S) for S subscriptions with jobs here, not a walk over all of them. A line of a
 * skipped subscription met at the top is parked aside (one pop per line, not per job) until a
 * call with another skip set, which puts back those it no longer skips.
 *
 * @example
 * const fresh = new FreshJobs({ maxJobs: 16_384, maxEventJobs: 16_384, maxEventBytes: 8 << 20 });
 * fresh.add(7, "audit", now, parts);
 * fresh.earliest(new Set()); // job 7
 */
export class FreshJobs {
  readonly #lines = new Map<string, Line>();
  /** The lines not parked, as a binary min-heap by their first job (`before`). */
  readonly #heap: Line[] = [];
  /** The lines parked because `#skip` holds their subscription. */
  readonly #parked = new Set<Line>();
  /** The skip set of the last `earliest`: every parked line's subscription is in it. */
  #skip: ReadonlySet<string> = NO_SKIP;
  readonly #maxJobs: number;
  readonly #maxEventJobs: number;
  readonly #maxEventBytes: number;
  #size = 0;
  #eventJobs = 0;
  #eventBytes = 0;

  constructor(limits: {
    readonly maxJobs: number;
    readonly maxEventJobs: number;
    readonly maxEventBytes: number;
  }) {
    this.#maxJobs = limits.maxJobs;
    this.#maxEventJobs = limits.maxEventJobs;
    this.#maxEventBytes = limits.maxEventBytes;
  }

  /** Jobs waiting here. */
  get size(): number {
    return this.#size;
  }

  /**
   * Whether one more job may wait here after the `n` already on their way (the limit is soft:
   * the accepts of one group commit are all checked against the count before any of them is
   * added, so a group may overshoot it by its own jobs).
   */
  hasRoomFor(n: number): boolean {
    return this.#size + n < this.#maxJobs;
  }

  /**
   * Adds a job just accepted after the others of its subscription (a job accepted later is due
   * no earlier). Its event is kept only within the limits, as a copy: the accepted bytes may be a
   * view into a larger buffer (the request's).
   */
  add(id: number, subscriptionId: string, due: number, event: EventParts | undefined): void {
    const job: FreshJob = {
      id,
      subscriptionId,
      due,
      event: event === undefined ? undefined : this.#keep(event),
      returned: false,
    };
    const line = this.#lines.get(subscriptionId);
    // Behind the others: the line's first job, and so its place, stays.
    if (line !== undefined) line.jobs.push(job);
    else this.#open(subscriptionId, job);
    this.#size++;
  }

  /**
   * Puts back a job handed out from here whose lease expired at `due`, in due order among the
   * waiting ones (rare: a delivery that outlived its lease). Its event is read from the file again.
   */
  putBack(id: number, subscriptionId: string, due: number): void {
    const job: FreshJob = { id, subscriptionId, due, event: undefined, returned: true };
    this.#size++;
    const line = this.#lines.get(subscriptionId);
    if (line === undefined) {
      this.#open(subscriptionId, job);
      return;
    }
    let at = line.jobs.length;
    while (at > line.head && before(job, line.jobs[at - 1] as FreshJob)) at--;
    line.jobs.splice(at, 0, job);
    if (at === line.head && line.at !== PARKED) this.#up(line);
  }

  /**
   * The earliest waiting job of the subscriptions not in `skip` (due order: `before`). `skip` is
   * told apart from the last call's by identity: a set passed again must hold the same
   * subscriptions (pass a new set when they change). A skipped line met at the top is parked
   * until then, so a lease that skips k subscriptions pays for them once, not once per job.
   */
  earliest(skip: ReadonlySet<string>): FreshJob | undefined {
    if (skip !== this.#skip) this.#skipping(skip);
    const heap = this.#heap;
    for (;;) {
      const top = heap[0];
      if (top === undefined) return undefined;
      if (skip.size === 0 || !skip.has(top.subscriptionId)) return top.jobs[top.head];
      this.#leave(top);
      this.#parked.add(top);
    }
  }

  /** Takes the earliest waiting job of `subscriptionId` (one `earliest` just gave). */
  shift(subscriptionId: string): FreshJob | undefined {
    const line = this.#lines.get(subscriptionId);
    if (line === undefined) return undefined;
    const job = line.jobs[line.head] as FreshJob;
    line.jobs[line.head] = undefined as unknown as FreshJob;
    line.head++;
    this.#size--;
    if (line.head === line.jobs.length) this.#close(line);
    else {
      if (line.head >= 1024 && line.head * 2 >= line.jobs.length) {
        line.jobs = line.jobs.slice(line.head);
        line.head = 0;
      }
      // Its next job is due no earlier: the line can only sink.
      if (line.at !== PARKED) this.#down(line);
    }
    this.#release(job);
    return job;
  }

  /** The ids of the subscription's waiting jobs up to `upTo`. */
  idsOf(subscriptionId: string, upTo: number): number[] {
    const line = this.#lines.get(subscriptionId);
    if (line === undefined) return [];
    const ids: number[] = [];
    for (let i = line.head; i < line.jobs.length; i++) {
      const { id } = line.jobs[i] as FreshJob;
      if (id <= upTo) ids.push(id);
    }
    return ids;
  }

  /** Forgets the subscription's waiting jobs whose id is in `ids`. */
  remove(subscriptionId: string, ids: ReadonlySet<number>): void {
    const line = this.#lines.get(subscriptionId);
    if (line === undefined) return;
    const kept: FreshJob[] = [];
    for (let i = line.head; i < line.jobs.length; i++) {
      const job = line.jobs[i] as FreshJob;
      if (ids.has(job.id)) {
        this.#release(job);
        this.#size--;
      } else kept.push(job);
    }
    line.jobs = kept;
    line.head = 0;
    // Its first job is the same or a later one: the line can only sink.
    if (kept.length === 0) this.#close(line);
    else if (line.at !== PARKED) this.#down(line);
  }

  /** Forgets every waiting job of a subscription. */
  drop(subscriptionId: string): void {
    const line = this.#lines.get(subscriptionId);
    if (line === undefined) return;
    for (let i = line.head; i < line.jobs.length; i++) this.#release(line.jobs[i] as FreshJob);
    this.#size -= line.jobs.length - line.head;
    this.#close(line);
  }

  /** Starts the line of a subscription with no job here, in the heap or parked. */
  #open(subscriptionId: string, job: FreshJob): void {
    const line: Line = { subscriptionId, jobs: [job], head: 0, at: PARKED };
    this.#lines.set(subscriptionId, line);
    if (this.#skip.size > 0 && this.#skip.has(subscriptionId)) this.#parked.add(line);
    else this.#enter(line);
  }

  /** Forgets a line that emptied. */
  #close(line: Line): void {
    this.#lines.delete(line.subscriptionId);
    if (line.at === PARKED) this.#parked.delete(line);
    else this.#leave(line);
  }

  /** Puts back the parked lines that `skip` no longer skips, and remembers it. */
  #skipping(skip: ReadonlySet<string>): void {
    this.#skip = skip;
    for (const line of this.#parked) {
      if (skip.has(line.subscriptionId)) continue;
      this.#parked.delete(line);
      this.#enter(line);
    }
  }

  #enter(line: Line): void {
    line.at = this.#heap.length;
    this.#heap.push(line);
    if (line.at > 0) this.#up(line);
  }

  /** Takes a line out of the heap, wherever it is. */
  #leave(line: Line): void {
    const heap = this.#heap;
    const last = heap.pop() as Line;
    if (last !== line) {
      heap[line.at] = last;
      last.at = line.at;
      this.#up(last);
      this.#down(last);
    }
    line.at = PARKED;
  }

  /** Moves a line towards the top while its first job is due before its parent's. */
  #up(line: Line): void {
    const heap = this.#heap;
    const head = line.jobs[line.head] as FreshJob;
    let at = line.at;
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = heap[parentAt] as Line;
      if (!before(head, parent.jobs[parent.head] as FreshJob)) break;
      heap[at] = parent;
      parent.at = at;
      at = parentAt;
    }
    heap[at] = line;
    line.at = at;
  }

  /** Moves a line towards the bottom while a child's first job is due before its own. */
  #down(line: Line): void {
    const heap = this.#heap;
    if (2 * line.at + 1 >= heap.length) return; // a leaf (the only line, most often)
    const head = line.jobs[line.head] as FreshJob;
    let at = line.at;
    for (;;) {
      const leftAt = 2 * at + 1;
      if (leftAt >= heap.length) break;
      let childAt = leftAt;
      let child = heap[leftAt] as Line;
      let childHead = child.jobs[child.head] as FreshJob;
      const right = heap[leftAt + 1];
      if (right !== undefined) {
        const rightHead = right.jobs[right.head] as FreshJob;
        if (before(rightHead, childHead)) {
          childAt = leftAt + 1;
          child = right;
          childHead = rightHead;
        }
      }
      if (!before(childHead, head)) break;
      heap[at] = child;
      child.at = at;
      at = childAt;
    }
    heap[at] = line;
    line.at = at;
  }

  #keep(event: EventParts): EventParts | undefined {
    const bytes = sizeOf(event);
    if (this.#eventJobs >= this.#maxEventJobs || this.#eventBytes + bytes > this.#maxEventBytes) {
      return undefined;
    }
    this.#eventJobs++;
    this.#eventBytes += bytes;
    return { text: event.text, bytes: event.bytes === null ? null : event.bytes.slice() };
  }

  #release(job: FreshJob): void {
    if (job.event === undefined) return;
    this.#eventJobs--;
    this.#eventBytes -= sizeOf(job.event);
  }
}

/** Due order: earlier due time first, then the older job. */
export const before = (a: { due: number; id: number }, b: { due: number; id: number }): boolean =>
  a.due < b.due || (a.due === b.due && a.id < b.id);

/** What an encoded event holds in memory (a string's characters count two bytes). */
const sizeOf = (event: EventParts): number =>
  2 * event.text.length + (event.bytes === null ? 0 : event.bytes.byteLength);
