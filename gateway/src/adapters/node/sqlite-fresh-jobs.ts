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
  jobs: FreshJob[];
  head: number;
}

/**
 * The in-memory side of the SQLite queue's fast path. A job accepted here is written with due
 * time 0, which keeps it out of the partial due-time indexes (no index writes on accept, none on
 * complete, no index read per lease), and waits here instead, one line per subscription in due
 * order. At most `maxJobs` wait here (the queue writes further jobs as indexed, due rows); the
 * encoded events of at most `maxEventJobs` of them and `maxEventBytes` bytes are kept, so that a
 * job handed out moments after its accept is not read back from the file. After a restart the
 * store makes every job of due time 0 an indexed due row again.
 *
 * @example
 * const fresh = new FreshJobs({ maxJobs: 16_384, maxEventJobs: 16_384, maxEventBytes: 8 << 20 });
 * fresh.add(7, "audit", now, parts);
 * fresh.earliest(new Set()); // job 7
 */
export class FreshJobs {
  readonly #lines = new Map<string, Line>();
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
    this.#line(subscriptionId).jobs.push({
      id,
      subscriptionId,
      due,
      event: event === undefined ? undefined : this.#keep(event),
      returned: false,
    });
    this.#size++;
  }

  /**
   * Puts back a job handed out from here whose lease expired at `due`, in due order among the
   * waiting ones (rare: a delivery that outlived its lease). Its event is read from the file again.
   */
  putBack(id: number, subscriptionId: string, due: number): void {
    const job: FreshJob = { id, subscriptionId, due, event: undefined, returned: true };
    const line = this.#line(job.subscriptionId);
    let at = line.jobs.length;
    while (at > line.head && before(job, line.jobs[at - 1] as FreshJob)) at--;
    line.jobs.splice(at, 0, job);
    this.#size++;
  }

  /** The earliest waiting job of the subscriptions not in `skip` (due order: `before`). */
  earliest(skip: ReadonlySet<string>): FreshJob | undefined {
    let earliest: FreshJob | undefined;
    for (const [subscriptionId, line] of this.#lines) {
      if (skip.size > 0 && skip.has(subscriptionId)) continue;
      const head = line.jobs[line.head] as FreshJob;
      if (earliest === undefined || before(head, earliest)) earliest = head;
    }
    return earliest;
  }

  /** Takes the earliest waiting job of `subscriptionId` (one `earliest` just gave). */
  shift(subscriptionId: string): FreshJob | undefined {
    const line = this.#lines.get(subscriptionId);
    if (line === undefined) return undefined;
    const job = line.jobs[line.head] as FreshJob;
    line.jobs[line.head] = undefined as unknown as FreshJob;
    line.head++;
    this.#size--;
    if (line.head === line.jobs.length) this.#lines.delete(subscriptionId);
    else if (line.head >= 1024 && line.head * 2 >= line.jobs.length) {
      line.jobs = line.jobs.slice(line.head);
      line.head = 0;
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
    if (kept.length === 0) this.#lines.delete(subscriptionId);
    else {
      line.jobs = kept;
      line.head = 0;
    }
  }

  /** Forgets every waiting job of a subscription. */
  drop(subscriptionId: string): void {
    const line = this.#lines.get(subscriptionId);
    if (line === undefined) return;
    for (let i = line.head; i < line.jobs.length; i++) this.#release(line.jobs[i] as FreshJob);
    this.#size -= line.jobs.length - line.head;
    this.#lines.delete(subscriptionId);
  }

  #line(subscriptionId: string): Line {
    let line = this.#lines.get(subscriptionId);
    if (line === undefined) {
      line = { jobs: [], head: 0 };
      this.#lines.set(subscriptionId, line);
    }
    return line;
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
