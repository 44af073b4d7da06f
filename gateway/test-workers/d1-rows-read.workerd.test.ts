import { beforeEach, describe, expect, it } from "vitest";
import type { QueueProducer } from "../src/adapters/workers/cloudflare-bindings.js";
import {
  createHeraldWorker,
  type HeraldWorkerEnv,
} from "../src/adapters/workers/create-herald-worker.js";
import { createD1Acceptances } from "../src/adapters/workers/d1-acceptances.js";
import { createD1DeadJobs } from "../src/adapters/workers/d1-dead-jobs.js";
import { ensureSchema } from "../src/adapters/workers/d1-schema.js";
import type { DeliveryMessage } from "../src/adapters/workers/delivery-message.js";
import { createQueuesIntake } from "../src/adapters/workers/queues-intake.js";
import { systemClock } from "../src/ports/clock.js";
import { silentLogger } from "../src/ports/logger.js";
import { encodeEvent } from "../src/store/event-codec.js";
import { DEFAULT_DELIVERY } from "../src/subscriptions/subscription.js";
import { bindings, countingDatabase, recordingQueue, resetDatabase } from "./harness.js";

// What one request costs in D1 rows read (`meta.rows_read`, what D1 bills) must follow what it
// asks for, not how many jobs are dead: a statement whose index the planner cannot use reads
// the whole dead set of the subscription each time.

beforeEach(async () => {
  await ensureSchema(bindings.HERALD_DB);
  await resetDatabase();
});

/** The subscription's dead set grows by `count` jobs `{subscriptionId}-1` ... `-{count}`. */
async function fillDead(subscriptionId: string, count: number): Promise<void> {
  const body = encodeEvent({
    attributes: { specversion: "1.0", id: "e", source: "/orders", type: "com.example.t" },
  });
  await bindings.HERALD_DB.prepare(
    `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?2)
     INSERT INTO dead (job_id, subscription_id, body, attempts, failure)
     SELECT ?1 || '-' || x, ?1, ?3, 1, '{"status":400,"error":"no","at":0}' FROM n`,
  )
    .bind(subscriptionId, count, body)
    .run();
}

const DEAD = 20_000;

/** The Workers intake over `db`, sending redriven jobs' ids to `sent`. */
function intakeOver(db: ReturnType<typeof countingDatabase>, sent: string[]) {
  const queue: QueueProducer<DeliveryMessage> = {
    async send() {
      throw new Error("unused");
    },
    async sendBatch(messages) {
      for (const { body } of messages) sent.push(body.job);
    },
  };
  return createQueuesIntake({
    queue,
    accepted: createD1Acceptances(db),
    dead: createD1DeadJobs(db),
    clock: systemClock,
    logger: silentLogger,
    dedupeWindowMs: 60_000,
    keepAcceptedMs: 60_000,
  });
}

describe("D1 dead jobs: rows read per request", () => {
  it("a page reads about its own jobs, at the start and deep in a large dead set (read the whole set)", async () => {
    await fillDead("sub", DEAD);
    const db = countingDatabase();
    const dead = createD1DeadJobs(db);
    const first = await dead.page("sub", 10);
    expect(first.map((j) => j.id)).toStrictEqual(
      Array.from({ length: 10 }, (_, n) => `sub-${n + 1}`),
    );
    const deep = await dead.page("sub", 10, `sub-${DEAD / 2}`);
    expect(deep[0]?.id).toBe(`sub-${DEAD / 2 + 1}`);
    // Two pages of 10 and a cursor: a few dozen rows; the whole set is 20,000 per page.
    expect(db.rowsRead).toBeLessThan(200);
  });

  it("a redrive of named jobs reads those jobs, not the dead set (read it once per 100 named)", async () => {
    await fillDead("sub", DEAD);
    const named = [`sub-${DEAD}`, `sub-${DEAD / 2}`, "sub-7", "no-such-job"];
    const db = countingDatabase();
    const sent: string[] = [];
    const redriven = await intakeOver(db, sent).redrive("sub", named);
    expect(redriven).toBe(3);
    expect(sent.sort()).toStrictEqual([`sub-${DEAD / 2}`, `sub-${DEAD}`, "sub-7"].sort());
    expect(db.rowsRead).toBeLessThan(200);
  });

  it("a redrive of 1,500 named jobs reads each about once, in chunks of any jobs named", async () => {
    await fillDead("sub", DEAD);
    // Every 10th job, named last first, and twice: each is sent once.
    const named = Array.from({ length: 1_500 }, (_, n) => `sub-${DEAD - n * 10}`);
    const db = countingDatabase();
    const sent: string[] = [];
    const redriven = await intakeOver(db, sent).redrive("sub", [...named, ...named]);
    expect(redriven).toBe(1_500);
    expect(new Set(sent).size).toBe(1_500);
    expect(sent.length).toBe(1_500);
    // 1,500 rows read, removed and looked up again: some thousands, not 15 x 20,000.
    expect(db.rowsRead).toBeLessThan(20_000);
    const left = await bindings.HERALD_DB.prepare("SELECT COUNT(*) AS n FROM dead").first<{
      n: number;
    }>();
    expect(left?.n).toBe(DEAD - 1_500);
  });

  it("a discard of named jobs reads those jobs, not the dead set", async () => {
    await fillDead("sub", DEAD);
    const db = countingDatabase();
    const dead = createD1DeadJobs(db);
    expect(await dead.discard("sub", ["sub-1", `sub-${DEAD}`, "no-such-job"])).toBe(2);
    expect(await dead.discard("other", ["sub-2"])).toBe(0);
    expect(db.rowsRead).toBeLessThan(200);
  });
});

describe("D1 dead jobs: removing a large dead set", () => {
  it("drops and discards all of a subscription's dead jobs in statements of a bounded size (one statement)", async () => {
    await fillDead("sub", DEAD);
    await fillDead("kept", 10);
    await fillDead("other", 2_500);
    const db = countingDatabase();
    const dead = createD1DeadJobs(db);
    expect(await dead.drop("sub")).toBe(DEAD);
    expect(await dead.discard("other", undefined)).toBe(2_500);
    expect(await dead.drop("none")).toBe(0);
    // A thousand at a time; all 20,000 in one statement before.
    expect(db.mostRowsWritten).toBeLessThanOrEqual(1_000);
    const left = await bindings.HERALD_DB.prepare(
      "SELECT subscription_id, COUNT(*) AS n FROM dead GROUP BY subscription_id",
    ).all();
    expect(left.results).toStrictEqual([{ subscription_id: "kept", n: 10 }]);
  });
});

describe("D1 subscriptions: rows read per request", () => {
  /** `count` API subscriptions `s0` ... in D1, as other isolates would have created them. */
  async function fillSubscriptions(count: number): Promise<void> {
    const db = bindings.HERALD_DB;
    for (let at = 0; at < count; at += 100) {
      await db.batch(
        Array.from({ length: Math.min(100, count - at) }, (_, n) => {
          const id = `s${at + n}`;
          const body = {
            id,
            filters: [{ exact: { type: id } }],
            sink: "http://sink.test/events",
            protocol: "HTTP",
            protocolsettings: { headers: {} },
            delivery: DEFAULT_DELIVERY,
          };
          return db
            .prepare("INSERT INTO subscriptions (id, body) VALUES (?1, ?2)")
            .bind(id, JSON.stringify(body));
        }),
      );
    }
    await db.prepare("UPDATE generation SET value = value + 1 WHERE id = 1").run();
  }

  /** A Worker (one isolate) over `db`. */
  function isolate(db: ReturnType<typeof countingDatabase>) {
    const env: HeraldWorkerEnv = {
      HERALD_DB: db,
      HERALD_DELIVERIES: recordingQueue(),
      HERALD_CONFIG: JSON.stringify({ subscriptions: [] }),
      HERALD_LOG_LEVEL: "silent",
      HERALD_NO_AUTH: "true",
    };
    const worker = createHeraldWorker({ random: () => 0.5 });
    return (path: string, method = "GET", body?: unknown) =>
      worker.fetch(
        new Request(`http://herald.test${path}`, {
          method,
          ...(body === undefined
            ? {}
            : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
        }),
        env,
      );
  }

  it("the isolate that changed a subscription does not load them all again (read all 2,000 after each change)", async () => {
    await fillSubscriptions(2_000);
    const db = countingDatabase();
    const request = isolate(db);
    const first = await request("/subscriptions/s1");
    expect(first.status, await first.clone().text()).toBe(200);
    const sink = "http://sink.test/other";
    const created = await request("/subscriptions", "POST", { sink });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const changes: [string, string, unknown?][] = [
      [`/subscriptions/${id}`, "PUT", { sink: `${sink}/2` }],
      ["/subscriptions/s7", "DELETE"],
    ];
    const afterEach: number[] = [];
    for (const [path, method, body] of [
      [`/subscriptions`, "POST", { sink }],
      ...changes,
    ] as const) {
      expect((await request(path, method, body)).status).toBeLessThan(300);
      db.reset();
      expect((await request(`/subscriptions/${id}`)).status).toBe(200);
      afterEach.push(db.rowsRead);
    }
    // One generation read per request; a load of the set is 2,000 rows.
    for (const rows of afterEach) expect(rows).toBeLessThan(50);
    expect(((await (await request(`/subscriptions/${id}`)).json()) as { sink: string }).sink).toBe(
      `${sink}/2`,
    );
    expect((await request("/subscriptions/s7")).status).toBe(404);

    // A change through another isolate is loaded by this one on its next request.
    const other = isolate(countingDatabase());
    expect((await other("/subscriptions/s8", "DELETE")).status).toBe(200);
    expect((await request("/subscriptions/s8")).status).toBe(404);
    const third = await other("/subscriptions", "POST", { sink });
    const { id: thirdId } = (await third.json()) as { id: string };
    expect((await request(`/subscriptions/${thirdId}`)).status).toBe(200);
  });
});

describe("D1 acceptances: the table stays bounded", () => {
  it("a claim of more events than it prunes by default prunes at least as many expired rows as it adds (pruned 500)", async () => {
    const db = bindings.HERALD_DB;
    const now = 1_000_000;
    // 5,000 acceptances kept until before now: expired.
    await db
      .prepare(
        `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000)
         INSERT INTO accepted (id, key, dedupe_until, keep_until, accepted_at)
         SELECT 'old-' || x, 'old-key-' || x, 0, x, 0 FROM n`,
      )
      .run();
    const claims = Array.from({ length: 1_000 }, (_, n) => ({ id: `new-${n}`, key: `key-${n}` }));
    const won = await createD1Acceptances(db).claim(claims, now, 60_000, now + 60_000);
    expect(won.size).toBe(1_000);
    const rows = await db.prepare("SELECT COUNT(*) AS n FROM accepted").first<{ n: number }>();
    expect(rows?.n).toBeLessThanOrEqual(5_000);
  });
});
