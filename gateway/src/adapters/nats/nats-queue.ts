import type {
  Consumer,
  ConsumerMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
  PubAck,
} from "@nats-io/jetstream";
import { AckPolicy, DeliverPolicy, JetStreamApiCodes } from "@nats-io/jetstream";
import {
  type NatsConnection,
  headers as natsHeaders,
  type Subscription,
} from "@nats-io/transport-node";
import {
  type AcceptedEvent,
  checkLeaseArguments,
  type DeadJob,
  type DeadPage,
  type DeliveryFailure,
  type DeliveryJob,
  type DeliveryQueue,
  deadPageFull,
  deadPageStart,
  integerJobId,
} from "../../deliver/delivery-queue.js";
import { waitForWake } from "../../deliver/wait-for-wake.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import type { Clock } from "../../ports/clock.js";
import type { Logger } from "../../ports/logger.js";
import { NatsDeadIndex } from "./nats-dead-index.js";
import { type DeadEntry, DISCARD_MARKER } from "./nats-dead-scan.js";
import {
  decodeEventMessage,
  decodeJobMessage,
  type EncodedMessage,
  encodeEventMessage,
  encodeJobMessage,
  type JobFields,
} from "./nats-job-codec.js";
import { checkFitsNats } from "./nats-message-limit.js";
import { eventMsgId, type NatsNames } from "./nats-names.js";
import { storeUnavailable, whileConnected } from "./nats-unavailable.js";
import { settleWithin } from "./settle-within.js";
import { createTurnBatch, type TurnBatch } from "./turn-batch.js";

export interface NatsQueueOptions {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly names: NatsNames;
  readonly clock: Clock;
  readonly logger: Logger;
  /** 0 turns dedupe off (no `Nats-Msg-Id` on events). */
  readonly dedupeWindowMs: number;
  /** The consumers' `ack_wait`: how soon a crashed replica's jobs go to the others. */
  readonly ackWaitMs: number;
  /** Most unleased jobs of one subscription this replica holds (default 128). */
  readonly prefetch?: number;
  /** Deliveries of one message before JetStream gives up on it and it is buried (default 20). */
  readonly maxDeliver?: number;
  /** Whether the connection is up now; while it is not, `accept` answers 503 at once. */
  readonly connected: () => boolean;
  /**
   * Whether this gateway knows the subscription (default: every one). Only then does it pull the
   * subscription's jobs from a consumer another replica created: a replica still on an older
   * config would otherwise take the jobs of a subscription the newer config added, and drop
   * them as "no longer exists". Read when pulling starts (`open`, an advisory, `pullKnown`).
   */
  readonly knows?: (subscriptionId: string) => boolean;
  /**
   * Whether the subscription was deleted through the API (a tombstone in the subscriptions
   * bucket; default: never). What is left of one this gateway does not know (its consumer,
   * queued or dead jobs) is dropped by `pullKnown`.
   */
  readonly deleted?: (subscriptionId: string) => Promise<boolean>;
}

/** The NATS queue: the port, plus closing (hand held jobs back) and the advisory hook. */
export interface NatsQueue extends DeliveryQueue {
  /** Starts pullers for the known subscriptions that have consumers, and listens for new ones. */
  open(): Promise<void>;
  /**
   * Starts pullers for the subscriptions `knows` has come to know (a refresh, a reload), and
   * stops those it no longer knows. Given `subscriptionId`, for that one only (one change of the
   * subscriptions bucket): a few requests, where every consumer is listed otherwise.
   */
  pullKnown(subscriptionId?: string): Promise<void>;
  /**
   * After a reconnect (the streams checked again): the pullers start again and re-create their
   * consumers, as a server that lost its storage has none; an accept re-creates its own.
   */
  reconnected(): void;
  /** Stops pulling and hands every held job back to JetStream at once (a `nak`). */
  close(): Promise<void>;
}

/** A job message this replica holds (fetched, not yet settled). */
interface Held {
  job: DeliveryJob;
  msg: JsMsg;
  readonly seq: number;
  /** When it may be handed out (injected clock). */
  due: number;
  /** While leased: when the lease ends (injected clock). */
  leasedUntil?: number;
}

interface Puller {
  readonly subscriptionId: string;
  stopped: boolean;
  /** Whether a fetch is out (messages may arrive). */
  fetching: boolean;
  messages?: ConsumerMessages | undefined;
  /** The fetch under way, until everything it brought was taken in. */
  round?: Promise<void> | undefined;
  /** Resolves a puller waiting for room. */
  roomFreed?: (() => void) | undefined;
  /** Highest stream sequence it received. */
  seen: number;
}

const EMPTY = new Uint8Array(0);
/** A read-your-writes wait ends this long after the publish it waits for, at the latest. */
const CATCH_UP_MS = 250;
/** How long closing waits for the fetches under way to bring in what JetStream sent them. */
const CLOSE_FETCHES_MS = 2_000;
/** Dead messages read at once for a page (in order; a page's `maxSize` stops the reading). */
const DEAD_READ_BATCH = 16;
/**
 * Dead messages a page finds gone, one after another, before it asks for a fresh scan of the set
 * (`NatsDeadIndex`): many jobs redriven, discarded or dropped through another replica.
 */
const GONE_BEFORE_RESCAN = 256;
/** A job due later than this is handed back to JetStream with `nak(delay)` instead of held. */
const HOLD_LATER_MAX_MS = 5_000;
/** How long one pull request waits for messages before the next is sent. */
const FETCH_EXPIRES_MS = 5_000;
/** Server heartbeats on a pull: two missed end it, so a consumer that moved is found again soon. */
const FETCH_HEARTBEAT_MS = 1_000;
const PULL_ERROR_PAUSE_MS = 250;
const PULL_ERROR_PAUSE_MAX_MS = 5_000;

/**
 * The `DeliveryQueue` port on NATS JetStream (names: `nats-names.ts`). Shared by any number of
 * gateway replicas:
 *
 * - `accept` publishes each event once to the events stream with `Nats-Msg-Id` = digest of
 *   `source` + `id`; JetStream's answer says whether it is a duplicate (its duplicate window is
 *   the dedupe window). A new event then gets one job message per matched subscription (msg id
 *   derived from the event's, so a retried fan-out is dropped by JetStream). Resolves after every
 *   publish is acknowledged (the 202 waits for it). A duplicate whose first accept died half-way
 *   (the event stored, some jobs not) finishes that fan-out from the stored event, so a
 *   publisher's retry after a 503 loses nothing and delivers nothing twice. A batch is not atomic
 *   on the server (JetStream 2.9 has no atomic batch publish): when a publish fails the call
 *   rejects with `Unavailable`, and retrying the same events completes it.
 * - Each subscription has a durable pull consumer (explicit acks, `ack_wait`, `max_deliver`). A
 *   puller per subscription keeps up to `prefetch` of its jobs here; `lease` hands them out by due
 *   time and sequence, leases live here (the injected clock), and a timer sends `working()` for
 *   every held message so JetStream redelivers only a crashed or stalled replica's jobs, after
 *   `ack_wait`.
 * - `complete` acks (JetStream removes the message: work-queue retention). `reschedule` publishes
 *   the job again with its attempts, failure and due time, then acks the old message; a job due
 *   later than a few seconds goes back with `nak(delay)` until then. `bury` publishes it to the
 *   dead subject, where `dead`, `redrive` and `drop` find it.
 * - Read your writes: a `lease` that has fewer than `max` jobs waits (briefly, bounded) for this
 *   replica's own recent publishes to reach its pullers, so a job accepted here is leased in the
 *   next call, as on the other stores.
 *
 * @example
 * const queue = createNatsQueue({ nc, js, jsm, names, clock, logger, dedupeWindowMs, ackWaitMs, connected });
 * await queue.open();
 */
export function createNatsQueue(options: NatsQueueOptions): NatsQueue {
  const { nc, js, jsm, names, clock, logger, dedupeWindowMs, ackWaitMs, connected } = options;
  const { prefetch = 128, maxDeliver = 20, knows = () => true } = options;
  const { deleted = async () => false } = options;
  const inTurn = createTurnBatch();
  /** The dead jobs of each subscription, by job id, as this replica knows them. */
  const deadIndex = new NatsDeadIndex(jsm, js, names.stream);
  const held = new Map<string, Held>();
  const pullers = new Map<string, Puller>();
  const consumers = new Map<string, Promise<Consumer>>();
  /**
   * Per subscription: the highest sequence this replica published there, when it last started a
   * publish there, and how many of its publishes await their acks (read your writes).
   */
  const published = new Map<string, { seq: number; at: number; inflight: number }>();
  const waiters = new Set<() => void>();
  let closed = false;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  let advisories: { unsubscribe(): void }[] = [];

  const wake = () => {
    for (const waiter of waiters) waiter();
  };

  /** Publishes to a subscription's jobs subject, noting it for read-your-writes. */
  async function publishJob(
    subscriptionId: string,
    event: CloudEvent,
    fields: JobFields,
    msgID?: string,
  ): Promise<PubAck> {
    let mark = published.get(subscriptionId);
    if (mark === undefined) {
      mark = { seq: 0, at: 0, inflight: 0 };
      published.set(subscriptionId, mark);
    }
    mark.inflight++;
    mark.at = performance.now();
    try {
      const ack = await publish(names.jobs(subscriptionId), event, fields, msgID);
      if (!ack.duplicate) mark.seq = Math.max(mark.seq, ack.seq);
      return ack;
    } finally {
      mark.inflight--;
      wake();
    }
  }

  /** Creates the subscription's consumer (idempotent) and starts its puller. */
  function ensureConsumer(subscriptionId: string): Promise<Consumer> {
    let consumer = consumers.get(subscriptionId);
    if (consumer === undefined) {
      consumer = (async () => {
        const name = names.consumer(subscriptionId);
        await jsm.consumers.add(names.stream, {
          durable_name: name,
          filter_subject: names.jobs(subscriptionId),
          ack_policy: AckPolicy.Explicit,
          deliver_policy: DeliverPolicy.All,
          ack_wait: ackWaitMs * 1_000_000,
          max_deliver: maxDeliver,
          max_ack_pending: 10_000,
        });
        return js.consumers.get(names.stream, name);
      })();
      consumers.set(subscriptionId, consumer);
      consumer.then(
        () => startPuller(subscriptionId),
        () => consumers.delete(subscriptionId),
      );
    }
    return consumer;
  }

  function unleasedOf(subscriptionId: string): number {
    let n = 0;
    for (const entry of held.values()) {
      if (entry.job.subscriptionId === subscriptionId && entry.leasedUntil === undefined) n++;
    }
    return n;
  }

  function startPuller(subscriptionId: string): void {
    if (closed || pullers.has(subscriptionId)) return;
    const puller: Puller = { subscriptionId, stopped: false, fetching: false, seen: 0 };
    pullers.set(subscriptionId, puller);
    void pull(puller);
  }

  function stopPuller(subscriptionId: string): void {
    const puller = pullers.get(subscriptionId);
    if (puller === undefined) return;
    pullers.delete(subscriptionId);
    puller.stopped = true;
    puller.roomFreed?.();
    if (puller.messages !== undefined) void stopFetching(puller.messages);
  }

  function roomFreed(subscriptionId: string): void {
    pullers.get(subscriptionId)?.roomFreed?.();
  }

  /** The puller's loop: fetch up to the room left, hold what arrives, repeat. Never rejects. */
  async function pull(puller: Puller): Promise<void> {
    let pause = PULL_ERROR_PAUSE_MS;
    while (!puller.stopped && !closed) {
      const room = prefetch - unleasedOf(puller.subscriptionId);
      if (room <= 0) {
        await new Promise<void>((resolve) => {
          puller.roomFreed = resolve;
        });
        puller.roomFreed = undefined;
        continue;
      }
      const used = ensureConsumer(puller.subscriptionId);
      try {
        puller.round = fetchRound(puller, used, room);
        await puller.round;
        pause = PULL_ERROR_PAUSE_MS;
      } catch (err) {
        if (puller.stopped || closed) break;
        // Gone, but made again since (a reconnect to a server that lost it, an accept): go on
        // with the new one. Gone for good only when nothing made it again.
        if (isGone(err) && consumers.get(puller.subscriptionId) === used) {
          logger.info("a subscription's consumer is gone; its deliveries stopped here", {
            subscriptionId: puller.subscriptionId,
          });
          consumers.delete(puller.subscriptionId);
          pullers.delete(puller.subscriptionId);
          break;
        }
        logger.warn("pulling deliveries from NATS failed; trying again", {
          subscriptionId: puller.subscriptionId,
          error: err instanceof Error ? err.message : String(err),
          retryInMs: pause,
        });
        await new Promise((resolve) => setTimeout(resolve, pause));
        pause = Math.min(pause * 2, PULL_ERROR_PAUSE_MAX_MS);
      } finally {
        puller.fetching = false;
        puller.messages = undefined;
        puller.round = undefined;
        wake();
      }
    }
  }

  /** One pull request: takes in every message it brings, also those that arrive as it stops. */
  async function fetchRound(puller: Puller, used: Promise<Consumer>, room: number): Promise<void> {
    const consumer = await used;
    const messages = await consumer.fetch({
      max_messages: room,
      expires: FETCH_EXPIRES_MS,
      idle_heartbeat: FETCH_HEARTBEAT_MS,
    });
    puller.messages = messages;
    puller.fetching = true;
    // Stopped while the request went out: JetStream may already be sending it jobs.
    if (puller.stopped || closed) void stopFetching(messages);
    for await (const msg of messages) receive(puller, msg);
  }

  /** Takes in one fetched message. */
  function receive(puller: Puller, msg: JsMsg): void {
    puller.seen = Math.max(puller.seen, msg.seq);
    let job: DeliveryJob & { readonly dueAt?: number };
    try {
      job = decodeJobMessage(msg.headers, msg.data, msg.seq);
    } catch (err) {
      // Not ours to deliver, and retrying cannot fix it: stop JetStream redelivering it.
      logger.error("a message on a jobs subject is not a Herald job; it is terminated", {
        seq: msg.seq,
        subject: msg.subject,
        error: err instanceof Error ? err.message : String(err),
      });
      msg.term("not a Herald job");
      wake();
      return;
    }
    const { dueAt, ...plain } = job;
    const now = clock.now();
    const existing = held.get(job.id);
    if (existing !== undefined && existing.seq === msg.seq) {
      // Redelivered while held here (a keep-alive came too late): keep our state, new handle.
      existing.msg = msg;
      return;
    }
    if (puller.stopped || closed) {
      // Sent before JetStream learnt this puller stopped: another replica takes it now.
      msg.nak();
      return;
    }
    if (dueAt !== undefined && dueAt - now > HOLD_LATER_MAX_MS) {
      // Waiting for a retry is JetStream's job: it hands it out again when due.
      msg.nak(dueAt - now);
      wake();
      return;
    }
    held.set(job.id, { job: plain, msg, seq: msg.seq, due: dueAt ?? now });
    wake();
  }

  /** Due jobs (and expired leases) in order of their due time, then sequence. */
  function take(max: number, leaseMs: number, skip: ReadonlySet<string>): DeliveryJob[] {
    const now = clock.now();
    const free: { entry: Held; at: number }[] = [];
    for (const entry of held.values()) {
      if (skip.has(entry.job.subscriptionId)) continue;
      const at = entry.leasedUntil ?? entry.due;
      if (at <= now) free.push({ entry, at });
    }
    free.sort((a, b) => a.at - b.at || a.entry.seq - b.entry.seq);
    const jobs: DeliveryJob[] = [];
    for (const { entry } of free.slice(0, max)) {
      const wasFree = entry.leasedUntil === undefined;
      entry.leasedUntil = now + leaseMs;
      if (wasFree) roomFreed(entry.job.subscriptionId);
      jobs.push(entry.job);
    }
    return jobs;
  }

  function nextTime(skip: ReadonlySet<string>): number | undefined {
    let next: number | undefined;
    for (const entry of held.values()) {
      if (skip.has(entry.job.subscriptionId)) continue;
      const at = entry.leasedUntil ?? entry.due;
      if (next === undefined || at < next) next = at;
    }
    return next;
  }

  /**
   * Read your writes: while fewer than `max` jobs are due here, waits for jobs this replica
   * published in the last moments to arrive (another replica may have taken them, so the wait is
   * bounded by `CATCH_UP_MS` after the publish).
   */
  async function catchUp(max: number, skip: ReadonlySet<string>, signal: AbortSignal) {
    for (;;) {
      if (signal.aborted || closed) return;
      let behind: number | undefined;
      const realNow = performance.now();
      for (const [id, last] of published) {
        if (skip.has(id)) continue;
        const puller = pullers.get(id);
        const arrived = last.inflight === 0 && (puller?.seen ?? 0) >= last.seq;
        const expired = realNow - last.at >= CATCH_UP_MS;
        if (arrived || expired) {
          if (last.inflight === 0) published.delete(id);
          continue;
        }
        // A puller with no room, or none yet, cannot bring it: give it its bounded time.
        const until = last.at + CATCH_UP_MS - realNow;
        behind = behind === undefined ? until : Math.min(behind, until);
      }
      if (behind === undefined) return;
      const now = clock.now();
      let due = 0;
      for (const entry of held.values()) {
        if (!skip.has(entry.job.subscriptionId) && (entry.leasedUntil ?? entry.due) <= now) due++;
      }
      if (due >= max) return;
      await waitForWake(waiters, signal, behind);
    }
  }

  function keepHeldAlive(): void {
    // While disconnected every publish waits in the client's buffer, which has no limit: a
    // keep-alive per held job every `ackWait / 3` piled up for as long as NATS was away (tens of
    // MB an hour), to be sent at once on reconnecting, long after the server stopped waiting.
    if (!connected()) return;
    for (const entry of held.values()) entry.msg.working();
  }

  async function publish(subject: string, event: CloudEvent, fields: JobFields, msgID?: string) {
    const { headers, data } = encodeJobMessage(event, fields);
    return js.publish(subject, data, { headers, ...(msgID === undefined ? {} : { msgID }) });
  }

  /** Publishes the jobs of one stored event (msg ids make a second fan-out a no-op). */
  async function fanOut(event: CloudEvent, subscriptionIds: readonly string[], key?: string) {
    await Promise.all(subscriptionIds.map((id) => ensureConsumer(id)));
    await Promise.all(
      subscriptionIds.map(async (subscriptionId) => {
        const msgID = key === undefined ? undefined : `j:${key}:${names.consumer(subscriptionId)}`;
        await publishJob(subscriptionId, event, { subscriptionId, attempts: 0 }, msgID);
      }),
    );
  }

  /**
   * A duplicate's first accept may have died after storing the event and before all its jobs
   * were published: unless its fan-out marker says it completed, publish them again from the
   * stored event (JetStream drops the ones it still knows by msg id). The marker matters once
   * JetStream has forgotten those ids: after a server restart it rebuilds its duplicate window
   * from the messages it holds, and a delivered job's message is gone (work-queue retention).
   */
  async function finishFanOut(seq: number, key: string): Promise<void> {
    const done = await jsm.direct.getMessage(names.eventsStream, {
      last_by_subj: names.fanned(key),
    });
    if (done !== null) return;
    const stored = await jsm.streams.getMessage(names.eventsStream, { seq });
    if (stored === null) return;
    const header = stored.header;
    const ids = JSON.parse(header.get("herald-subscriptions") || "[]") as string[];
    if (ids.length === 0) return;
    await fanOut(decodeEventMessage(header, stored.data), ids, key);
    markFannedOut(key);
  }

  /** The event's message on the events stream (`encodeEventMessage` and its subscriptions). */
  function eventMessage({ event, subscriptionIds }: AcceptedEvent): EncodedMessage {
    const message = encodeEventMessage(event);
    message.headers.set("herald-subscriptions", JSON.stringify(subscriptionIds));
    return message;
  }

  async function acceptOne(
    { event, subscriptionIds }: AcceptedEvent,
    { headers, data }: EncodedMessage,
    ownSeqs: Set<number>,
  ): Promise<"stored" | "duplicate"> {
    if (dedupeWindowMs === 0) {
      await fanOut(event, subscriptionIds);
      return "stored";
    }
    const key = eventMsgId(String(event.attributes.source), String(event.attributes.id));
    // Published with the others of this turn (see `createTurnBatch`): one write for a burst.
    const ack = await inTurn(() => js.publish(names.eventsSubject, data, { headers, msgID: key }));
    if (ack.duplicate) {
      // A copy earlier in this very call is fanning out already.
      if (!ownSeqs.has(ack.seq)) await finishFanOut(ack.seq, key);
      return "duplicate";
    }
    ownSeqs.add(ack.seq);
    await fanOut(event, subscriptionIds, key);
    if (subscriptionIds.length > 0) markFannedOut(key);
    return "stored";
  }

  /**
   * Marks an event's fan-out complete (see `finishFanOut`). Not awaited: the 202 does not wait for
   * it, and a marker lost to a crash only means a later duplicate publishes the jobs again (at
   * least once, as for any crash mid-accept).
   */
  /**
   * A plain NATS publish, not a JetStream one: the stream stores it all the same (its msg id
   * dedupes a second marker), and no acknowledgement comes back to wait for and parse, once per
   * accepted event. A marker that gets lost only means a duplicate publishes its jobs again
   * (dropped by their msg ids while JetStream remembers them).
   */
  function markFannedOut(key: string): void {
    const marker = natsHeaders();
    marker.set("Nats-Msg-Id", `f:${key}`);
    try {
      nc.publish(names.fanned(key), EMPTY, { headers: marker });
    } catch (err) {
      logger.debug("could not mark a fan-out complete; a duplicate may publish its jobs again", {
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /**
   * The dead job at this place of the subscription's dead subject (`NatsDeadIndex`), or
   * `undefined` when its message is gone (redriven, discarded or dropped, here or through another
   * replica): the index then forgets it.
   */
  async function readDead(subject: string, entry: DeadEntry): Promise<DeadJob | undefined> {
    const msg = await jsm.direct.getMessage(names.stream, { seq: entry.seq });
    if (msg === null || msg.subject !== subject) {
      deadIndex.gone(subject, entry);
      return undefined;
    }
    const { dueAt, ...plain } = decodeJobMessage(msg.header, msg.data, msg.seq);
    return { ...plain, failure: plain.lastFailure as DeliveryFailure };
  }

  /**
   * The dead jobs of the subscription named by `jobIds` (each once), or all of them, in id order,
   * from the index brought up to date.
   */
  async function deadEntries(subject: string, jobIds?: readonly string[]): Promise<DeadEntry[]> {
    // All of them: read afresh (one scan, which the work on each job outweighs), so that jobs
    // gone through another replica are not each read once more to find them gone.
    if (jobIds === undefined) deadIndex.rescan(subject);
    await deadIndex.catchUp(subject);
    if (jobIds === undefined) return deadIndex.all(subject);
    const entries: DeadEntry[] = [];
    for (const jobId of new Set(jobIds)) {
      const id = Number(jobId);
      const entry = String(id) === jobId ? deadIndex.find(subject, id) : undefined;
      if (entry !== undefined) entries.push(entry);
    }
    return entries.sort((a, b) => a.id - b.id);
  }

  /**
   * A page of the dead set: the index's next jobs after `from`, read `DEAD_READ_BATCH` at a time
   * and each checked against the stream (a job gone since is read past, so the page is short only
   * where the set ends); its cost is the jobs it reads, not the set's size.
   */
  async function deadPage(subscriptionId: string, from: number, page: DeadPage) {
    const subject = names.dead(subscriptionId);
    await deadIndex.catchUp(subject);
    const full = deadPageFull(page);
    const jobs: DeadJob[] = [];
    let after = from;
    let goneInRow = 0;
    while (jobs.length < page.limit) {
      const entries = deadIndex.after(
        subject,
        after,
        Math.min(DEAD_READ_BATCH, page.limit - jobs.length),
      );
      const last = entries.at(-1);
      if (last === undefined) break;
      for (const job of await Promise.all(entries.map((entry) => readDead(subject, entry)))) {
        if (job === undefined) {
          goneInRow++;
          continue;
        }
        goneInRow = 0;
        jobs.push(job);
        if (full(job)) return jobs;
      }
      after = last.id;
      if (goneInRow >= GONE_BEFORE_RESCAN) {
        // Many gone through another replica: one scan, not a request for each of the rest.
        deadIndex.rescan(subject);
        await deadIndex.catchUp(subject);
        goneInRow = 0;
      }
    }
    return jobs;
  }

  async function settleCopy(
    jobId: string,
    dead: boolean,
    failure: DeliveryFailure,
    dueAt: number | undefined,
    prefix: string,
  ): Promise<void> {
    const entry = held.get(jobId);
    if (entry === undefined) return;
    const { job } = entry;
    const fields: JobFields = {
      subscriptionId: job.subscriptionId,
      jobId: job.id,
      attempts: job.attempts + 1,
      lastFailure: failure,
      ...(dueAt === undefined ? {} : { dueAt }),
    };
    // One copy per message, whichever replica (or retry) settles it.
    const msgID = `${prefix}:${names.stream}:${entry.seq}`;
    if (dead) await publish(names.dead(job.subscriptionId), job.event, fields, msgID);
    else await publishJob(job.subscriptionId, job.event, fields, msgID);
    if (held.get(jobId) === entry) held.delete(jobId);
    await ackSurely(nc, entry.msg, inTurn);
    roomFreed(job.subscriptionId);
    wake();
  }

  /**
   * Runs a settle step; when it fails (NATS unreachable, failing over), the job stops being held
   * here, so its keep-alives stop and JetStream hands it out again after `ack_wait` (at least
   * once), instead of it waiting out a long local lease. `complete` lets go before acking.
   */
  async function orRelease(jobId: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (err) {
      const entry = held.get(jobId);
      if (entry !== undefined) {
        held.delete(jobId);
        roomFreed(entry.job.subscriptionId);
      }
      throw err;
    }
  }

  return {
    async open() {
      const created = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.CREATED.${names.stream}.*`, {
        callback: (_err, msg) => {
          const id = names.subscriptionOf(msg.subject.split(".").pop() ?? "");
          if (id !== undefined && !closed && knows(id)) void ensureConsumer(id).catch(() => {});
        },
      });
      const deleted = nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.DELETED.${names.stream}.*`, {
        callback: (_err, msg) => {
          const id = names.subscriptionOf(msg.subject.split(".").pop() ?? "");
          if (id === undefined) return;
          consumers.delete(id);
          stopPuller(id);
          forget(id);
        },
      });
      const exhausted = nc.subscribe(
        `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${names.stream}.*`,
        {
          callback: (_err, msg) =>
            void buryExhausted(msg.json<{ stream_seq: number; deliveries: number }>()),
        },
      );
      advisories = [created, deleted, exhausted];
      await nc.flush();
      await pullKnown();
      keepAlive = setInterval(keepHeldAlive, Math.max(250, Math.floor(ackWaitMs / 3)));
      keepAlive.unref?.();
    },

    pullKnown,

    reconnected() {
      // Each consumer pulled here is added again (the same settings: a no-op where it is there),
      // and its puller goes on with it; a puller whose fetch failed on the lost one sees it was
      // made again, so it does not take that for a deletion.
      consumers.clear();
      // Read again at the next use: the server may be back without what it held.
      deadIndex.clear();
      for (const id of pullers.keys()) void ensureConsumer(id).catch(() => {});
      pullKnown().catch((err: unknown) =>
        logger.warn("could not list the consumers after reconnecting", {
          error: err instanceof Error ? err.message : String(err),
        }),
      );
    },

    async accept(events) {
      if (events.length === 0) return { events: 0, duplicates: 0, jobs: 0 };
      if (closed) throw storeUnavailable("the gateway is shutting down");
      if (!connected()) throw storeUnavailable("NATS is unreachable");
      // Every event checked before any is published: a 413 stores nothing of the request.
      const messages = events.map(eventMessage);
      const maxPayload = nc.info?.max_payload;
      messages.forEach((message, i) => {
        checkFitsNats(message, maxPayload, events.length > 1 ? i : undefined);
      });
      const ownSeqs = new Set<number>();
      let outcomes: ("stored" | "duplicate")[];
      try {
        outcomes = await Promise.all(
          events.map((accepted, i) => acceptOne(accepted, messages[i] as EncodedMessage, ownSeqs)),
        );
      } catch (err) {
        throw storeUnavailable(err instanceof Error ? err.message : String(err));
      }
      let stored = 0;
      let jobs = 0;
      outcomes.forEach((outcome, i) => {
        if (outcome === "duplicate") return;
        stored++;
        jobs += events[i]?.subscriptionIds.length ?? 0;
      });
      return { events: stored, duplicates: events.length - stored, jobs };
    },

    async lease(max, leaseMs, signal, skip) {
      checkLeaseArguments(max, leaseMs);
      const skipSet = skip ?? new Set<string>();
      for (;;) {
        if (signal.aborted || closed) return [];
        await catchUp(max, skipSet, signal);
        if (signal.aborted || closed) return [];
        const jobs = take(max, leaseMs, skipSet);
        if (jobs.length > 0) return jobs;
        const next = nextTime(skipSet);
        await waitForWake(waiters, signal, next === undefined ? undefined : next - clock.now());
      }
    },

    async complete(jobId) {
      const entry = held.get(jobId);
      if (entry === undefined) return;
      held.delete(jobId);
      if (!knows(entry.job.subscriptionId)) {
        // Settled because this replica no longer knows the subscription (a reload removed it):
        // handed back, not acked, as another replica may still have it (a rolling change). One
        // removed everywhere waits in the stream; an API delete purges its jobs.
        entry.msg.nak();
        return;
      }
      await ackSurely(nc, entry.msg, inTurn);
      roomFreed(entry.job.subscriptionId);
    },

    reschedule: (jobId, dueAt, failure) =>
      orRelease(jobId, () => settleCopy(jobId, false, failure, dueAt, "r")),

    bury: (jobId, failure) =>
      orRelease(jobId, () => settleCopy(jobId, true, failure, undefined, "d")),

    async dead(subscriptionId, page) {
      const from = deadPageStart(page.after);
      return whileConnected(connected, () => deadPage(subscriptionId, from, page));
    },

    async findDead(subscriptionId, jobId) {
      const id = integerJobId(jobId);
      if (id === undefined) return undefined;
      return whileConnected(connected, async () => {
        // Found as `redrive` and `discardDead` find one: the subscription's dead subject, by id.
        // The newest copy when there are two for a moment (buried again before a redrive
        // deleted the copy it sent back).
        const subject = names.dead(subscriptionId);
        await deadIndex.catchUp(subject);
        const entry = deadIndex.find(subject, id);
        return entry === undefined ? undefined : readDead(subject, entry);
      });
    },

    redrive: (subscriptionId, jobIds) =>
      whileConnected(connected, () => redrive(subscriptionId, jobIds)),

    discardDead: (subscriptionId, jobIds) =>
      whileConnected(connected, () => discardDead(subscriptionId, jobIds)),

    drop: (subscriptionId) => whileConnected(connected, () => drop(subscriptionId)),

    size: () => whileConnected(connected, size),

    async close() {
      if (closed) return;
      closed = true;
      clearInterval(keepAlive);
      for (const advisory of advisories) advisory.unsubscribe();
      const rounds = [...pullers.values()].flatMap((puller) => puller.round ?? []);
      for (const id of [...pullers.keys()]) stopPuller(id);
      // Whatever is held here goes to the other replicas now, not after `ack_wait`.
      for (const entry of held.values()) entry.msg.nak();
      held.clear();
      wake();
      // And so do the jobs the fetches under way still bring (naked as they arrive); with NATS
      // away nothing comes, and nothing is waited for.
      if (connected()) await settleWithin(Promise.allSettled(rounds), CLOSE_FETCHES_MS);
    },
  };

  /**
   * Pulls the jobs of every subscription this gateway knows that has a consumer, or jobs
   * waiting without one (a server that lost its storage, set up again while jobs came in).
   * Given `only`, does so for that subscription alone.
   */
  async function pullKnown(only?: string): Promise<void> {
    // Subscriptions this replica no longer knows (a reload removed them): stop pulling them and
    // hand back the jobs held and not yet leased, for a replica that knows them.
    for (const id of only === undefined ? [...pullers.keys()] : [only]) {
      if (!pullers.has(id) || knows(id)) continue;
      stopPuller(id);
      for (const [jobId, entry] of held) {
        if (entry.job.subscriptionId !== id || entry.leasedUntil !== undefined) continue;
        held.delete(jobId);
        entry.msg.nak();
      }
    }
    const ids = only === undefined ? await inStream() : await inStreamOne(only);
    for (const id of ids) {
      if (closed) return;
      if (knows(id)) {
        // Also a subscription whose puller a reload stopped and a later one brought back: its
        // consumer is known here already, so `ensureConsumer` alone starts no puller again
        // (and none once a reload meanwhile removed it again).
        if (!pullers.has(id)) {
          void ensureConsumer(id).then(
            () => knows(id) && startPuller(id),
            () => {},
          );
        }
      } else if (await deleted(id)) {
        await dropLeftOver(id);
      }
    }
  }

  /** The subscriptions that have a consumer or jobs (live or dead) in the stream. */
  async function inStream(): Promise<Set<string>> {
    const ids = new Set<string>();
    for await (const info of jsm.consumers.list(names.stream)) {
      const id = names.subscriptionOf(info.name);
      if (id !== undefined) ids.add(id);
    }
    const jobs = await jsm.streams.info(names.stream, {
      subjects_filter: `${names.stream}.*.>`,
    });
    for (const subject of Object.keys(jobs.state.subjects ?? {})) {
      const id = names.subscriptionOfJobs(subject) ?? names.subscriptionOfDead(subject);
      if (id !== undefined) ids.add(id);
    }
    return ids;
  }

  /** `[subscriptionId]` when it has a consumer or jobs in the stream (`inStream` for one). */
  async function inStreamOne(subscriptionId: string): Promise<string[]> {
    const [consumer, jobs] = await Promise.all([
      jsm.consumers.info(names.stream, names.consumer(subscriptionId)).then(
        () => true,
        (err: unknown) => {
          if (isGone(err)) return false;
          throw err;
        },
      ),
      jsm.streams.info(names.stream, { subjects_filter: names.subjects(subscriptionId) }),
    ]);
    const any = consumer || Object.keys(jobs.state.subjects ?? {}).length > 0;
    return any ? [subscriptionId] : [];
  }

  /**
   * Drops what is left of an API subscription deleted everywhere: what a replica's accept queued
   * for it as it was deleted, when that replica died before dropping it again, or what the
   * deleting replica could not drop (NATS failing at that moment). Left alone, its consumer
   * stayed for ever and its jobs counted in the stream's size and `max_bytes`.
   */
  async function dropLeftOver(subscriptionId: string): Promise<void> {
    try {
      const dropped = await drop(subscriptionId);
      logger.info("dropped what was left of a deleted subscription", { subscriptionId, dropped });
    } catch (err) {
      logger.warn("could not drop what was left of a deleted subscription; tried again later", {
        subscriptionId,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }

  /** `redrive` of the port: each dead job back on its jobs subject with fresh attempts. */
  async function redrive(subscriptionId: string, jobIds?: readonly string[]): Promise<number> {
    const subject = names.dead(subscriptionId);
    const entries = await deadEntries(subject, jobIds);
    if (entries.length > 0) await ensureConsumer(subscriptionId);
    let redriven = 0;
    // One job read at a time: the events of a large dead set never sit in memory together.
    for (const entry of entries) {
      const job = await readDead(subject, entry);
      if (job === undefined) continue;
      const ack = await publishJob(
        subscriptionId,
        job.event,
        { subscriptionId, jobId: job.id, attempts: 0 },
        redriveMsgId(entry.seq),
      );
      await jsm.streams.deleteMessage(names.stream, entry.seq, false).catch(() => false);
      deadIndex.gone(subject, entry);
      // Another replica redriving at the same moment read it too: JetStream kept its copy (the
      // msg id) and this one is a duplicate, counted there, not here.
      if (!ack.duplicate) redriven++;
    }
    return redriven;
  }

  /** The msg id of a dead message's one way out: its redriven copy, or a discard's marker. */
  function redriveMsgId(seq: number): string {
    return `v:${names.stream}:${seq}`;
  }

  /**
   * `discardDead` of the port: each dead message deleted from the stream, found as `redrive`
   * finds them (any replica's). Deleting it first frees its room (a stream full at `max_bytes`
   * takes no publish), then an empty marker with the msg id a redrive of that message publishes
   * its copy with settles a redrive at the same moment, on any replica: JetStream keeps whichever
   * comes first. The marker first: the redrive's copy is a duplicate, nothing goes back, and the
   * job counts here. The copy first: the job was redriven, and counts there, not here. The
   * marker is deleted at once (JetStream remembers its id for the duplicate window); one left by
   * a crash is an empty message the scans skip and a drop purges.
   */
  async function discardDead(subscriptionId: string, jobIds?: readonly string[]): Promise<number> {
    const subject = names.dead(subscriptionId);
    const entries = await deadEntries(subject, jobIds);
    let discarded = 0;
    for (const entry of entries) {
      // Gone already: a redrive (after its copy went back), a drop or another discard took it.
      const deleted = await jsm.streams
        .deleteMessage(names.stream, entry.seq, false)
        .catch(() => false);
      deadIndex.gone(subject, entry);
      if (!deleted) continue;
      const marker = natsHeaders();
      marker.set(DISCARD_MARKER, "1");
      const ack = await js.publish(subject, EMPTY, {
        headers: marker,
        msgID: redriveMsgId(entry.seq),
      });
      if (ack.duplicate) continue;
      await jsm.streams.deleteMessage(names.stream, ack.seq, false).catch(() => false);
      discarded++;
    }
    return discarded;
  }

  /** `drop` of the port: the consumer, and the live and dead jobs of a deleted subscription. */
  async function drop(subscriptionId: string): Promise<number> {
    consumers.delete(subscriptionId);
    stopPuller(subscriptionId);
    published.delete(subscriptionId);
    forget(subscriptionId);
    deadIndex.rescan(names.dead(subscriptionId));
    await jsm.consumers.delete(names.stream, names.consumer(subscriptionId)).catch(() => false);
    const [live, dead] = await Promise.all([
      jsm.streams.purge(names.stream, { filter: names.jobs(subscriptionId) }),
      jsm.streams.purge(names.stream, { filter: names.dead(subscriptionId) }),
    ]);
    return live.purged + dead.purged;
  }

  /** `size` of the port: the messages on every jobs subject. */
  async function size(): Promise<number> {
    const info = await jsm.streams.info(names.stream, {
      subjects_filter: `${names.stream}.jobs.>`,
    });
    let n = 0;
    for (const count of Object.values(info.state.subjects ?? {})) n += count;
    return n;
  }

  /** Drops what is held here for a subscription whose jobs were dropped. */
  function forget(subscriptionId: string): void {
    for (const [id, entry] of held)
      if (entry.job.subscriptionId === subscriptionId) held.delete(id);
  }

  /**
   * `max_deliver` is the last resort against a job that keeps a replica from settling it (each
   * crash or stall redelivers it): once JetStream gives up, the job is kept as dead with a
   * failure that says so, never dropped. Every replica hears the advisory; the msg id makes one
   * dead copy. When that fails (a stream full at its `max_bytes` refuses the dead copy; NATS
   * away) it is tried again with a growing pause (1 s up to 30 s) while the message is there and
   * this replica runs: JetStream hands the job out no more, so nothing else would.
   */
  async function buryExhausted(
    advisory: { stream_seq: number; deliveries: number },
    failures = 0,
  ): Promise<void> {
    try {
      const stored = await jsm.streams.getMessage(names.stream, { seq: advisory.stream_seq });
      if (stored === null) return;
      const { dueAt, ...job } = decodeJobMessage(stored.header, stored.data, stored.seq);
      await publish(
        names.dead(job.subscriptionId),
        job.event,
        {
          subscriptionId: job.subscriptionId,
          jobId: job.id,
          attempts: job.attempts,
          lastFailure: {
            status: 0,
            error: `handed out ${advisory.deliveries} times without being settled (gateways crashed or stalled holding it)`,
            at: clock.now(),
          },
        },
        `d:${names.stream}:${stored.seq}`,
      );
      // Another replica that heard the same advisory may have deleted it first: done all the same.
      await jsm.streams.deleteMessage(names.stream, stored.seq, false).catch((err: unknown) => {
        if (!isNoMessage(err)) throw err;
      });
    } catch (err) {
      if (closed) return;
      const retryInMs = Math.min(BURY_RETRY_MAX_MS, BURY_RETRY_MS * 2 ** failures);
      logger.error("could not keep a job JetStream gave up on as dead; trying again", {
        seq: advisory.stream_seq,
        error: err instanceof Error ? err.message : String(err),
        retryInMs,
      });
      setTimeout(() => {
        if (!closed) void buryExhausted(advisory, failures + 1);
      }, retryInMs).unref?.();
    }
  }
}

/** The first pause before keeping an exhausted job as dead is tried again, and the longest. */
const BURY_RETRY_MS = 1_000;
const BURY_RETRY_MAX_MS = 30_000;

/**
 * Ends a fetch without losing the jobs JetStream sent it before it learnt of the end: they
 * arrive after the client stops listening and a plain unsubscribe drops them, to wait out
 * `ack_wait` on the server. Draining the fetch's subscription (unsubscribe, then a round trip)
 * still hands them to the fetch, whose loop takes them in (`receive` naks them once stopped).
 */
async function stopFetching(messages: ConsumerMessages): Promise<void> {
  // The fetch's inbox subscription: public on the implementation, not on the interface.
  const sub = (messages as { sub?: Subscription }).sub;
  if (sub !== undefined && !sub.isClosed() && !sub.isDraining()) {
    await sub.drain().catch(() => {});
  }
  messages.stop();
}

/** Tries to ack this long at most: a consumer's leader election in a cluster takes a moment. */
const ACK_TRIES = 6;
/** JetStream's positive acknowledgement. */
const ACK = new TextEncoder().encode("+ACK");

/**
 * Acks (with the other acks of this turn, see `createTurnBatch`) and waits for JetStream to
 * confirm, trying again while the consumer has no leader ("no responders" or a timeout during a
 * fail-over; the same ack twice is harmless). Giving up too soon would have JetStream redeliver a
 * job its sink already took.
 */
async function ackSurely(nc: NatsConnection, msg: JsMsg, inTurn: TurnBatch): Promise<void> {
  // The ack subject: public on the implementation (`JsMsgImpl.reply`), not on the interface.
  const reply = (msg as JsMsg & { readonly reply?: string }).reply;
  for (let attempt = 1; ; attempt++) {
    try {
      // The ack as a request of our own, not `msg.ackAck()`: the client sends that one once, and
      // a second call resolves at once without sending anything. A first try that timed out
      // (NATS restarting, a fail-over) made every retry a no-op that looked like success, and
      // JetStream, which never got the ack, handed the job out again: a second delivery.
      await inTurn<unknown>(() =>
        reply === undefined
          ? msg.ackAck({ timeout: 2_000 })
          : nc.request(reply, ACK, { timeout: 2_000 }),
      );
      return;
    } catch (err) {
      if (attempt >= ACK_TRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    }
  }
}

/**
 * Whether JetStream answered that the message is not there: `NoMessageFound`, or (a delete on
 * nats-server 2.9) "message delete failed" (10057) with the text "no message found".
 */
function isNoMessage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return code === JetStreamApiCodes.NoMessageFound || /no message found/i.test(err.message);
}

/** Whether a pull failed because the consumer or stream no longer exists. */
function isGone(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return /consumer (not found|deleted)|stream not found|consumer_deleted|ConsumerNotFound/i.test(
    text,
  );
}
