import type { QueueSendRequest } from "./cloudflare-bindings.js";
import { QUEUE_LIMITS } from "./cloudflare-bindings.js";

/**
 * The body of one queue message: one delivery job, i.e. one event for one subscription, so that
 * `message.retry({ delaySeconds })` retries exactly that pair on its own backoff.
 */
export interface DeliveryMessage {
  /** Format version of this body. */
  readonly v: 1;
  /** The job id: stable across retries and redrives (the Standard Webhooks `webhook-id`). */
  readonly job: string;
  readonly subscription: string;
  /** The event, encoded by `store/event-codec.ts`. */
  readonly event: string;
  /**
   * The id of the event's acceptance (`accepted` table); absent for a redriven job, which was
   * accepted long ago.
   */
  readonly acceptance?: string;
  /** When the message was first sent (epoch ms): how long to wait for its acceptance to commit. */
  readonly sentAt: number;
  /** Attempts made before this message was sent (0, or more when it replaces another message). */
  readonly attempts: number;
  /**
   * Where a redriven job was in the dead set (`d1-dead-jobs.ts`): dead again, it goes back to
   * that place, as a job keeps its place on Node (its id), so a dead page's `after` naming it
   * still marks where a reader was. Absent for a job never dead.
   */
  readonly place?: number;
}

/**
 * The message body, or `undefined` for anything else (a foreign message on the queue).
 *
 * @example
 * const body = readDeliveryMessage(message.body);
 */
export function readDeliveryMessage(raw: unknown): DeliveryMessage | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const m = raw as Record<string, unknown>;
  const ok =
    m.v === 1 &&
    typeof m.job === "string" &&
    typeof m.subscription === "string" &&
    typeof m.event === "string" &&
    (m.acceptance === undefined || typeof m.acceptance === "string") &&
    typeof m.sentAt === "number" &&
    typeof m.attempts === "number" &&
    Number.isInteger(m.attempts) &&
    m.attempts >= 0 &&
    (m.place === undefined || (Number.isSafeInteger(m.place) && (m.place as number) > 0));
  return ok ? (raw as DeliveryMessage) : undefined;
}

const encoder = new TextEncoder();

/** The size of a message body as the queue counts it (its JSON, UTF-8). */
export function messageBytes(body: DeliveryMessage): number {
  return encoder.encode(JSON.stringify(body)).byteLength;
}

/**
 * Splits messages into `sendBatch` calls within the queue's limits (100 messages, 256 KB), each
 * message counted with the platform's metadata (`QUEUE_LIMITS.metadataBytes`): 100 bodies of
 * 2.5 KB are 250 KB, but 260 KB as the queue counts them.
 *
 * @example
 * for (const chunk of sendChunks(bodies)) await queue.sendBatch(chunk);
 */
export function sendChunks(
  bodies: readonly DeliveryMessage[],
): QueueSendRequest<DeliveryMessage>[][] {
  const chunks: QueueSendRequest<DeliveryMessage>[][] = [];
  let current: QueueSendRequest<DeliveryMessage>[] = [];
  let bytes = 0;
  for (const body of bodies) {
    const size = messageBytes(body) + QUEUE_LIMITS.metadataBytes;
    if (
      current.length > 0 &&
      (current.length === QUEUE_LIMITS.batchMessages || bytes + size > QUEUE_LIMITS.batchBytes)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ body, contentType: "json" });
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
