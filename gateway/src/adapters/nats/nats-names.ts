import { createHash } from "node:crypto";
import { dedupeKey } from "../../store/dedupe-window.js";

/**
 * Names of everything Herald keeps in JetStream for one `store.stream`:
 * - the stream `<stream>` (work-queue retention): `<stream>.jobs.<sub>` holds one message per
 *   (event, subscription) still to deliver, `<stream>.dead.<sub>` the dead ones (no consumer
 *   reads them, so they stay until redriven or dropped);
 * - the stream `<stream>-events` (limits retention, `max_age` = the dedupe window): each accepted
 *   event once on `<stream>.events`, its `Nats-Msg-Id` the digest of `source` + `id`, so
 *   JetStream's duplicate window is the dedupe window, and a publisher's retry can finish the
 *   fan-out of a crashed accept; and on `<stream>.fanned.<digest>` an empty marker once that
 *   fan-out is complete (a retry then has nothing to finish);
 * - one durable pull consumer per subscription, `h-<sub>`, filtered on its jobs subject;
 * - the key-value bucket `<stream>-subscriptions` for API subscriptions and disabled states.
 * `<sub>` is the subscription id as base64url (subject tokens and consumer names cannot hold
 * `.`, `*`, `>` or spaces; ids may), so names never collide.
 */
export interface NatsNames {
  readonly stream: string;
  readonly eventsStream: string;
  readonly eventsSubject: string;
  /** Every fan-out marker (`<stream>.fanned.*`), for the events stream's subjects. */
  readonly fannedSubjects: string;
  /** The marker of a complete fan-out, by the event's msg id (`eventMsgId`: base64url). */
  fanned(eventKey: string): string;
  readonly bucket: string;
  jobs(subscriptionId: string): string;
  dead(subscriptionId: string): string;
  /** A filter for both subjects of a subscription, its jobs and its dead ones. */
  subjects(subscriptionId: string): string;
  consumer(subscriptionId: string): string;
  /** The subscription a consumer name belongs to, or `undefined` for a foreign consumer. */
  subscriptionOf(consumer: string): string | undefined;
  /** The subscription of a jobs subject (`jobs(id)`), or `undefined` for another subject. */
  subscriptionOfJobs(subject: string): string | undefined;
  /** The subscription of a dead subject (`dead(id)`), or `undefined` for another subject. */
  subscriptionOfDead(subject: string): string | undefined;
}

/**
 * The names for `stream` (a validated `store.stream`).
 *
 * @example
 * natsNames("herald").jobs("thumbnails"); // "herald.jobs.dGh1bWJuYWlscw"
 */
export function natsNames(stream: string): NatsNames {
  const token = (id: string) => Buffer.from(id, "utf8").toString("base64url");
  return {
    stream,
    eventsStream: `${stream}-events`,
    eventsSubject: `${stream}.events`,
    fannedSubjects: `${stream}.fanned.*`,
    fanned: (eventKey) => `${stream}.fanned.${eventKey}`,
    bucket: `${stream.replace(/[^\w-]/g, "_")}-subscriptions`,
    jobs: (id) => `${stream}.jobs.${token(id)}`,
    dead: (id) => `${stream}.dead.${token(id)}`,
    subjects: (id) => `${stream}.*.${token(id)}`,
    consumer: (id) => `h-${token(id)}`,
    subscriptionOf(consumer) {
      if (!consumer.startsWith("h-")) return undefined;
      return Buffer.from(consumer.slice(2), "base64url").toString("utf8");
    },
    subscriptionOfJobs: (subject) => idAfter(`${stream}.jobs.`, subject),
    subscriptionOfDead: (subject) => idAfter(`${stream}.dead.`, subject),
  };
}

/** The subscription id whose token follows `prefix` in `subject`, if it starts so. */
function idAfter(prefix: string, subject: string): string | undefined {
  if (!subject.startsWith(prefix)) return undefined;
  return Buffer.from(subject.slice(prefix.length), "base64url").toString("utf8");
}

/**
 * The `Nats-Msg-Id` of an event: SHA-256 of its dedupe key (`dedupeKey`, length-prefixed so no
 * two pairs collide), base64url. Every replica computes the same one, so JetStream drops a second
 * copy within its duplicate window whichever replica receives it.
 *
 * @example
 * eventMsgId("/orders", "42"); // "c2yq...", 43 characters
 */
export function eventMsgId(source: string, id: string): string {
  return createHash("sha256").update(dedupeKey(source, id)).digest("base64url");
}
