import { beforeEach, describe, expect, it } from "vitest";
import type {
  D1Database,
  D1Statement,
  QueueProducer,
} from "../src/adapters/workers/cloudflare-bindings.js";
import { createD1Acceptances } from "../src/adapters/workers/d1-acceptances.js";
import { createD1DeadJobs } from "../src/adapters/workers/d1-dead-jobs.js";
import { ensureSchema } from "../src/adapters/workers/d1-schema.js";
import type { DeliveryMessage } from "../src/adapters/workers/delivery-message.js";
import {
  createQueuesIntake,
  WORKERS_DEAD_PAGE_CHARS,
} from "../src/adapters/workers/queues-intake.js";
import { type DeliveryJob, deadJobSize } from "../src/deliver/delivery-queue.js";
import { findDeadCases } from "../src/deliver/find-dead.case.js";
import { MalformedRequest } from "../src/errors/errors.js";
import { systemClock } from "../src/ports/clock.js";
import { silentLogger } from "../src/ports/logger.js";
import { decodeEvent, encodeEvent } from "../src/store/event-codec.js";
import { bindings, resetDatabase, testWorker } from "./harness.js";

beforeEach(async () => {
  await ensureSchema(bindings.HERALD_DB);
  await resetDatabase();
});

const job = (n: number, subscriptionId = "sub"): DeliveryJob => ({
  id: crypto.randomUUID(),
  subscriptionId,
  event: {
    attributes: { specversion: "1.0", id: `e-${n}`, source: "/orders", type: "com.example.t" },
  },
  attempts: 0,
});

/** `count` jobs of `subscriptionId` buried in order; resolves with them. */
async function buryAll(count: number, subscriptionId = "sub") {
  const dead = createD1DeadJobs(bindings.HERALD_DB);
  const jobs = Array.from({ length: count }, (_, n) => job(n, subscriptionId));
  for (const j of jobs) await dead.bury(j, { status: 400, error: "no", at: 0 });
  return jobs;
}

/** The Workers intake over `dead`, as the API calls it, sending redriven jobs to `queue`. */
const intakeOver = (
  dead: ReturnType<typeof createD1DeadJobs>,
  queue: QueueProducer<DeliveryMessage>,
) =>
  createQueuesIntake({
    queue,
    accepted: createD1Acceptances(bindings.HERALD_DB),
    dead,
    clock: systemClock,
    logger: silentLogger,
    dedupeWindowMs: 60_000,
    keepAcceptedMs: 60_000,
  });

/** A queue that only records the job ids sent to it, in `sent`. */
const recording = (sent: string[] = []): QueueProducer<DeliveryMessage> => ({
  async send() {
    throw new Error("unused");
  },
  async sendBatch(messages) {
    for (const { body } of messages) sent.push(body.job);
  },
});

// The cases of delivery-queue.case.ts ("pages through", "refuses a dead-page cursor") on D1,
// whose job ids are UUIDs with no order of their own.
describe("D1 dead jobs: pages", () => {
  it("pages through one subscription's dead jobs, oldest first", async () => {
    const dead = createD1DeadJobs(bindings.HERALD_DB);
    const jobs = await buryAll(5);
    await buryAll(2, "other");
    const ids = (page: readonly DeliveryJob[]) => page.map((j) => j.id);
    const first = await dead.page("sub", 2);
    expect(ids(first)).toStrictEqual(ids(jobs.slice(0, 2)));
    const second = await dead.page("sub", 2, first[1]!.id);
    expect(ids(second)).toStrictEqual(ids(jobs.slice(2, 4)));
    const last = await dead.page("sub", 2, second[1]!.id);
    expect(ids(last)).toStrictEqual([jobs[4]!.id]);
    expect(await dead.page("sub", 2, last[0]!.id)).toStrictEqual([]);
    expect(await dead.page("nobody", 2)).toStrictEqual([]);
  });

  it("stops a page once its jobs hold maxSize, one job past it", async () => {
    const dead = createD1DeadJobs(bindings.HERALD_DB);
    const jobs = await buryAll(6);
    const ids = (page: readonly DeliveryJob[]) => page.map((j) => j.id);
    // Every event is the same size ("e-0" to "e-5", no data).
    const size = deadJobSize(jobs[0]!);
    expect(ids(await dead.page("sub", 10, undefined, 2 * size))).toStrictEqual(
      ids(jobs.slice(0, 3)),
    );
    expect(ids(await dead.page("sub", 10, undefined, 2 * size + 1))).toStrictEqual(
      ids(jobs.slice(0, 4)),
    );
    expect(ids(await dead.page("sub", 10, jobs[3]!.id, size))).toStrictEqual(ids(jobs.slice(4)));
    expect(ids(await dead.page("sub", 2, undefined, 100 * size))).toStrictEqual(
      ids(jobs.slice(0, 2)),
    );
  });

  it("reads on past jobs redriven or deleted while the page is read: short only where the set ends", async () => {
    // The page read its jobs' places, then their events: rows that left the set in between
    // (a redrive or a DELETE at the same moment) were left out and the page came back short,
    // which the API answers with no `next`, so a client stopped paging while jobs were still dead.
    const jobs = await buryAll(8);
    const ids = (page: readonly DeliveryJob[]) => page.map((j) => j.id);
    const leaving = new Set([jobs[1]!.id, jobs[2]!.id, jobs[5]!.id]);
    let racing = true;
    const real = bindings.HERALD_DB;
    // The real database; the first read of places is followed by those jobs leaving the set.
    const db: D1Database = {
      batch: (statements) => real.batch(statements),
      prepare(sql) {
        const statement = real.prepare(sql);
        if (!sql.includes("length(body)")) return statement;
        const racy = (bound: D1Statement): D1Statement => ({
          bind: (...values) => racy(bound.bind(...values)),
          run: () => bound.run(),
          first: (...a) => bound.first(...a),
          async all<Row>() {
            const result = await bound.all<Row>();
            if (racing) {
              racing = false;
              await createD1DeadJobs(real).discard("sub", [...leaving]);
            }
            return result;
          },
        });
        return racy(statement);
      },
    };
    const dead = createD1DeadJobs(db);
    const staying = jobs.filter((j) => !leaving.has(j.id));
    const first = await dead.page("sub", 3);
    expect(ids(first)).toStrictEqual(ids(staying.slice(0, 3)));
    racing = true;
    leaving.clear();
    leaving.add(staying[3]!.id);
    const second = await dead.page("sub", 1, first[2]!.id);
    expect(ids(second)).toStrictEqual([staying[4]!.id]);
    expect(await dead.page("sub", 3, second[0]!.id)).toStrictEqual([]);
  });

  it("adds place to a dead table from before it; its jobs keep their order, a new one comes after", async () => {
    const db = bindings.HERALD_DB;
    await db.batch([
      db.prepare("DROP TABLE IF EXISTS dead"),
      db.prepare(
        "CREATE TABLE dead (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL UNIQUE, subscription_id TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL, failure TEXT NOT NULL)",
      ),
      db.prepare("CREATE INDEX dead_subscription ON dead (subscription_id, seq)"),
    ]);
    const old = [job(0), job(1)];
    for (const j of old) {
      await db
        .prepare(
          "INSERT INTO dead (job_id, subscription_id, body, attempts, failure) VALUES (?, 'sub', ?, 1, ?)",
        )
        .bind(j.id, encodeEvent(j.event), JSON.stringify({ status: 400, error: "no", at: 0 }))
        .run();
    }
    await ensureSchema(db);
    await ensureSchema(db); // a second isolate finds both there
    const dead = createD1DeadJobs(db);
    const [fresh] = await buryAll(1);
    const ids = (page: readonly DeliveryJob[]) => page.map((j) => j.id);
    expect(ids(await dead.page("sub", 5))).toStrictEqual([old[0]!.id, old[1]!.id, fresh!.id]);
    expect(ids(await dead.page("sub", 5, old[0]!.id))).toStrictEqual([old[1]!.id, fresh!.id]);
  });

  it("refuses a cursor naming no dead job of the subscription instead of starting again", async () => {
    const dead = createD1DeadJobs(bindings.HERALD_DB);
    const jobs = await buryAll(3);
    const [theirs] = await buryAll(1, "other");
    const [first] = await dead.peek("sub", 1, undefined, await dead.lastRow());
    await dead.remove([first!.seq]); // redriven since
    for (const after of ["zzz", crypto.randomUUID(), theirs!.id, jobs[0]!.id]) {
      await expect(dead.page("sub", 2, after)).rejects.toBeInstanceOf(MalformedRequest);
    }
    expect((await dead.page("sub", 5, jobs[1]!.id)).map((j) => j.id)).toStrictEqual([jobs[2]!.id]);
  });
});

describe("D1 dead jobs: pages over HTTP", () => {
  it("a page of 200 KB events ends at the size bound, and its next goes on with no job twice or skipped", async () => {
    const dead = createD1DeadJobs(bindings.HERALD_DB);
    const big = "x".repeat(200 * 1024);
    const jobs: DeliveryJob[] = Array.from({ length: 200 }, (_, n) => ({
      ...job(n),
      event: { ...job(n).event, data: { kind: "text", value: `${n}:${big}` } },
    }));
    for (const j of jobs) await dead.bury(j, { status: 400, error: "no", at: 0 });
    const gw = testWorker({ subscriptions: [{ id: "sub", sink: "http://sink.test/" }] });
    const listed: string[] = [];
    let after: string | undefined;
    let pages = 0;
    let chars = 0;
    do {
      const answer = await gw.request(
        `/subscriptions/sub/dead?limit=1000${after === undefined ? "" : `&after=${after}`}`,
      );
      expect(answer.status).toBe(200);
      const text = await answer.text();
      chars += text.length;
      // A Worker's page bound (its 128 MB), below the API's own 32 MiB.
      expect(text.length).toBeLessThanOrEqual(WORKERS_DEAD_PAGE_CHARS + 100);
      const page = JSON.parse(text) as { items: { jobId: string }[]; next?: string };
      expect(page.items.length).toBeGreaterThan(0);
      listed.push(...page.items.map((item) => item.jobId));
      // `next` is the last item's job: the page ended early, not the set.
      if (page.next !== undefined) expect(page.next).toBe(page.items.at(-1)!.jobId);
      after = page.next;
      pages++;
    } while (after !== undefined);
    // 40 MB of events: every page but the last ended at the bound (none at `limit`), each
    // filled to within one item of it.
    const fewest = Math.ceil(chars / WORKERS_DEAD_PAGE_CHARS);
    expect(pages).toBeGreaterThanOrEqual(fewest);
    expect(pages).toBeLessThanOrEqual(Math.ceil(chars / (WORKERS_DEAD_PAGE_CHARS - 210 * 1024)));
    expect(listed).toStrictEqual(jobs.map((j) => j.id));
  }, 60_000);
});

describe("D1 dead jobs: redrive", () => {
  it("a job that fails again while the redrive runs stays dead, and is not redriven twice", async () => {
    // A fast consumer whose sink still refuses: each job sent is buried again before the
    // redrive removes what it sent. The redrive removed by job id, so that new failure went
    // with it (the job was neither delivered nor dead any more), and it read the dead set
    // again until empty, so a job back in time was sent again.
    const dead = createD1DeadJobs(bindings.HERALD_DB);
    const jobs = await buryAll(150);
    const sent: string[] = [];
    const queue: QueueProducer<DeliveryMessage> = {
      async send() {
        throw new Error("unused");
      },
      async sendBatch(messages) {
        for (const { body } of messages) {
          sent.push(body.job);
          await dead.bury(
            {
              id: body.job,
              subscriptionId: body.subscription,
              event: decodeEvent(body.event),
              attempts: 0,
            },
            { status: 400, error: "still no", at: 1 },
          );
        }
      },
    };
    const intake = intakeOver(dead, queue);
    expect(await intake.redrive("sub")).toBe(150);
    expect(sent).toStrictEqual(jobs.map((j) => j.id));
    const still = [
      ...(await dead.page("sub", 100)),
      ...(await dead.page("sub", 100, jobs[99]!.id)),
    ];
    expect(still.map((j) => j.id).sort()).toStrictEqual(jobs.map((j) => j.id).sort());
    expect(still.every((j) => j.failure.error === "still no")).toBe(true);
  });
});

// The discard cases of delivery-queue.case.ts on D1 (through the intake, as the API calls it).
describe("D1 dead jobs: discard", () => {
  it("discards every dead job of a subscription, and no other's, then 0", async () => {
    const dead = createD1DeadJobs(bindings.HERALD_DB);
    await buryAll(3);
    const others = await buryAll(2, "other");
    const intake = intakeOver(dead, recording());
    expect(await intake.discardDead("sub")).toBe(3);
    expect(await dead.page("sub", 10)).toStrictEqual([]);
    expect((await dead.page("other", 10)).map((j) => j.id)).toStrictEqual(others.map((j) => j.id));
    expect(await intake.discardDead("sub")).toBe(0);
    expect(await intake.discardDead("nobody")).toBe(0);
  });

  it("discards only the chosen ones; nothing once redriven, and a discarded one is not redriven", async () => {
    const dead = createD1DeadJobs(bindings.HERALD_DB);
    const jobs = await buryAll(3);
    const [theirs] = await buryAll(1, "other");
    const sent: string[] = [];
    const intake = intakeOver(dead, recording(sent));
    const chosen = [jobs[0]!.id, theirs!.id, "zzz", crypto.randomUUID(), jobs[0]!.id];
    expect(await intake.discardDead("sub", chosen)).toBe(1);
    expect((await dead.page("other", 10)).map((j) => j.id)).toStrictEqual([theirs!.id]);
    expect(await intake.redrive("sub", [jobs[1]!.id])).toBe(1);
    expect(await intake.discardDead("sub", [jobs[1]!.id])).toBe(0);
    expect(await intake.redrive("sub", [jobs[0]!.id])).toBe(0);
    expect(sent).toStrictEqual([jobs[1]!.id]);
    expect((await dead.page("sub", 10)).map((j) => j.id)).toStrictEqual([jobs[2]!.id]);
  });
});

// The findDead cases every store shares (find-dead.case.ts), through the intake as the API calls
// it; jobs queued or leased wait in the Queue, not in D1, so that case is not D1's.
describe("D1 dead jobs: findDead", () =>
  findDeadCases(async () => {
    const dead = createD1DeadJobs(bindings.HERALD_DB);
    return {
      queue: intakeOver(dead, recording()),
      buryAll: (n, subscriptionId) => buryAll(n, subscriptionId),
    };
  }));
