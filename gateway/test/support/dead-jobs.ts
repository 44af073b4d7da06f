import type { AcceptedEvent, DeliveryQueue } from "../../src/deliver/delivery-queue.js";

/** What a sink that refused every delivery leaves on a buried job. */
export const REFUSED = { status: 400, error: "got 400", at: 0 } as const;

/** A lease that is never cut short. */
export const NEVER = new AbortController().signal;

/**
 * A maker of accepted events numbered on from 0 (across its calls, so ids never repeat), each
 * for one subscription.
 *
 * @example
 * const events = numberedEvents();
 * await queue.accept(events(1_000, "sub"));
 */
export function numberedEvents(): (n: number, subscriptionId: string) => AcceptedEvent[] {
  let serial = 0;
  return (n, subscriptionId) =>
    Array.from({ length: n }, () => ({
      event: { attributes: { specversion: "1.0", id: String(serial++), source: "/s", type: "t" } },
      subscriptionIds: [subscriptionId],
    }));
}

/**
 * Leases `n` due jobs, 1,000 at a time, and buries each as a sink's refusal would: `n` dead jobs.
 *
 * @example
 * await queue.accept(events(n, "sub"));
 * await buryLeased(queue, n);
 */
export async function buryLeased(queue: DeliveryQueue, n: number): Promise<void> {
  for (let done = 0; done < n; ) {
    const jobs = await queue.lease(Math.min(1_000, n - done), 600_000, NEVER);
    await Promise.all(jobs.map((job) => queue.bury(job.id, REFUSED)));
    done += jobs.length;
  }
}
