import { readFile } from "node:fs/promises";
import {
  DiscardPolicy,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { type ConnectionOptions, connect, credsAuthenticator } from "@nats-io/transport-node";
import { type Clock, systemClock } from "../../ports/clock.js";
import { type Logger, silentLogger } from "../../ports/logger.js";
import { checkDedupeWindow, DEFAULT_DEDUPE_WINDOW_MS } from "../../store/dedupe-window.js";
import { natsCredsProblem } from "./nats-creds-file.js";
import { natsNames } from "./nats-names.js";
import { createNatsQueue, type NatsQueue } from "./nats-queue.js";
import {
  createNatsSubscriptionStore,
  type NatsSubscriptionStore,
  wasDeleted,
} from "./nats-subscription-store.js";
import { settleWithin } from "./settle-within.js";
import { isTransientNatsError } from "./transient-nats-error.js";

export interface NatsStoreOptions {
  /** One server URL or several (the client fails over between them); `tls://` requires TLS. */
  readonly servers: string | readonly string[];
  /** `store.stream`: the name everything else is derived from (`nats-names.ts`). */
  readonly stream: string;
  /** JetStream's duplicate window (default 24 h); 0 turns dedupe off. */
  readonly dedupeWindowMs?: number;
  /** Copies of every stream and the bucket in a JetStream cluster (default 1; 3 in production). */
  readonly replicas?: number;
  /** The consumers' `ack_wait` (default 30 s): how soon a dead replica's jobs move on. */
  readonly ackWaitMs?: number;
  /**
   * How long to keep trying at start while NATS is unreachable or JetStream not ready (default
   * 0: fail at once; `herald serve` waits 30 s unless `store.startupWait` says otherwise).
   */
  readonly startupWaitMs?: number;
  /** Ends that wait at once (a stop asked for while starting); the last failure is thrown. */
  readonly stop?: AbortSignal;
  /** A `.creds` file (NATS decentralised auth: a user JWT and its nkey seed). */
  readonly credentials?: string;
  readonly user?: string;
  readonly password?: string;
  readonly token?: string;
  /** Most unleased jobs of one subscription a replica holds (default 128). */
  readonly prefetch?: number;
  /** Whether this gateway knows a subscription, so pulls its jobs (`NatsQueueOptions.knows`). */
  readonly knows?: (subscriptionId: string) => boolean;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** The JetStream store: queue and subscriptions over one connection. */
export interface NatsStore {
  readonly queue: NatsQueue;
  readonly subscriptions: NatsSubscriptionStore;
  /** Whether the connection is up. */
  connected(): boolean;
  /** Hands held jobs back, flushes that to the server, and closes the connection. */
  close(): Promise<void>;
}

/** JetStream gives up on a request (publish, ack, API call) after this long. */
const REQUEST_TIMEOUT_MS = 5_000;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;
/**
 * The client pings the server this often and gives the connection up when `MAX_PINGS_OUT` go
 * unanswered: a server that hangs, or a machine that dies or is cut off without closing its
 * sockets, is left after 8 to 12 s (for another server of the list, or 503s and `/readyz` down),
 * not after the client's default of 2 min times 2, during which every publish waited out its
 * timeout and `/readyz` said ready.
 */
const PING_INTERVAL_MS = 4_000;
const MAX_PINGS_OUT = 2;

/**
 * Connects to NATS, creates (or updates) the streams and the bucket, and returns the store. Any
 * number of gateways may open the same `stream`: they share its jobs. The client reconnects for
 * ever with a growing, jittered pause (250 ms up to 5 s); while it is disconnected, `accept`
 * answers 503 with `Retry-After`. While NATS cannot be reached at start, or JetStream is not
 * ready (a new cluster electing its leader), it tries again with the same pause for up to
 * `startupWaitMs`, logging each try; then, or at once for an error that trying again cannot
 * cure (credentials, TLS, settings JetStream refuses), it throws an `Error` saying why.
 *
 * @example
 * const store = await openNatsStore({ servers: "nats://127.0.0.1:4222", stream: "herald", logger });
 * await store.queue.accept([{ event, subscriptionIds: ["thumbnails"] }]);
 * await store.close();
 */
export async function openNatsStore(options: NatsStoreOptions): Promise<NatsStore> {
  const { startupWaitMs = 0, logger = silentLogger } = options;
  const startedAt = Date.now();
  for (let failures = 1; ; failures++) {
    try {
      return await openOnce(options);
    } catch (err) {
      const waited = Date.now() - startedAt;
      if (!isTransientNatsError(err) || options.stop?.aborted) throw err;
      const left = startupWaitMs - waited;
      if (left <= 0) {
        if (startupWaitMs === 0) throw err;
        throw new Error(`${(err as Error).message} (tried for ${Math.round(waited / 1000)} s)`, {
          cause: err,
        });
      }
      // The whole wait, with a last try at its end: a pause that would pass it is cut short
      // rather than given up on (up to 5 s early, a cluster that was about to answer).
      const pause = Math.min(reconnectPause(failures), left);
      logger.warn("NATS is not ready yet; trying again", {
        error: (err as Error).message,
        retryInMs: Math.round(pause),
      });
      await pauseUnlessStopped(pause, options.stop);
      if (options.stop?.aborted) throw err;
    }
  }
}

/** Waits `ms`, or less when `stop` fires. */
function pauseUnlessStopped(ms: number, stop: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      stop?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop?.addEventListener("abort", done, { once: true });
  });
}

/** Exponential with full jitter, 250 ms up to 5 s: the pause after `failures` failed tries. */
function reconnectPause(failures: number): number {
  const cap = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(failures, 8));
  return RECONNECT_MIN_MS / 2 + Math.random() * cap;
}

/**
 * Why a connection failed, in words: a bare "timeout" from the client means the port took the
 * connection but sent no NATS greeting, usually a URL with another service's port (an HTTP
 * server, NATS's own monitoring port 8222 or cluster port 6222).
 */
function unreachableReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (message !== "timeout") return message;
  return "timeout: the port took the connection but sent no NATS greeting (is it a NATS server's client port, 4222 by default, not its monitoring or cluster port or another service?)";
}

/** One try at connecting and setting JetStream up (`openNatsStore`). */
async function openOnce(options: NatsStoreOptions): Promise<NatsStore> {
  const { stream, clock = systemClock, logger = silentLogger } = options;
  const { replicas = 1, ackWaitMs = 30_000 } = options;
  const dedupeWindowMs = checkDedupeWindow(
    "openNatsStore",
    options.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS,
  );
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new TypeError("openNatsStore: replicas must be an integer from 1 to 5");
  }
  const servers = typeof options.servers === "string" ? [options.servers] : [...options.servers];
  const backoff = { failures: 0 };
  const nc = await connect(await connectionOptions(options, servers, backoff)).catch(
    (err: unknown) => {
      throw new Error(`cannot reach NATS at ${servers.join(", ")}: ${unreachableReason(err)}`, {
        cause: err,
      });
    },
  );
  let up = true;
  /** What a reconnect runs once the store is set up (see `setUp` below). */
  let afterReconnect = () => {};
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        up = false;
        logger.warn("NATS connection lost; reconnecting (ingest answers 503 meanwhile)", {
          server: status.server,
        });
      } else if (status.type === "reconnect") {
        up = true;
        backoff.failures = 0;
        logger.info("NATS connection back", { server: status.server });
        afterReconnect();
      }
    }
  })();
  try {
    const jsm = await jetstreamManager(nc, { timeout: REQUEST_TIMEOUT_MS });
    const js = jetstream(nc, { timeout: REQUEST_TIMEOUT_MS });
    const names = natsNames(stream);
    // JetStream wants the duplicate window within max_age; a window of 0 still needs a stream.
    const windowNs = Math.max(dedupeWindowMs, 1_000) * 1_000_000;
    /** Creates the streams and the bucket; at start also brings their settings to the config. */
    const setUp = async (update: boolean) => {
      await ensureStream(jsm, update, {
        name: names.stream,
        subjects: [`${stream}.jobs.*`, `${stream}.dead.*`],
        retention: RetentionPolicy.Workqueue,
        // At a limit set by hand (max_bytes, to bound the disk) a publish is refused, so ingest
        // answers 503: JetStream's default, discard old, would drop the oldest queued and dead
        // jobs to make room, accepted events lost without a word.
        discard: DiscardPolicy.New,
        storage: StorageType.File,
        num_replicas: replicas,
        duplicate_window: windowNs,
        allow_direct: true,
      });
      await ensureStream(jsm, update, {
        name: names.eventsStream,
        subjects: [names.eventsSubject, names.fannedSubjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        num_replicas: replicas,
        duplicate_window: windowNs,
        max_age: windowNs,
        allow_direct: true,
      });
      const kv = await new Kvm(js).create(names.bucket, { history: 1, replicas });
      // The client creates a missing bucket but leaves an existing one as it is: a changed
      // `replicas` would have left the API subscriptions on one server.
      if (update) await ensureBucketReplicas(jsm, names.bucket, replicas);
      return kv;
    };
    const kv = await setUp(true);
    const queue = createNatsQueue({
      nc,
      js,
      jsm,
      names,
      clock,
      logger,
      dedupeWindowMs,
      ackWaitMs,
      connected: () => up && !nc.isClosed(),
      deleted: (id) => wasDeleted(kv, id),
      ...(options.prefetch === undefined ? {} : { prefetch: options.prefetch }),
      ...(options.knows === undefined ? {} : { knows: options.knows }),
    });
    await queue.open();
    const subscriptions = createNatsSubscriptionStore(
      kv,
      logger,
      () => up && !nc.isClosed(),
      jsm,
      names.bucket,
    );
    // A server that restarted without its storage (no volume) is back with none of the streams,
    // and every publish would fail until a restart: set them up again after each reconnect (a
    // check when they are there), then have the consumers re-created and the subscriptions'
    // watch started again (with a refresh for what it missed). What the server lost is lost.
    // A server just back may still be starting JetStream (it answers 503 or times out): try
    // again with the reconnect backoff for as long as this connection lasts (the next reconnect
    // starts its own round), so ingest does not stay 503 until a restart.
    let round = 0;
    afterReconnect = () => {
      const mine = ++round;
      const attempt = (failures: number): void => {
        setUp(false).then(
          () => {
            if (mine !== round) return;
            queue.reconnected();
            subscriptions.reconnected();
          },
          (err: unknown) => {
            if (mine !== round || nc.isClosed()) return;
            logger.warn("could not check the JetStream streams after reconnecting; trying again", {
              error: err instanceof Error ? err.message : String(err),
            });
            if (up) setTimeout(() => attempt(failures + 1), reconnectPause(failures + 1)).unref();
          },
        );
      };
      attempt(0);
    };
    let closing: Promise<void> | undefined;
    return {
      queue,
      subscriptions,
      connected: () => up && !nc.isClosed(),
      close() {
        closing ??= (async () => {
          await queue.close();
          // The hand-back (naks) must reach the server; everything else was awaited already
          // (publishes and acks resolve on the server's answer). Not `drain()`: it waits for the
          // pending pull requests to expire (seconds), which made a stop slow for nothing.
          await settleWithin(
            nc.flush().catch(() => {}),
            2_000,
          );
          await nc.close().catch(() => {});
        })();
        return closing;
      },
    };
  } catch (err) {
    await nc.close();
    throw new Error(
      `cannot set up JetStream for the stream "${stream}": ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

async function connectionOptions(
  options: NatsStoreOptions,
  servers: string[],
  backoff: { failures: number },
): Promise<ConnectionOptions> {
  return {
    servers,
    name: "herald",
    maxReconnectAttempts: -1,
    // Exponential with full jitter, reset by each successful reconnect (the status loop).
    reconnectDelayHandler: () => reconnectPause(++backoff.failures),
    timeout: REQUEST_TIMEOUT_MS,
    pingInterval: PING_INTERVAL_MS,
    maxPingOut: MAX_PINGS_OUT,
    // Off: every publish, ack and request would build an Error up front only to carry the
    // caller's stack should it time out (measured at ~14% of a replica's CPU under load). Errors
    // keep their messages; what Herald logs names the operation.
    noAsyncTraces: true,
    // The node client ignores the scheme; `tls://` (the NATS convention) must mean TLS, so it
    // asks for it: the connection fails where a server does not offer it, never falls back.
    ...(servers.some((server) => /^tls:\/\//i.test(server)) ? { tls: {} } : {}),
    ...(options.credentials === undefined
      ? {}
      : { authenticator: credsAuthenticator(await readCredentials(options.credentials)) }),
    ...(options.user === undefined ? {} : { user: options.user }),
    ...(options.password === undefined ? {} : { pass: options.password }),
    ...(options.token === undefined ? {} : { token: options.token }),
  };
}

/**
 * The `.creds` file at `path`, checked as `herald validate` checks it: one that is missing or is
 * no credentials file throws an `Error` naming it and `store.credentials` (the client would say
 * `ENOENT: ...` or `unable to parse credentials`, taken for NATS being unreachable).
 */
async function readCredentials(path: string): Promise<Uint8Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "file not found"
        : code === "EISDIR"
          ? "a directory, not a file"
          : code === "EACCES"
            ? "permission denied"
            : err instanceof Error
              ? err.message
              : String(err);
    throw new Error(`store.credentials: cannot read ${path}: ${why}`, { cause: err });
  }
  const problem = natsCredsProblem(bytes.toString("utf8"));
  if (problem !== undefined) throw new Error(`store.credentials: ${path}: ${problem}`);
  return bytes;
}

/**
 * Creates the stream, or (with `update`) brings an existing one's settings to `config`. A stream
 * of that name made by something else, with settings JetStream cannot change (retention,
 * storage), or another stream that holds its subjects, is refused with an `Error` saying which
 * and what to do (JetStream's own words named neither).
 */
async function ensureStream(
  jsm: JetStreamManager,
  update: boolean,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  const { name } = config;
  const existing = await jsm.streams.info(name).catch((err: unknown) => {
    // Only a missing stream is created; a timeout (a cluster failing over) is not taken for one.
    if (err instanceof Error && /not found/i.test(err.message)) return null;
    throw err;
  });
  const instead = "set another store.stream, or delete that stream if nothing else uses it";
  if (existing === null) {
    await jsm.streams.add(config).catch(async (err: unknown) => {
      if (!(err instanceof Error) || !/subjects overlap/i.test(err.message)) throw err;
      const owners = await Promise.all(
        (config.subjects ?? []).map((subject) => jsm.streams.find(subject).catch(() => "")),
      );
      const other = owners.find((owner) => owner !== "" && owner !== name) ?? "another stream";
      throw new Error(
        `the stream "${other}" already takes subjects the stream "${name}" needs (${config.subjects?.join(", ")}): ${instead}`,
        { cause: err },
      );
    });
  } else if (update) {
    await jsm.streams.update(name, { ...existing.config, ...config }).catch((err: unknown) => {
      if (!(err instanceof Error) || !/can ?not change/i.test(err.message)) throw err;
      throw new Error(
        `the stream "${name}" exists with settings Herald cannot change (${err.message}; it has ${existing.config.retention} retention and ${existing.config.storage} storage, Herald needs ${config.retention} and ${config.storage}): ${instead}`,
        { cause: err },
      );
    });
  }
}

/** Brings the stream behind the key-value `bucket` to `replicas` copies. */
async function ensureBucketReplicas(
  jsm: JetStreamManager,
  bucket: string,
  replicas: number,
): Promise<void> {
  const name = `KV_${bucket}`;
  const { config } = await jsm.streams.info(name);
  if (config.num_replicas !== replicas) {
    await jsm.streams.update(name, { ...config, num_replicas: replicas });
  }
}
