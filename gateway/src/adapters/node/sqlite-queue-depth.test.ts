import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { describeDeliveryQueue, manualClock } from "../../deliver/delivery-queue.case.js";
import type { DeliveryFailure, DeliveryQueue } from "../../deliver/delivery-queue.js";
import { Unavailable } from "../../errors/errors.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { createGatewayMetrics } from "../../telemetry/gateway-metrics.js";
import { createSqliteStore, openSqliteStore, type SqliteStore } from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "herald-queue-depth-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
/** A fresh file and a connection of the test's own, which the store then writes through. */
const freshDatabase = () => {
  const path = join(dir, `store-${++files}`, "herald.db");
  mkdirSync(dirname(path), { recursive: true });
  return { path, db: new Database(path) };
};

/** The live jobs (queued or leased) as the file counts them: what `size` must answer. */
const countInFile = (db: Database.Database) =>
  (db.prepare("SELECT COUNT(*) AS n FROM jobs WHERE due_at IS NOT NULL").get() as { n: number }).n;

/**
 * The store's queue with its answer to `size` compared to the file's count after every call
 * (resolved or rejected) and before it: each difference is kept in `mismatches`.
 */
function checkedQueue(store: SqliteStore, db: Database.Database) {
  const mismatches: string[] = [];
  let checks = 0;
  const check = async (when: string) => {
    // Both taken in the same tick: no group commit runs between them.
    const size = store.queue.size();
    const inFile = countInFile(db);
    checks++;
    if ((await size) !== inFile) mismatches.push(`${when}: size ${await size}, file ${inFile}`);
  };
  const queue = Object.fromEntries(
    Object.entries(store.queue).map(([name, method]) => [
      name,
      typeof method !== "function" || name === "size"
        ? method
        : async (...args: unknown[]) => {
            await check(`before ${name}`);
            try {
              return await method(...args);
            } finally {
              await check(`after ${name}`);
            }
          },
    ]),
  ) as unknown as DeliveryQueue;
  return { queue, mismatches, checks: () => checks };
}

const checked = new Map<
  DeliveryQueue,
  { store: SqliteStore; mismatches: string[]; checks: () => number }
>();
describeDeliveryQueue(
  "sqlite, its queue depth compared with the file's count after every call",
  (clock, { dedupeWindowMs }) => {
    const { path, db } = freshDatabase();
    // Jobs past the second wait as indexed rows: both kinds of accepted jobs are counted.
    const store = createSqliteStore(db, { path, clock, dedupeWindowMs, memoryJobs: 2 });
    const { queue, mismatches, checks } = checkedQueue(store, db);
    checked.set(queue, { store, mismatches, checks });
    return queue;
  },
  async (queue) => {
    const found = checked.get(queue);
    if (found === undefined) return;
    await found.store.close();
    expect(found.mismatches).toEqual([]);
  },
);

const event = (id: string): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/s", type: "t" },
  data: { kind: "json", value: { id }, text: `{"id": "${id}"}` },
});
const never = () => new AbortController().signal;
const failure = (status: number): DeliveryFailure => ({ status, error: `got ${status}`, at: 0 });

describe("SQLite queue depth", () => {
  it("follows every write that makes or ends a live job, and none that was rolled back", async () => {
    const { path, db } = freshDatabase();
    const clock = manualClock();
    const store = createSqliteStore(db, { path, clock, memoryJobs: 3 });
    const q = store.queue;
    const depth = async () => {
      const size = await q.size();
      expect(size).toBe(countInFile(db));
      return size;
    };
    const accept = (ids: string[], subscriptionIds: string[]) =>
      q.accept(ids.map((id) => ({ event: event(id), subscriptionIds })));

    // Accepts with duplicates: only stored events make jobs (3 in memory, the rest indexed).
    expect(await accept(["1", "2", "3"], ["a", "b"])).toMatchObject({ jobs: 6 });
    expect(await accept(["2", "4", "4"], ["a", "b"])).toMatchObject({ duplicates: 2, jobs: 2 });
    expect(await depth()).toBe(8);

    // Leased jobs still count; a complete ends one, a reschedule keeps it, a bury ends it.
    const [done, retried, buried, alsoBuried, ...others] = await q.lease(8, 60_000, never());
    expect(await depth()).toBe(8);
    await q.complete(done?.id ?? "");
    await q.reschedule(retried?.id ?? "", clock.now() + 1_000, failure(503));
    await q.bury(buried?.id ?? "", failure(400));
    await q.bury(alsoBuried?.id ?? "", failure(400));
    expect(await depth()).toBe(5);
    // A stale holder completing a job buried since deletes a dead row: not a live one.
    await q.complete(buried?.id ?? "");
    // Completes of one tick go in one statement, a repeated one and an unknown id included.
    await Promise.all([
      q.complete(others[0]?.id ?? ""),
      q.complete(others[1]?.id ?? ""),
      q.complete(others[1]?.id ?? ""),
      q.complete("999999"),
    ]);
    expect(await depth()).toBe(3);

    // A redrive makes a dead job live again; a discard of a dead job leaves the depth.
    const redriven = others[2];
    await q.bury(redriven?.id ?? "", failure(400));
    expect(await depth()).toBe(2);
    expect(await q.redrive(redriven?.subscriptionId ?? "", [redriven?.id ?? ""])).toBe(1);
    expect(await depth()).toBe(3);
    expect(await q.discardDead(alsoBuried?.subscriptionId ?? "", [alsoBuried?.id ?? ""])).toBe(1);
    expect(await depth()).toBe(3);

    // A drop ends the subscription's live jobs, its dead ones do not count.
    await accept(["5", "6"], ["c"]);
    const [toBury] = await q.lease(10, 60_000, never(), new Set(["a", "b"]));
    await q.bury(toBury?.id ?? "", failure(410));
    expect(await depth()).toBe(4);
    expect(await q.drop("c")).toBe(2);
    expect(await depth()).toBe(3);

    // A group rolled back (a full disk) moves nothing: its accept, complete, bury and drop.
    clock.advance(1_000);
    const [c1, c2] = await q.lease(2, 60_000, never());
    expect(c2).toBeDefined();
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const big = Array.from({ length: 300 }, (_, i) => `big${i}`);
    const outcomes = await Promise.allSettled([
      q.complete(c1?.id ?? ""),
      q.bury(c2?.id ?? "", failure(400)),
      q.drop("a"),
      accept(big, ["a"]),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected", "rejected", "rejected"]);
    db.pragma("max_page_count = 1073741823");
    expect(await depth()).toBe(3);

    // A work that throws after writing is undone alone, the rest of its group runs again and is
    // stored: the accept counts once, the half-made redrive not at all.
    await q.bury(c2?.id ?? "", failure(400));
    const [dead] = await q.dead(c2?.subscriptionId ?? "", { limit: 1 });
    const halfway = [dead?.id ?? ""];
    halfway[Symbol.iterator] = function* () {
      yield dead?.id ?? "";
      throw new Error("the caller's list broke halfway");
    };
    const [accepted, halfRedriven] = await Promise.allSettled([
      accept(["7"], ["a", "b"]),
      q.redrive(c2?.subscriptionId ?? "", halfway),
    ]);
    expect(accepted).toMatchObject({ status: "fulfilled", value: { jobs: 2 } });
    expect(halfRedriven).toMatchObject({ status: "rejected", reason: expect.any(Unavailable) });
    expect(await depth()).toBe(4);

    // Reopened, the count starts from the file.
    await store.close();
    const again = openSqliteStore({ path, clock });
    expect(await again.queue.size()).toBe(4);
    expect(await again.queue.lease(10, 60_000, never())).toHaveLength(4);
    await again.close();
  });

  it("answers a scrape at 300,000 jobs as fast as at 10,000: the depth is not counted in the file", async () => {
    // Jobs behind a sink that is down: retried, with their last failure.
    const lastFailure = JSON.stringify({
      status: 503,
      error: "the sink answered 503 Service Unavailable: upstream connect error before headers",
      at: Date.now(),
    });
    const storeOf = async (jobs: number) => {
      const { path, db } = freshDatabase();
      await openSqliteStore({ path }).close();
      const eventId = db
        .prepare("INSERT INTO events (body, refs) VALUES (?, ?)")
        .run('{"specversion":"1.0"}', jobs).lastInsertRowid;
      const insert = db.prepare(
        "INSERT INTO jobs (event_id, subscription_id, attempts, due_at, failure) VALUES (?, ?, 3, ?, ?)",
      );
      db.transaction(() => {
        for (let i = 0; i < jobs; i++) insert.run(eventId, `orders-${i % 4}`, 1 + i, lastFailure);
      })();
      db.close();
      const store = openSqliteStore({ path });
      const metrics = createGatewayMetrics({ queueDepth: () => store.queue.size() });
      // The fastest of its scrapes: the least disturbed by anything else on the machine.
      return { store, metrics, jobs, fastest: Number.POSITIVE_INFINITY };
    };
    const small = await storeOf(10_000);
    const large = await storeOf(300_000);
    for (let round = 0; round < 20; round++) {
      for (const one of [small, large]) {
        const started = performance.now();
        const text = await one.metrics.render();
        one.fastest = Math.min(one.fastest, performance.now() - started);
        expect(text).toContain(`herald_queue_depth ${one.jobs}\n`);
      }
    }
    // Counting the table made this ratio about 250 (48 ms against 0.2 ms here); now about 1.
    expect(large.fastest / small.fastest).toBeLessThan(3);
    await small.store.close();
    await large.store.close();
  }, 60_000);
});
