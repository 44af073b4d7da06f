import type { JetStreamManager } from "@nats-io/jetstream";
import { type KV, type KvEntry, KvWatchInclude } from "@nats-io/kv";
import { NotFound } from "../../errors/errors.js";
import type { Logger } from "../../ports/logger.js";
import type { DisabledState, SubscriptionStore } from "../../store/subscription-store.js";
import { compileSubscription } from "../../subscriptions/compiled-subscription.js";
import type { Subscription } from "../../subscriptions/subscription.js";
import { whileConnected } from "./nats-unavailable.js";

/** A stored subscription: `order` is the revision that created it (an update keeps it). */
interface StoredSubscription {
  readonly order?: number;
  readonly subscription: Subscription;
}

/**
 * One key of the bucket that changed: the API subscription or disabled state of `id`. `deleted`
 * when the change deleted an API subscription.
 */
export interface BucketChange {
  readonly id: string;
  readonly deleted: boolean;
}

/** What the bucket holds now for one id (`current`): its API subscription and disabled state. */
export interface StoredEntry {
  readonly subscription?: Subscription;
  readonly disabled?: DisabledState;
}

/** The NATS subscription store: the port, plus watching changes other replicas make. */
export interface NatsSubscriptionStore extends SubscriptionStore {
  /**
   * What the bucket holds now for `id` (two reads, whatever the bucket's size), as `list` and
   * `disabled` would give it: an entry that is not Herald's or that this Herald cannot use is
   * left out.
   */
  current(id: string): Promise<StoredEntry>;
  /**
   * Calls `listener` after each change to the bucket (this replica's own included) until the
   * returned function is called, with the key that changed; and with no change each time the
   * watch (re)starts (at first, and after a reconnect), once it follows the bucket: what
   * happened before, or while it was away, is then to be read again as a whole. A JetStream
   * watch: nothing is polled.
   */
  watch(listener: (change?: BucketChange) => void): () => void;
  /**
   * After a reconnect: each watch starts again (one on a bucket that a server lost with its
   * storage and that was set up again would wait for sequences it will not see for long) and
   * its listener runs once it follows the bucket, for the changes it may have missed.
   */
  reconnected(): void;
}

const key = (prefix: "s" | "d", id: string) =>
  `${prefix}.${Buffer.from(id, "utf8").toString("base64url")}`;
const idOfKey = (k: string) => Buffer.from(k.slice(2), "base64url").toString("utf8");
/** The id of a `s.<id>` or `d.<id>` key, or `undefined` for a key that is not Herald's. */
const idOfChanged = (k: string) =>
  k.startsWith("s.") || k.startsWith("d.") ? idOfKey(k) : undefined;

/**
 * Whether the bucket holds a tombstone for the API subscription `id`: it was deleted, and no
 * subscription with that id was created since (the gateway gives API subscriptions new UUIDs).
 */
export async function wasDeleted(kv: KV, id: string): Promise<boolean> {
  const entry = await kv.get(key("s", id));
  return entry !== null && entry.operation !== "PUT";
}

/**
 * The `SubscriptionStore` port on a JetStream key-value bucket, shared by every replica:
 * `s.<id>` holds a subscription (JSON, with the revision that created it so an update keeps its
 * place in the list), `d.<id>` a disabled state; ids are base64url in keys. Writes resolve once
 * JetStream stored them. `watch` follows the bucket, so a subscription created, changed, disabled
 * or deleted on one replica reaches the others' registries within moments. Writes (the API's
 * calls) reject with `Unavailable` (503, `Retry-After`) at once while `connected()` is false,
 * and when NATS fails them; reads (at start, and the watch's refresh) wait for the client.
 *
 * @example
 * const kv = await new Kvm(js).create("herald-subscriptions", { history: 1 });
 * const store = createNatsSubscriptionStore(kv, logger, () => !nc.isClosed(), jsm, "herald-subscriptions");
 */
export function createNatsSubscriptionStore(
  kv: KV,
  logger: Logger,
  connected: () => boolean,
  jsm: JetStreamManager,
  bucket: string,
): NatsSubscriptionStore {
  const watchers = new Set<Watcher>();

  async function live(k: string): Promise<KvEntry | null> {
    const entry = await kv.get(k);
    return entry === null || entry.operation !== "PUT" ? null : entry;
  }

  /** A write that answers 503 while NATS is unreachable or failing (`whileConnected`). */
  const guard =
    <A extends unknown[], R>(method: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      whileConnected(connected, () => method(...args));

  /**
   * The keys under `prefix`, deleted ones included (`live` leaves them out): the subjects the
   * bucket's stream holds, one request. Not `kv.keys()`: its consumer could wait for ever when a
   * key changed as it listed (a `PUT` through another replica clearing a disabled state), and
   * the registry's changes, which run one after another, all waited behind it: the replica
   * followed no change again and its API writes hung.
   */
  async function keysOf(prefix: "s" | "d"): Promise<string[]> {
    const subjectPrefix = `$KV.${bucket}.`;
    const info = await jsm.streams.info(`KV_${bucket}`, {
      subjects_filter: `${subjectPrefix}${prefix}.>`,
    });
    return Object.keys(info.state.subjects ?? {}).map((subject) =>
      subject.slice(subjectPrefix.length),
    );
  }

  async function entries(prefix: "s" | "d"): Promise<KvEntry[]> {
    const keys = await keysOf(prefix);
    const found = await Promise.all(keys.map((k) => live(k)));
    return found.filter((entry): entry is KvEntry => entry !== null);
  }

  /**
   * The entry's JSON when `valid` takes it. The bucket is anyone's to write (`nats kv put`): an
   * entry Herald did not write is skipped and logged, instead of failing every read, which made
   * `herald serve` exit with a stack trace and every replica stop following changes.
   */
  function parsed<T>(entry: KvEntry, valid: (value: unknown) => value is T): T | undefined {
    let value: unknown;
    try {
      value = entry.json();
    } catch {
      value = undefined;
    }
    if (valid(value)) return value;
    logger.error("an entry of the subscriptions bucket is not Herald's; ignored", {
      bucket: entry.bucket,
      key: entry.key,
    });
    return undefined;
  }

  /**
   * Whether this Herald can match with the subscription: one whose filters it cannot compile (a
   * dialect or CESQL function of a newer Herald, during a rolling upgrade; an entry edited by
   * hand) is skipped and logged. It failed the registry as a whole: `herald serve` exited with a
   * stack trace, and a running replica stopped taking any change of the bucket.
   */
  function usable(entry: KvEntry, subscription: Subscription): boolean {
    try {
      compileSubscription(subscription, 0);
      return true;
    } catch (err) {
      if (!(err instanceof TypeError)) throw err;
      logger.error("a subscription of the bucket cannot be used by this Herald; ignored", {
        bucket: entry.bucket,
        key: entry.key,
        subscriptionId: subscription.id,
        error: err.message,
      });
      return false;
    }
  }

  /** The subscription an `s.` entry holds, when it is Herald's and this Herald can use it. */
  function storedOf(entry: KvEntry): StoredSubscription | undefined {
    const value = parsed(entry, isStoredSubscription);
    return value !== undefined && usable(entry, value.subscription) ? value : undefined;
  }

  /** The disabled state a `d.` entry holds, when it is Herald's. */
  function stateOf(entry: KvEntry): (DisabledState & { readonly id: string }) | undefined {
    return parsed(entry, isStoredDisabledState);
  }

  const withoutId = ({ at, reason, definition }: DisabledState): DisabledState =>
    definition === undefined ? { at, reason } : { at, reason, definition };

  return {
    async list() {
      const stored: { value: StoredSubscription; revision: number }[] = [];
      for (const entry of await entries("s")) {
        const value = storedOf(entry);
        if (value !== undefined) stored.push({ value, revision: entry.revision });
      }
      stored.sort((a, b) => (a.value.order ?? a.revision) - (b.value.order ?? b.revision));
      return stored.map(({ value }) => value.subscription);
    },

    put: guard(async (subscription: Subscription) => {
      const k = key("s", subscription.id);
      // Compare-and-set, so two replicas updating at once cannot lose the creation order.
      for (;;) {
        const entry = await kv.get(k);
        // A tombstone: another replica deleted it. This one had not heard yet and took the
        // `PUT` as an update; creating the key again brought back a deleted subscription (both
        // calls answered 200) whose deliveries the delete had dropped. API ids are never reused.
        if (entry !== null && entry.operation !== "PUT") {
          throw new NotFound(`no subscription with id "${subscription.id}"`);
        }
        const existing = entry;
        try {
          if (existing === null) {
            await kv.create(k, JSON.stringify({ subscription }));
          } else {
            const order = existing.json<StoredSubscription>().order ?? existing.revision;
            await kv.update(k, JSON.stringify({ order, subscription }), existing.revision);
          }
          return;
        } catch (err) {
          const text = err instanceof Error ? err.message : String(err);
          if (!/wrong last sequence|key exists/i.test(text)) throw err;
        }
      }
    }),

    delete: guard(async (id: string) => {
      const k = key("s", id);
      // Compare-and-set too: two replicas deleting at once both read it live and both said they
      // deleted it (two DELETEs answered 200); the one that comes second now finds none.
      for (;;) {
        const existing = await live(k);
        if (existing === null) return false;
        try {
          await kv.delete(k, { previousSeq: existing.revision });
          return true;
        } catch (err) {
          const text = err instanceof Error ? err.message : String(err);
          if (!/wrong last sequence/i.test(text)) throw err;
        }
      }
    }),

    async disabled() {
      const states = (await entries("d")).flatMap((entry) => {
        const state = stateOf(entry);
        return state === undefined ? [] : [state];
      });
      states.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      return new Map(states.map((state) => [state.id, withoutId(state)]));
    },

    async current(id) {
      const [s, d] = await Promise.all([live(key("s", id)), live(key("d", id))]);
      const stored = s === null ? undefined : storedOf(s);
      const state = d === null ? undefined : stateOf(d);
      // Read as `list` and `disabled` read them: by the id the entry holds, not its key's.
      return {
        ...(stored?.subscription.id === id ? { subscription: stored.subscription } : {}),
        ...(state?.id === id ? { disabled: withoutId(state) } : {}),
      };
    },

    setDisabled: guard(async (id: string, state: DisabledState | undefined) => {
      const k = key("d", id);
      if (state === undefined) {
        if ((await live(k)) !== null) await kv.delete(k);
        return;
      }
      await kv.put(k, JSON.stringify({ id, ...state }));
    }),

    watch(listener) {
      const watcher: Watcher = { listener, stopped: false };
      watchers.add(watcher);
      follow(watcher);
      return () => {
        watchers.delete(watcher);
        watcher.stopped = true;
        watcher.iterator?.stop();
      };
    },

    reconnected() {
      for (const watcher of watchers) {
        watcher.iterator?.stop();
        watcher.iterator = undefined;
        follow(watcher);
      }
    },
  };

  /** Runs one watch of the bucket for `watcher` until it is stopped or started again. */
  function follow(watcher: Watcher): void {
    void (async () => {
      try {
        const updates = await kv.watch({ key: ">", include: KvWatchInclude.UpdatesOnly });
        if (watcher.stopped || watcher.iterator !== undefined) {
          updates.stop();
          return;
        }
        watcher.iterator = updates;
        // Following the bucket from here on: whatever changed before (since the registry read
        // it at start, or while this replica was away) is read once as a whole.
        watcher.listener();
        for await (const entry of updates) {
          if (watcher.iterator !== updates) break;
          if (watcher.stopped) continue;
          const id = idOfChanged(entry.key);
          if (id === undefined) continue;
          const deleted = entry.operation !== "PUT" && entry.key.startsWith("s.");
          watcher.listener({ id, deleted });
        }
      } catch (err) {
        if (!watcher.stopped) {
          logger.error("watching the subscriptions bucket failed; restart to see changes", {
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
    })();
  }
}

/** One `watch` call: its listener, and the bucket watch that feeds it now. */
interface Watcher {
  readonly listener: (change?: BucketChange) => void;
  stopped: boolean;
  iterator?: { stop(): void } | undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function isStoredSubscription(value: unknown): value is StoredSubscription {
  return (
    isRecord(value) &&
    isRecord(value.subscription) &&
    typeof value.subscription.id === "string" &&
    typeof value.subscription.sink === "string" &&
    (value.order === undefined || typeof value.order === "number")
  );
}

function isStoredDisabledState(value: unknown): value is DisabledState & { readonly id: string } {
  return (
    isRecord(value) &&
    typeof value.id === "string" &&
    typeof value.at === "number" &&
    typeof value.reason === "string" &&
    (value.definition === undefined || typeof value.definition === "string")
  );
}
