/*
 * The parts of the Workers runtime API this adapter uses, as structural types: the adapter
 * typechecks with the rest of the gateway (DOM lib, no `@cloudflare/workers-types`, whose globals
 * clash with the DOM's), and tests can hand it fakes. The names follow the runtime's
 * (developers.cloudflare.com/d1/worker-api, /queues/configuration/javascript-apis).
 */

/** `D1Result` as far as Herald reads it. */
export interface D1Result<Row = Record<string, unknown>> {
  readonly results: Row[];
  readonly meta: { readonly changes: number };
}

/** A prepared D1 statement (`D1PreparedStatement`). */
export interface D1Statement {
  bind(...values: unknown[]): D1Statement;
  all<Row = Record<string, unknown>>(): Promise<D1Result<Row>>;
  run(): Promise<D1Result>;
  first<Row = Record<string, unknown>>(): Promise<Row | null>;
}

/** A D1 binding (`D1Database`). `batch` runs its statements in one transaction. */
export interface D1Database {
  prepare(sql: string): D1Statement;
  batch<Row = Record<string, unknown>>(statements: D1Statement[]): Promise<D1Result<Row>[]>;
}

/** One message of a `sendBatch` (`MessageSendRequest`). */
export interface QueueSendRequest<Body> {
  readonly body: Body;
  readonly contentType?: "json" | "text" | "bytes" | "v8";
  readonly delaySeconds?: number;
}

/** A Queue producer binding (`Queue`). */
export interface QueueProducer<Body> {
  send(
    body: Body,
    options?: { contentType?: "json" | "text" | "bytes" | "v8"; delaySeconds?: number },
  ): Promise<void>;
  sendBatch(messages: Iterable<QueueSendRequest<Body>>): Promise<void>;
}

/** A message handed to the `queue()` handler (`Message`). */
export interface QueueMessage<Body = unknown> {
  readonly id: string;
  readonly timestamp: Date;
  readonly body: Body;
  /** Deliveries of this message so far, this one included (from 1). */
  readonly attempts: number;
  ack(): void;
  retry(options?: { delaySeconds?: number }): void;
}

/** What the `queue()` handler gets (`MessageBatch`). */
export interface QueueBatch<Body = unknown> {
  /** The name of the queue the batch came from. */
  readonly queue: string;
  readonly messages: readonly QueueMessage<Body>[];
}

/** The third argument of `fetch()` and `queue()` (`ExecutionContext`). */
export interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * Limits of Cloudflare Queues (developers.cloudflare.com/queues/platform/limits): a message is at
 * most 128 KB, a `sendBatch` at most 100 messages and 256 KB, a delay at most 12 hours (the
 * platform now takes 24; 12 keeps to what every account has had). KB is 1000 bytes there, and
 * each message carries up to about 100 bytes of the platform's metadata that count towards the
 * limits: `messageBytes` and `batchBytes` are what Herald's bodies may take, with room left for
 * it, and `sendChunks` counts `metadataBytes` for each message of a batch.
 */
export const QUEUE_LIMITS = {
  messageBytes: 127_000,
  batchMessages: 100,
  batchBytes: 250_000,
  metadataBytes: 100,
  maxDelaySeconds: 43_200,
} as const;

/**
 * Limits of a Workers invocation (developers.cloudflare.com/workers/platform/limits): at most six
 * outbound connections wait for their response headers at once; a seventh is queued until one of
 * them has its headers. A delivery's timeout runs from when it is sent, so one queued behind six
 * slow sinks would spend its timeout waiting for a connection.
 */
export const WORKER_LIMITS = {
  connectionsWaitingForHeaders: 6,
} as const;
