import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { type DeadEntry, DISCARD_MARKER, scanDead } from "./nats-dead-scan.js";

/**
 * Dead messages read one by one to bring an index up to date; past this many a fresh scan
 * (`scanDead`, a few pulls of headers) costs less than the requests one by one would.
 */
const CATCH_UP_MAX = 256;

/** One subscription's dead jobs as this replica last saw them. */
class DeadSet {
  /** Job id to the sequence of its newest dead message (a job buried again has a newer one). */
  readonly seqOf = new Map<number, number>();
  /** The ids, sorted unless `unsorted`; ids no longer in `seqOf` stay until `compact`. */
  ids: number[] = [];
  unsorted = false;
  /** The highest sequence read of the subject: newer messages are all that is left to read. */
  lastSeq = 0;

  add(id: number, seq: number): void {
    const known = this.seqOf.get(id);
    if (known !== undefined && known >= seq) return;
    this.seqOf.set(id, seq);
    if (known !== undefined) return;
    const last = this.ids.at(-1);
    if (last !== undefined && last >= id) this.unsorted = true;
    this.ids.push(id);
  }

  /** Sorts the ids and leaves out the stale ones, once either is due (amortized O(1) a change). */
  order(): void {
    if (!this.unsorted && this.ids.length <= 2 * this.seqOf.size + 64) return;
    this.ids = [...new Set(this.ids.filter((id) => this.seqOf.has(id)))].sort((a, b) => a - b);
    this.unsorted = false;
  }
}

/**
 * Each subscription's dead jobs on NATS, by job id, as this replica knows them: built once by a
 * scan of the dead subject (`scanDead`), then brought up to date before each use by reading only
 * the messages newer than the last one it read (`next_by_subj`), so that a page, a look-up or a
 * redrive of named jobs costs what it reads, not the whole set (a scan for each took 290 ms at
 * 20,000 dead jobs, and paging through 50,000 took minutes).
 *
 * Every replica writes the stream: a job buried anywhere is a newer message, read by the next
 * use here; a job redriven, discarded or dropped anywhere is a message gone, which the index
 * cannot see and keeps, so every reader reads the message (`gone` then forgets the job). A
 * reader that meets many such in a row asks for a fresh scan (`rescan`): the whole set gone
 * through another replica costs one scan, not one request per job.
 *
 * A stream deleted and made again (`nats stream rm` and `add`, a server that lost its storage)
 * numbers its messages from 1 again, so reading on from the sequences read here would miss the
 * new ones and take new messages for old jobs. Each use first asks for the stream's info (one
 * small request): a `created` time other than the one seen, or a last sequence below one read,
 * forgets every subject, as a reconnect does.
 *
 * @example
 * const index = new NatsDeadIndex(jsm, js, "herald");
 * const set = await index.current(names.dead("audit"));
 * for (const entry of index.after(names.dead("audit"), 0, 10)) read(entry);
 */
export class NatsDeadIndex {
  readonly #sets = new Map<string, DeadSet>();
  /** A catch-up under way per subject: concurrent uses share it. */
  readonly #catchingUp = new Map<string, Promise<void>>();
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #stream: string;
  /** The stream's `created` time when the index last checked it (`undefined`: not yet). */
  #created: string | undefined;
  /** The highest sequence read of any subject since the index was last emptied. */
  #highestSeq = 0;
  /** Counts `clear`s: a scan begun before one does not keep what it read. */
  #generation = 0;

  constructor(jsm: JetStreamManager, js: JetStreamClient, stream: string) {
    this.#jsm = jsm;
    this.#js = js;
    this.#stream = stream;
  }

  /** Brings the index of `subject` (a dead subject) up to the stream's messages. */
  async catchUp(subject: string): Promise<void> {
    await this.#checkStream();
    // One at a time per subject: a second waits for the first, then reads what came since.
    for (;;) {
      const running = this.#catchingUp.get(subject);
      if (running === undefined) break;
      await running.catch(() => undefined);
    }
    const run = this.#catchUp(subject);
    this.#catchingUp.set(subject, run);
    try {
      await run;
    } finally {
      if (this.#catchingUp.get(subject) === run) this.#catchingUp.delete(subject);
    }
  }

  /** Forgets every subject when the stream is not the one read (made again since). */
  async #checkStream(): Promise<void> {
    const { created, state } = await this.#jsm.streams.info(this.#stream);
    if (created === this.#created && state.last_seq >= this.#highestSeq) return;
    if (this.#created !== undefined) this.clear();
    this.#created = created;
  }

  #read(seq: number): void {
    if (seq > this.#highestSeq) this.#highestSeq = seq;
  }

  async #catchUp(subject: string): Promise<void> {
    const set = this.#sets.get(subject);
    if (set === undefined) return this.#scan(subject);
    for (let read = 0; ; read++) {
      if (read === CATCH_UP_MAX) return this.#scan(subject);
      const msg = await this.#jsm.direct.getMessage(this.#stream, {
        next_by_subj: subject,
        seq: set.lastSeq + 1,
      });
      if (msg === null) return;
      set.lastSeq = msg.seq;
      this.#read(msg.seq);
      if (msg.header?.has(DISCARD_MARKER)) continue;
      const job = msg.header?.get("herald-job") ?? "";
      set.add(job === "" ? msg.seq : Number(job), msg.seq);
    }
  }

  async #scan(subject: string): Promise<void> {
    const generation = this.#generation;
    const set = new DeadSet();
    // The subject's last message before the scan: the scan reads it and all before it, so
    // reading on from it misses none (one the scan read too is read again, the same entry).
    const last = await this.#jsm.direct.getMessage(this.#stream, { last_by_subj: subject });
    for (const { id, seq } of await scanDead(this.#jsm, this.#js, this.#stream, subject)) {
      set.add(id, seq);
    }
    set.lastSeq = last?.seq ?? 0;
    if (generation !== this.#generation) return;
    this.#read(set.lastSeq);
    this.#sets.set(subject, set);
  }

  /** Forgets `subject`: the next use scans it again (after a drop, or many jobs gone elsewhere). */
  rescan(subject: string): void {
    this.#sets.delete(subject);
  }

  /**
   * Forgets every subject (after a reconnect: a server back without its storage numbers its
   * messages from 1 again, below the sequences read here, which reading on would never reach).
   */
  clear(): void {
    this.#sets.clear();
    this.#highestSeq = 0;
    this.#generation++;
  }

  /** The dead message of job `id`, as last seen, if any. */
  find(subject: string, id: number): DeadEntry | undefined {
    const seq = this.#sets.get(subject)?.seqOf.get(id);
    return seq === undefined ? undefined : { id, seq };
  }

  /** At most `max` jobs with an id above `after`, in id order: O(log n + max). */
  after(subject: string, after: number, max: number): DeadEntry[] {
    const set = this.#sets.get(subject);
    if (set === undefined) return [];
    set.order();
    let low = 0;
    let high = set.ids.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((set.ids[mid] as number) <= after) low = mid + 1;
      else high = mid;
    }
    const found: DeadEntry[] = [];
    for (let at = low; at < set.ids.length && found.length < max; at++) {
      const id = set.ids[at] as number;
      const seq = set.seqOf.get(id);
      if (seq !== undefined) found.push({ id, seq });
    }
    return found;
  }

  /** Every job, in id order (a redrive or discard of them all). */
  all(subject: string): DeadEntry[] {
    return this.after(subject, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY);
  }

  /** The message of `entry` is gone (redriven, discarded, dropped): the job leaves the index. */
  gone(subject: string, entry: DeadEntry): void {
    const set = this.#sets.get(subject);
    if (set?.seqOf.get(entry.id) === entry.seq) set.seqOf.delete(entry.id);
  }
}
