import type { CloudEvent } from "../event/cloud-event.js";

/** One event to be delivered to one subscription. */
export interface DeliveryJob {
  /** Unique per job, assigned by the queue. */
  readonly id: string;
  readonly subscriptionId: string;
  readonly event: CloudEvent;
  /** Attempts already made (0 for a new job). */
  readonly attempts: number;
}

/**
 * The port between acceptance and delivery. `enqueue` resolves only when every job of the call is
 * durably accepted (all-or-nothing: a batch is one call). Jobs are leased so a later durable
 * implementation can hand expired leases out again after a crash (at-least-once).
 *
 * Implementations: `memory-queue.ts` (this issue); SQLite, D1/Queues and NATS later. All pass
 * `delivery-queue.case.ts`.
 */
export interface DeliveryQueue {
  enqueue(jobs: readonly NewDeliveryJob[]): Promise<void>;
  /**
   * Up to `max` jobs that are due, each leased for `leaseMs`. Resolves with an empty array when
   * `signal` aborts; otherwise waits until at least one job is due.
   */
  lease(max: number, leaseMs: number, signal: AbortSignal): Promise<readonly DeliveryJob[]>;
  /** The job is finished (delivered or given up): remove it. */
  complete(jobId: string): Promise<void>;
  /** Put the job back, due at `dueAt` (epoch ms), with its attempt count raised. */
  reschedule(jobId: string, dueAt: number): Promise<void>;
  /** Jobs not yet completed (queued or leased). */
  size(): Promise<number>;
}

export type NewDeliveryJob = Omit<DeliveryJob, "id" | "attempts">;
