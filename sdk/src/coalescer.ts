import { utf8 as encoder } from "./charset.js";
import type { ContentMode } from "./encode-message.js";
import { BATCH_CONTENT_TYPE, encodeEvent, jsonFormat, type Message } from "./encode-message.js";
import { HeraldError } from "./errors.js";
import type { Envelope } from "./event-input.js";
import { postMessage, type Transport } from "./post-message.js";

/** How single events are gathered into batch requests under load. */
export interface CoalesceSettings {
  /** Most events in one batch request (the gateway's `limits.maxBatchEvents`, default 100). */
  readonly maxEvents: number;
  /** Most bytes in one batch request (the gateway's `limits.maxBatchBytes`, default 1 MiB). */
  readonly maxBatchBytes: number;
  /** Requests in flight at once; events wait for a free one and travel together (default 4). */
  readonly maxInFlight: number;
}

interface Pending {
  readonly envelope: Envelope;
  /** The event already encoded in the producer's mode, for when it goes alone. */
  readonly single: Message | undefined;
  json?: Uint8Array;
  resolve(): void;
  reject(err: unknown): void;
}

// Refusals that may be about one event of a batch: each is then sent alone for its own answer.
const PER_EVENT_STATUS = new Set([400, 403, 413]);

function batchOf(group: readonly Pending[]): Message {
  // "[", the events' JSON separated by ",", then "]": one byte each.
  let size = group.length + 1;
  for (const p of group) size += p.json!.length;
  const body = new Uint8Array(size);
  let at = 0;
  for (const p of group) {
    body[at] = at === 0 ? 0x5b : 0x2c;
    body.set(p.json!, at + 1);
    at += 1 + p.json!.length;
  }
  body[at] = 0x5d;
  return { headers: { "content-type": BATCH_CONTENT_TYPE }, body, size };
}

/**
 * Sends single events at once while fewer than `maxInFlight` requests are out; beyond that they
 * queue and go together, as one batch-mode request, when a request comes back (Nagle's idea:
 * under load, the wait for the pipe is what fills the batch; at low rates nothing waits). Each
 * event's promise settles with its own outcome: when a batch is refused for a reason that can be
 * one event's (400, 403, 413), its events are sent again one by one (same ids), so each gets its
 * own answer; other failures (after the retries) reject every event of the batch.
 *
 * @example
 * const coalescer = createCoalescer(transport, "binary", { maxEvents: 100, maxBatchBytes: 1 << 20, maxInFlight: 4 }, headersOf);
 * await coalescer.submit(envelope);
 */
export function createCoalescer(
  transport: Transport,
  mode: ContentMode,
  settings: CoalesceSettings,
  headersOf: (envelopes: readonly Envelope[]) => Record<string, string>,
): { submit(envelope: Envelope, single?: Message): Promise<void> } {
  const queue: Pending[] = [];
  let head = 0;
  let inFlight = 0;

  function sendAlone(p: Pending): Promise<void> {
    const message = p.single ?? encodeEvent(p.envelope, mode);
    return postMessage(transport, message, headersOf([p.envelope])).then(p.resolve, p.reject);
  }

  /** The next group: as many queued events as fit in one batch request. */
  function take(): Pending[] {
    const group: Pending[] = [];
    // "[" and "]", and before each event "," (or the "[").
    let bytes = 1;
    while (head < queue.length && group.length < settings.maxEvents) {
      const next = queue[head]!;
      // An event alone in the queue goes alone, in the producer's mode: no JSON made for it.
      if (group.length > 0 || head + 1 < queue.length) {
        next.json ??= encoder.encode(jsonFormat(next.envelope));
        bytes += 1 + next.json.length;
        // The first event goes whatever its size (alone, if need be).
        if (group.length > 0 && bytes > settings.maxBatchBytes) break;
      }
      group.push(next);
      head++;
    }
    return group;
  }

  async function flush(group: Pending[]): Promise<void> {
    if (group.length === 1) return sendAlone(group[0]!);
    try {
      await postMessage(transport, batchOf(group), headersOf(group.map((p) => p.envelope)));
    } catch (err) {
      if (err instanceof HeraldError && PER_EVENT_STATUS.has(err.status)) {
        await Promise.all(group.map(sendAlone));
      } else {
        for (const p of group) p.reject(err);
      }
      return;
    }
    for (const p of group) p.resolve();
  }

  function pump(): void {
    while (inFlight < settings.maxInFlight && head < queue.length) {
      const group = take();
      if (head === queue.length) {
        queue.length = 0;
        head = 0;
      }
      inFlight++;
      void flush(group).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    submit(envelope, single) {
      return new Promise<void>((resolve, reject) => {
        queue.push({ envelope, single, resolve, reject });
        pump();
      });
    },
  };
}
