import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";

/** Where one dead job is: its job id (as a number, for the order) and its message's sequence. */
export interface DeadEntry {
  readonly id: number;
  readonly seq: number;
}

/**
 * The header of a discard's marker on a dead subject (see `discardDead` in `nats-queue.ts`): an
 * empty message, no dead job, which the scan leaves out.
 */
export const DISCARD_MARKER = "herald-discarded";

/** Messages asked for in one pull of the scan. */
const PULL_MAX = 10_000;

/**
 * The dead jobs on `subject` (a subscription's dead subject) of the work-queue `stream`, by job
 * id, without their events. Read with a short-lived consumer of headers only that acks nothing
 * (in a work-queue stream only an ack removes a message; deleting the consumer keeps them), so
 * thousands of dead jobs come in a few pulls; it took one request per message before, seconds one
 * after another with every event (data too) held in memory, to show a page of ten. JetStream lets
 * one consumer at a time filter a work-queue subject: while another scan of the same set runs
 * (another page, another replica), or when no consumer can be made (the account's limit), this
 * one reads the messages one by one (`next_by_subj`).
 *
 * @example
 * const page = (await scanDead(jsm, js, "herald", "herald.dead.dGh1bWJz")).slice(0, 10);
 */
export async function scanDead(
  jsm: JetStreamManager,
  js: JetStreamClient,
  stream: string,
  subject: string,
): Promise<DeadEntry[]> {
  const found =
    (await scanWithConsumer(jsm, js, stream, subject)) ??
    (await scanOneByOne(jsm, stream, subject));
  return found.sort((a, b) => a.id - b.id);
}

/** A dead message's place: its `herald-job` header (always set on one), else its sequence. */
function entryOf(headers: MsgHdrs | undefined, seq: number): DeadEntry {
  const job = headers?.get("herald-job") ?? "";
  return { id: job === "" ? seq : Number(job), seq };
}

async function scanWithConsumer(
  jsm: JetStreamManager,
  js: JetStreamClient,
  stream: string,
  subject: string,
): Promise<DeadEntry[] | undefined> {
  let info: Awaited<ReturnType<JetStreamManager["consumers"]["add"]>>;
  try {
    info = await jsm.consumers.add(stream, {
      filter_subject: subject,
      // A work-queue stream takes only explicit-ack consumers that deliver all.
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      headers_only: true,
      mem_storage: true,
      max_ack_pending: -1,
      ack_wait: 60_000_000_000,
      // Gone by itself should this gateway die while scanning.
      inactive_threshold: 30_000_000_000,
    });
  } catch {
    // Another scan of the same set has its consumer ("filtered consumer not unique on workqueue
    // stream"), or the account's consumer limit is reached: read one by one instead.
    return undefined;
  }
  try {
    const found: DeadEntry[] = [];
    let pending = info.num_pending;
    const consumer = await js.consumers.get(stream, info.name);
    while (pending > 0) {
      const messages = await consumer.fetch({
        max_messages: Math.min(pending, PULL_MAX),
        expires: 5_000,
      });
      let received = 0;
      for await (const msg of messages) {
        received++;
        if (!msg.headers?.has(DISCARD_MARKER)) found.push(entryOf(msg.headers, msg.seq));
        pending = msg.info.pending;
        if (pending === 0) break;
      }
      // Redriven or dropped while this ran: what is left is all there is.
      if (received === 0) break;
    }
    return found;
  } finally {
    await jsm.consumers.delete(stream, info.name).catch(() => false);
  }
}

/** One request per dead message, one after another (`scanDead` when a consumer cannot be made). */
async function scanOneByOne(
  jsm: JetStreamManager,
  stream: string,
  subject: string,
): Promise<DeadEntry[]> {
  const found: DeadEntry[] = [];
  for (let seq = 1; ; ) {
    const msg = await jsm.direct.getMessage(stream, { next_by_subj: subject, seq });
    if (msg === null) return found;
    if (!msg.header.has(DISCARD_MARKER)) found.push(entryOf(msg.header, msg.seq));
    seq = msg.seq + 1;
  }
}
