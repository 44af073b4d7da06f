import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { describeDeliveryQueue, manualClock } from "../../deliver/delivery-queue.case.js";
import type { DeliveryQueue } from "../../deliver/delivery-queue.js";
import { Unavailable } from "../../errors/errors.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { silentLogger } from "../../ports/logger.js";
import { dedupeKey } from "../../store/dedupe-window.js";
import { encodeEvent } from "../../store/event-codec.js";
import { describeSubscriptionStore } from "../../store/subscription-store.case.js";
import { DEFAULT_DELIVERY, type Subscription } from "../../subscriptions/subscription.js";
import { MIGRATIONS } from "./sqlite-schema.js";
import {
  createSqliteStore,
  openSqliteStore,
  type SqliteStore,
  WAL_KEPT_BYTES,
} from "./sqlite-store.js";

const dir = mkdtempSync(join(tmpdir(), "herald-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshPath = () => join(dir, `store-${++files}`, "herald.db");
/** A connection of the test's own on a fresh file, to make it fail on purpose. */
const freshDatabase = () => {
  const path = freshPath();
  mkdirSync(dirname(path), { recursive: true });
  return { path, db: new Database(path) };
};

const stores = new Map<DeliveryQueue, SqliteStore>();
describeDeliveryQueue(
  "sqlite",
  (clock, { dedupeWindowMs }) => {
    const store = openSqliteStore({ path: freshPath(), clock, dedupeWindowMs });
    stores.set(store.queue, store);
    return store.queue;
  },
  (queue) => stores.get(queue)?.close(),
);
// Every job an indexed row, as after a restart with a backlog: leases read the file, past the
// rows held (see `heldTo` in sqlite-queue.ts).
describeDeliveryQueue(
  "sqlite, every job indexed",
  (clock, { dedupeWindowMs }) => {
    const store = openSqliteStore({ path: freshPath(), clock, dedupeWindowMs, memoryJobs: 0 });
    stores.set(store.queue, store);
    return store.queue;
  },
  (queue) => stores.get(queue)?.close(),
);
describeSubscriptionStore(
  "sqlite",
  async () => openSqliteStore({ path: freshPath() }).subscriptions,
);

const event = (id: string): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/s", type: "t" },
  data: { kind: "json", value: { id }, text: `{"id": "${id}"}` },
});
const never = () => new AbortController().signal;

/** An API-created subscription as the store keeps one. */
const apiSubscription: Subscription = {
  id: "api",
  filters: [],
  sink: "http://127.0.0.1:9/x",
  protocol: "HTTP",
  protocolsettings: { headers: {} },
  delivery: DEFAULT_DELIVERY,
};

/** A job row of an old schema: event id, attempts, due_at, failure JSON, dead_at. */
type OldJobRow = [string, number, number | null, string | null, number | null];

/**
 * A fresh file at schema `version` (its migrations only) holding one event and one job of
 * subscription `a` per row; still open, for the caller to add to and close.
 */
function oldSchemaFile(version: number, rows: readonly OldJobRow[]) {
  const file = freshDatabase();
  const { db } = file;
  for (const sql of MIGRATIONS.slice(0, version)) db.exec(sql);
  db.pragma(`user_version = ${version}`);
  const insertEvent = db.prepare("INSERT INTO events (body, refs) VALUES (?, 1)");
  const insertJob = db.prepare(
    `INSERT INTO jobs (event_id, subscription_id, attempts, due_at, failure, dead_at)
     VALUES (?, 'a', ?, ?, ?, ?)`,
  );
  for (const [id, attempts, dueAt, text, deadAt] of rows) {
    const eventId = insertEvent.run(encodeEvent(event(id))).lastInsertRowid;
    insertJob.run(eventId, attempts, dueAt, text, deadAt);
  }
  return file;
}

describe("openSqliteStore", () => {
  it("keeps everything across a reopen: events, jobs, attempts, dead set, dedupe, subscriptions", async () => {
    const path = freshPath();
    const clock = manualClock();
    const first = openSqliteStore({ path, clock });
    await first.queue.accept([
      { event: event("1"), subscriptionIds: ["a", "b"] },
      { event: event("2"), subscriptionIds: ["a"] },
      { event: event("3"), subscriptionIds: [] },
    ]);
    const [a1, b1, a2] = await first.queue.lease(3, 60_000, never());
    await first.queue.reschedule(a1?.id ?? "", clock.now(), { status: 503, error: "busy", at: 5 });
    await first.queue.bury(b1?.id ?? "", { status: 400, error: "bad", at: 6 });
    await first.subscriptions.put(apiSubscription);
    await first.subscriptions.setDisabled("a", { at: 7, reason: "gone" });
    await first.close();

    const second = openSqliteStore({ path, clock });
    expect(await second.queue.size()).toBe(2);
    const jobs = await second.queue.lease(10, 60_000, never());
    // The job leased by the run that ended comes back at once: the file has one owner, so its
    // lease belonged to a run that is over (exclusive mode), not to someone still delivering it.
    expect(jobs.map((j) => [j.id, j.attempts, j.lastFailure?.status])).toEqual([
      [a1?.id, 1, 503],
      [a2?.id, 0, undefined],
    ]);
    expect(jobs[0]?.event).toEqual(event("1"));
    await second.queue.complete(a1?.id ?? "");
    await second.queue.complete(a2?.id ?? "");
    const dead = await second.queue.dead("b", { limit: 10 });
    expect(dead.map((j) => [j.id, j.attempts, j.failure])).toEqual([
      [b1?.id, 1, { status: 400, error: "bad", at: 6 }],
    ]);
    expect(await second.queue.accept([{ event: event("3"), subscriptionIds: ["a"] }])).toEqual({
      events: 0,
      duplicates: 1,
      jobs: 0,
    });
    expect(await second.subscriptions.list()).toEqual([apiSubscription]);
    expect(await second.subscriptions.disabled()).toEqual(
      new Map([["a", { at: 7, reason: "gone" }]]),
    );
    await second.close();
  });

  it("opens a file of schema version 1: the disabled states stay and gain a definition column", async () => {
    const { path, db } = freshDatabase();
    db.exec(MIGRATIONS[0] as string);
    db.pragma("user_version = 1");
    db.prepare("INSERT INTO disabled (id, at, reason) VALUES ('a', 7, 'gone')").run();
    db.close();
    const store = openSqliteStore({ path });
    try {
      expect(await store.subscriptions.disabled()).toStrictEqual(
        new Map([["a", { at: 7, reason: "gone" }]]),
      );
      await store.subscriptions.setDisabled("b", { at: 8, reason: "gone", definition: "f00d" });
      expect((await store.subscriptions.disabled()).get("b")).toStrictEqual({
        at: 8,
        reason: "gone",
        definition: "f00d",
      });
    } finally {
      await store.close();
    }
  });

  it("opens a file of schema version 2: its base64 events are delivered as they were, new binary data is kept as bytes", async () => {
    const { path, db } = freshDatabase();
    for (const sql of MIGRATIONS.slice(0, 2)) db.exec(sql);
    db.pragma("user_version = 2");
    const old: CloudEvent = {
      attributes: { specversion: "1.0", id: "old", source: "/s", type: "t" },
      data: { kind: "binary", value: new Uint8Array([0, 159, 255]) },
    };
    const eventId = db
      .prepare("INSERT INTO events (body, refs) VALUES (?, 1)")
      .run(encodeEvent(old)).lastInsertRowid;
    db.prepare("INSERT INTO jobs (event_id, subscription_id, due_at) VALUES (?, 'a', 0)").run(
      eventId,
    );
    db.close();
    const store = openSqliteStore({ path, exclusive: false });
    try {
      const fresh: CloudEvent = {
        attributes: { specversion: "1.0", id: "new", source: "/s", type: "t" },
        data: { kind: "binary", value: new Uint8Array([1, 2, 3, 0xc3]) },
      };
      await store.queue.accept([{ event: fresh, subscriptionIds: ["a"] }]);
      const jobs = await store.queue.lease(10, 60_000, never());
      expect(jobs.map((job) => job.event)).toStrictEqual([old, fresh]);
      const reader = new Database(path, { readonly: true });
      const row = reader
        .prepare("SELECT body, data FROM events WHERE body LIKE '%\"new\"%'")
        .get() as {
        body: string;
        data: Buffer;
      };
      reader.close();
      expect([...row.data]).toEqual([1, 2, 3, 0xc3]);
      expect(row.body).not.toContain(btoa("\x01\x02\x03\xc3"));
    } finally {
      await store.close();
    }
  });
  it("opens a file of schema version 3: its due, retrying and dead jobs keep their state beside new jobs waiting in memory", async () => {
    const failure = { status: 503, error: "down", at: 900 };
    const { path, db } = oldSchemaFile(3, [
      ["due", 0, 1_000, null, null],
      ["retrying", 2, 5_000, JSON.stringify(failure), null],
      ["dead", 4, null, JSON.stringify(failure), 950],
    ]);
    db.close();
    const clock = manualClock(2_000);
    const store = openSqliteStore({ path, clock, exclusive: false });
    try {
      await store.queue.accept([{ event: event("new"), subscriptionIds: ["a"] }]);
      const ids = async () =>
        (await store.queue.lease(10, 60_000, AbortSignal.timeout(50))).map((job) => [
          job.event.attributes.id,
          job.attempts,
        ]);
      expect(await ids()).toEqual([
        ["due", 0],
        ["new", 0],
      ]);
      clock.advance(3_000);
      expect(await ids()).toEqual([["retrying", 2]]);
      const dead = await store.queue.dead("a", { limit: 10 });
      expect(dead.map((job) => [job.event.attributes.id, job.failure])).toEqual([
        ["dead", failure],
      ]);
      expect(await store.queue.redrive("a")).toBe(1);
      expect(await ids()).toEqual([["dead", 0]]);
      expect(await store.queue.size()).toBe(4);
    } finally {
      await store.close();
    }
  });

  it("opens a file of schema version 4 left by a killed run: its jobs, dead set, subscriptions and dedupe keys go on", async () => {
    const failure = { status: 400, error: "HTTP 400", at: 900 };
    // A job the killed run held in memory (due 0), one waiting for a retry, one dead.
    const rows: OldJobRow[] = [
      ["in-memory", 0, 0, null, null],
      ["retrying", 1, 5_000, JSON.stringify(failure), null],
      ["dead", 1, null, JSON.stringify(failure), 950],
    ];
    const { path, db } = oldSchemaFile(4, rows);
    const insertKey = db.prepare("INSERT INTO dedupe (key, expires_at) VALUES (?, ?)");
    for (const [id] of rows) insertKey.run(dedupeKey("/s", id), 1_000 + 60_000);
    db.prepare("INSERT INTO subscriptions (id, body) VALUES ('api', ?)").run(
      JSON.stringify(apiSubscription),
    );
    db.close();
    const clock = manualClock(2_000);
    const store = openSqliteStore({ path, clock, dedupeWindowMs: 60_000 });
    try {
      const ids = async () =>
        (await store.queue.lease(10, 60_000, AbortSignal.timeout(50))).map(
          (job) => job.event.attributes.id,
        );
      expect(await ids()).toEqual(["in-memory"]);
      clock.advance(3_000);
      expect(await ids()).toEqual(["retrying"]);
      expect((await store.queue.dead("a", { limit: 10 })).map((job) => job.failure)).toEqual([
        failure,
      ]);
      expect(await store.subscriptions.list()).toEqual([apiSubscription]);
      // The keys are still duplicates within the window they were written under, not after.
      expect(
        (await store.queue.accept([{ event: event("dead"), subscriptionIds: ["a"] }])).duplicates,
      ).toBe(1);
      clock.advance(56_000);
      expect(
        (await store.queue.accept([{ event: event("dead"), subscriptionIds: ["a"] }])).duplicates,
      ).toBe(0);
      expect(await store.queue.redrive("a")).toBe(1);
    } finally {
      await store.close();
    }
  });

  it("stores an event once for all its jobs and deletes it with its last job", async () => {
    const path = freshPath();
    // Not exclusive: the test reads the file through a second connection.
    const store = openSqliteStore({ path, exclusive: false });
    await store.queue.accept([{ event: event("1"), subscriptionIds: ["a", "b", "c"] }]);
    const db = new Database(path, { readonly: true });
    const events = () => (db.prepare("SELECT COUNT(*) AS n FROM events").get() as { n: number }).n;
    expect(events()).toBe(1);
    const jobs = await store.queue.lease(3, 60_000, never());
    await store.queue.complete(jobs[0]?.id ?? "");
    await store.queue.bury(jobs[1]?.id ?? "", { status: 500, error: "x", at: 1 });
    expect(events()).toBe(1);
    await store.queue.complete(jobs[2]?.id ?? "");
    expect(events()).toBe(1);
    expect(await store.queue.drop("b")).toBe(1);
    expect(events()).toBe(0);
    db.close();
    await store.close();
  });

  it("prunes dedupe keys once they expire, also those of an earlier run, and not before", async () => {
    const path = freshPath();
    const clock = manualClock();
    const window = 60_000;
    const keys = (db: Database.Database) =>
      (db.prepare("SELECT COUNT(*) AS n FROM dedupe").get() as { n: number }).n;
    const first = openSqliteStore({ path, clock, dedupeWindowMs: window, exclusive: false });
    await first.queue.accept(
      Array.from({ length: 5 }, (_, i) => ({ event: event(`old-${i}`), subscriptionIds: [] })),
    );
    await first.close();

    const second = openSqliteStore({ path, clock, dedupeWindowMs: window, exclusive: false });
    const db = new Database(path, { readonly: true });
    clock.advance(window - 1);
    await second.queue.accept([{ event: event("new-1"), subscriptionIds: [] }]);
    expect(keys(db)).toBe(6);
    // The earlier run's keys expire now: the next accept takes them out, and keeps its own.
    clock.advance(1);
    await second.queue.accept([{ event: event("new-2"), subscriptionIds: [] }]);
    expect(keys(db)).toBe(2);
    const again = await second.queue.accept([{ event: event("old-0"), subscriptionIds: ["a"] }]);
    expect(again).toEqual({ events: 1, duplicates: 0, jobs: 1 });
    db.close();
    await second.close();
  });

  it("applies a dedupe window changed between runs to the keys of the earlier run", async () => {
    const path = freshPath();
    const clock = manualClock();
    const hour = 3_600_000;
    const accept = async (store: SqliteStore, id: string) =>
      (await store.queue.accept([{ event: event(id), subscriptionIds: [] }])).duplicates;
    const first = openSqliteStore({ path, clock, dedupeWindowMs: 24 * hour });
    await accept(first, "1");
    clock.advance(2 * hour);
    await accept(first, "2");
    await first.close();

    // Shortened to 1h: "1" was accepted 2h ago, so it is no longer a duplicate; "2" still is.
    const second = openSqliteStore({ path, clock, dedupeWindowMs: hour });
    expect(await accept(second, "1")).toBe(0);
    expect(await accept(second, "2")).toBe(1);
    await second.close();

    // Lengthened to 3h: "2" (accepted at 2h) is a duplicate until 5h, no longer.
    const third = openSqliteStore({ path, clock, dedupeWindowMs: 3 * hour });
    clock.advance(3 * hour - 1);
    expect(await accept(third, "2")).toBe(1);
    clock.advance(1);
    expect(await accept(third, "2")).toBe(0);
    await third.close();

    // Turned off: nothing stored before is a duplicate any more.
    const fourth = openSqliteStore({ path, clock, dedupeWindowMs: 0 });
    expect(await accept(fourth, "2")).toBe(0);
    await fourth.close();
  });

  it("applies a changed dedupe window without rewriting the stored keys, and prunes by it", async () => {
    // Rewriting every key (and its index entry) took 20 s per million keys at start.
    const path = freshPath();
    const clock = manualClock();
    const hour = 3_600_000;
    const first = openSqliteStore({ path, clock, dedupeWindowMs: 24 * hour });
    await first.queue.accept(
      Array.from({ length: 50 }, (_, i) => ({ event: event(`k-${i}`), subscriptionIds: [] })),
    );
    await first.close();
    const keys = () => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare("SELECT key, expires_at FROM dedupe ORDER BY key").all();
      } finally {
        db.close();
      }
    };
    const stored = keys();
    expect(stored).toHaveLength(50);

    const second = openSqliteStore({ path, clock, dedupeWindowMs: hour, exclusive: false });
    expect(keys()).toStrictEqual(stored);
    clock.advance(hour - 1);
    expect(
      (await second.queue.accept([{ event: event("k-0"), subscriptionIds: [] }])).duplicates,
    ).toBe(1);
    // An hour on, the earlier run's keys have expired under the new window: the next accept
    // prunes them (the rest of the 24h they were written under does not count).
    clock.advance(1);
    await second.queue.accept([{ event: event("new"), subscriptionIds: [] }]);
    expect(keys().map((row) => (row as { key: string }).key)).toStrictEqual([
      dedupeKey("/s", "new"),
    ]);
    await second.close();
  });

  it("cuts the WAL back after one large transaction (an accept of 12 MB of events)", async () => {
    const path = freshPath();
    const walSize = () => statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    const store = openSqliteStore({ path });
    try {
      // A redrive, discard or drop of a whole dead set goes in chunks (sqlite-dead-chunks.test.ts);
      // one accept is one transaction.
      const size = 1024 * 1024;
      const accepted = Array.from({ length: 12 }, (_, i) => ({
        event: {
          attributes: { specversion: "1.0", id: `big-${i}`, source: "/s", type: "t" },
          data: { kind: "binary" as const, value: new Uint8Array(size).fill(i) },
        },
        subscriptionIds: ["a"],
      }));
      expect((await store.queue.accept(accepted)).jobs).toBe(12);
      expect(walSize()).toBeGreaterThan(WAL_KEPT_BYTES);
      // The next write starts the checkpointed WAL over, and cuts its file back.
      await store.queue.accept([{ event: event("next"), subscriptionIds: [] }]);
      expect(walSize()).toBeLessThanOrEqual(WAL_KEPT_BYTES);
    } finally {
      await store.close();
    }
  });

  it("hands out large binary events whole, byte for byte, to every subscription", async () => {
    const store = openSqliteStore({ path: freshPath() });
    const size = 1024 * 1024;
    const accepted: CloudEvent[] = Array.from({ length: 12 }, (_, i) => ({
      attributes: { specversion: "1.0", id: `big-${i}`, source: "/s", type: "t" },
      data: { kind: "binary", value: new Uint8Array(size).fill(i) },
    }));
    // Two subscriptions: each event is stored once and handed out twice.
    for (const event of accepted) {
      await store.queue.accept([{ event, subscriptionIds: ["a", "b"] }]);
    }
    const jobs = await store.queue.lease(100, 60_000, never());
    expect(jobs).toHaveLength(24);
    for (const job of jobs) {
      const i = Number(String(job.event.attributes.id).slice(4));
      const { data } = job.event;
      expect(job.event.attributes).toStrictEqual(accepted[i]?.attributes);
      // Byte for byte (a deep equality over 1 MiB arrays would take seconds).
      const bytes = data?.kind === "binary" ? data.value : new Uint8Array();
      expect(bytes.byteLength).toBe(size);
      expect(bytes.every((b) => b === i)).toBe(true);
    }
    for (const job of jobs) await store.queue.complete(job.id);
    expect(await store.queue.size()).toBe(0);
    await store.close();
  });

  it("hands out a fresh job's event as stored, sharing nothing with the accepted object", async () => {
    const store = openSqliteStore({ path: freshPath() });
    const body = new Uint8Array(4096).fill(7);
    // The event's bytes are a view into a larger buffer, as a request body's are.
    const view = body.subarray(100, 110);
    const accepted: CloudEvent = {
      attributes: { specversion: "1.0", id: "shared-1", source: "/s", type: "t" },
      data: { kind: "binary", value: view },
    };
    await store.queue.accept([{ event: accepted, subscriptionIds: ["a"] }]);
    body.fill(9); // the request's buffer is reused after the 202
    const [job] = await store.queue.lease(1, 60_000, never());
    expect(job?.event).not.toBe(accepted);
    expect(job?.event.data).toStrictEqual({ kind: "binary", value: new Uint8Array(10).fill(7) });
    await store.close();
  });

  it("commits concurrent accepts together: 1,000 accepts in far fewer transactions", async () => {
    const store = openSqliteStore({ path: freshPath() });
    const before = store.transactions();
    const results = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        store.queue.accept([{ event: event(String(i)), subscriptionIds: ["a"] }]),
      ),
    );
    const transactions = store.transactions() - before;
    expect(results.every((r) => r.jobs === 1)).toBe(true);
    expect(await store.queue.size()).toBe(1_000);
    expect(transactions).toBeLessThanOrEqual(10);
    await store.close();
  });

  it("names the path when it cannot be opened (a file where a directory should be)", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "not a directory");
    const path = join(file, "herald.db");
    expect(() => openSqliteStore({ path })).toThrow(
      `cannot open the SQLite store ${path}: ${file} is a file, not a folder`,
    );
    // Also deeper down, where the folders to create run into it.
    const deeper = join(file, "a", "b", "herald.db");
    expect(() => openSqliteStore({ path: deeper })).toThrow(`: ${file} is a file, not a folder`);
  });

  it("says so when store.path is a folder, rather than SQLite's 'unable to open database file'", () => {
    const folder = join(dir, "a-folder");
    mkdirSync(folder);
    expect(() => openSqliteStore({ path: folder })).toThrow(
      `cannot open the SQLite store ${folder}: it is a folder; give store.path a file name in it, such as ${folder}/herald.db`,
    );
  });

  // Root may write anywhere, so these need another user to mean anything.
  it.skipIf(process.getuid?.() === 0)(
    "says which permission is missing: a folder it may not write, a file it may not write",
    async () => {
      const folder = join(dir, "read-only-folder");
      mkdirSync(folder);
      chmodSync(folder, 0o555);
      try {
        expect(() => openSqliteStore({ path: join(folder, "herald.db") })).toThrow(
          `this user may not create files in ${folder}`,
        );
      } finally {
        chmodSync(folder, 0o755);
      }
      const path = freshPath();
      await openSqliteStore({ path }).close();
      chmodSync(path, 0o444);
      expect(() => openSqliteStore({ path })).toThrow("this user may not read and write it");
    },
  );

  it("refuses a file of a newer Herald's schema, naming both versions, and leaves it as it was", () => {
    const { path, db } = freshDatabase();
    // A file SQLite's default journal (not WAL): switching it was a write into a refused file.
    for (const sql of MIGRATIONS) db.exec(sql);
    db.exec("CREATE TABLE later (x)");
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    const before = readFileSync(path);
    expect(() => openSqliteStore({ path })).toThrow(
      `cannot open the SQLite store ${path}: the store ${path} has schema version ${MIGRATIONS.length + 1}, written by a newer Herald; this Herald knows up to ${MIGRATIONS.length}`,
    );
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(readdirSync(dirname(path))).toEqual(["herald.db"]);
  });

  it("names the path when the file is not a database", () => {
    const path = join(dir, "garbage.db");
    writeFileSync(path, "x".repeat(4096));
    expect(() => openSqliteStore({ path })).toThrow(path);
  });

  it("refuses a read-only database with a clear error", async () => {
    // Root ignores file modes, so the connection is opened read-only instead (SQLite also falls
    // back to read-only by itself when it may not write the file).
    const path = freshPath();
    await openSqliteStore({ path }).close();
    const db = new Database(path, { readonly: true });
    expect(() => createSqliteStore(db, { path })).toThrow(/readonly|read-only/i);
    db.close();
  });
});

describe("SQLite subscriptions of a damaged file", () => {
  it.each([
    ["not JSON", "{damaged", /is not JSON: /],
    ["null", "null", /is not a subscription with that id and a sink/],
    ["another id", '{"id":"other","sink":"http://127.0.0.1:9/x"}', /is not a subscription/],
    ["no sink", '{"id":"api"}', /is not a subscription/],
  ])("names the row whose definition is %s", async (_, body, why) => {
    const path = join(dir, `damaged-${body.length}.db`);
    const store = openSqliteStore({ path });
    await store.subscriptions.put(apiSubscription);
    await store.close();
    const db = new Database(path);
    db.prepare("UPDATE subscriptions SET body = ? WHERE id = 'api'").run(body);
    db.close();
    const reopened = openSqliteStore({ path });
    try {
      const failure = await reopened.subscriptions.list().catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(Error);
      expect((failure as Error).message).toMatch(/^the stored subscription "api" is damaged/);
      expect((failure as Error).message).toMatch(why);
    } finally {
      await reopened.close();
    }
  });
});

describe("SQLite store back-pressure", () => {
  const failure503 = { status: 503, error: "down", at: 1 };
  const one = (id: string) => [{ event: event(id), subscriptionIds: ["a"] }];
  let fences = 0;
  /**
   * Commits an event that matched nothing: an accept let in before it is stored by the time this
   * resolves, so one still not stored was not let in.
   */
  const fence = (store: SqliteStore) =>
    store.queue.accept([{ event: event(`fence-${++fences}`), subscriptionIds: [] }]);

  it("makes accept wait while the fresh backlog is full, and lets it in once jobs are taken", async () => {
    const store = openSqliteStore({ path: freshPath(), maxFresh: 2, maxWaitMs: 10_000 });
    await store.queue.accept(one("1"));
    await store.queue.accept(one("2"));
    const waiting = store.queue.accept(one("3"));
    // Another subscription's event goes through a commit. Had "3" been let in, it would have been
    // in that commit or an earlier one: only the two first jobs and this one are stored.
    await store.queue.accept([{ event: event("other"), subscriptionIds: ["b"] }]);
    expect(await store.queue.size()).toBe(3);
    await store.queue.lease(1, 60_000, never());
    expect(await waiting).toMatchObject({ events: 1, jobs: 1 });
    await store.close();
  });

  it("lets waiting accepts in oldest first, only as many as the jobs taken make room for", async () => {
    const store = openSqliteStore({ path: freshPath(), maxFresh: 2, maxWaitMs: 10_000 });
    await store.queue.accept(one("1"));
    await store.queue.accept(one("2"));
    const stored: string[] = [];
    const waiting = ["3", "4", "5"].map((id) =>
      store.queue.accept(one(id)).then(() => stored.push(id)),
    );
    await fence(store);
    expect(stored).toEqual([]);
    await store.queue.lease(1, 60_000, never());
    await fence(store);
    await fence(store);
    expect(stored).toEqual(["3"]);
    await store.queue.lease(2, 60_000, never());
    await Promise.all(waiting);
    expect(stored).toEqual(["3", "4", "5"]);
    await store.close();
  });

  it("does not let later events overtake a batch waiting for room", async () => {
    const store = openSqliteStore({ path: freshPath(), maxFresh: 3, maxWaitMs: 10_000 });
    await store.queue.accept(one("1"));
    await store.queue.accept(one("2"));
    const stored: string[] = [];
    const batch = store.queue.accept([...one("3"), ...one("4")]).then(() => stored.push("batch"));
    // It would fit on its own (2 + 1 <= 3), but the batch came first.
    const single = store.queue.accept(one("5")).then(() => stored.push("single"));
    await fence(store);
    expect(stored).toEqual([]);
    await store.queue.lease(1, 60_000, never());
    await batch;
    await fence(store);
    expect(stored).toEqual(["batch"]);
    await store.queue.lease(2, 60_000, never());
    await single;
    expect(stored).toEqual(["batch", "single"]);
    await store.close();
  });

  it("does not hold back another subscription's accepts behind one waiting for a full subscription", async () => {
    // A short wait: the accept for "b" alone fails with 503 if it is held behind the other.
    const store = openSqliteStore({ path: freshPath(), maxFresh: 2, maxWaitMs: 1_000 });
    await store.queue.accept(one("1"));
    await store.queue.accept(one("1b"));
    const stored: string[] = [];
    // An event for both "a" (full) and "b" (empty) waits for room in "a".
    const both = store.queue
      .accept([{ event: event("2"), subscriptionIds: ["a", "b"] }])
      .then(() => stored.push("both"));
    // One for "b" alone has room there: it is not queued behind the one waiting for "a".
    const onlyB = store.queue
      .accept([{ event: event("3"), subscriptionIds: ["b"] }])
      .then(() => stored.push("b"));
    await onlyB;
    expect(stored).toEqual(["b"]);
    // Room in "a" once the job of "1" is taken, and still beside "3" in "b".
    await store.queue.lease(1, 60_000, never());
    await both;
    expect(stored).toEqual(["b", "both"]);
    await store.close();
  });

  it("keeps a waiting accept's room in the subscriptions it fits: later ones do not take it", async () => {
    const store = openSqliteStore({ path: freshPath(), maxFresh: 2, maxWaitMs: 10_000 });
    await store.queue.accept(one("1"));
    await store.queue.accept(one("2"));
    await store.queue.accept([{ event: event("3"), subscriptionIds: ["b"] }]);
    const stored: string[] = [];
    // Waits for "a"; "b" has room for it, which it keeps.
    const both = store.queue
      .accept([{ event: event("4"), subscriptionIds: ["a", "b"] }])
      .then(() => stored.push("both"));
    // Would fit in "b" on its own (1 + 1 <= 2), but not beside the one waiting ahead of it.
    const onlyB = store.queue
      .accept([{ event: event("5"), subscriptionIds: ["b"] }])
      .then(() => stored.push("b"));
    await fence(store);
    expect(stored).toEqual([]);
    // The job of "1" is taken: room in "a", and the waiting one gets in first.
    await store.queue.lease(1, 60_000, never());
    await both;
    await fence(store);
    expect(stored).toEqual(["both"]);
    await store.queue.lease(3, 60_000, never());
    await onlyB;
    expect(stored).toEqual(["both", "b"]);
    await store.close();
  });

  it("hands the room of an accept whose events were all duplicates to the one waiting", async () => {
    const store = openSqliteStore({ path: freshPath(), maxFresh: 2, maxWaitMs: 1_500 });
    await store.queue.accept(one("1"));
    await store.queue.accept(one("2"));
    await store.queue.lease(2, 60_000, never());
    // Let in at once (nothing fresh), holding the room until stored; stores nothing: duplicates.
    const again = store.queue.accept([...one("1"), ...one("2")]);
    // No room beside those two: it waits, and nothing else frees room (no lease, no delivery).
    const waiting = store.queue.accept(one("3"));
    expect(await again).toMatchObject({ duplicates: 2, jobs: 0 });
    expect(await waiting).toMatchObject({ events: 1, jobs: 1 });
    await store.close();
  });

  it("answers 503 when no room comes within the wait", async () => {
    const store = openSqliteStore({ path: freshPath(), maxFresh: 1, maxWaitMs: 20 });
    await store.queue.accept(one("1"));
    const err = await store.queue.accept(one("2")).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: "unavailable" });
    expect(await store.queue.size()).toBe(1);
    await store.close();
  });

  it("does not hold back a settling accept (a reply, a receipt): its settle holds a delivery slot", async () => {
    const store = openSqliteStore({ path: freshPath(), maxFresh: 1, maxWaitMs: 60_000 });
    await store.queue.accept(one("1"));
    expect(await store.queue.accept(one("2"), { settling: true })).toMatchObject({ jobs: 1 });
    expect(await store.queue.size()).toBe(2);
    await store.close();
  });

  it("holds back only the publishers of the subscription that is behind", async () => {
    const store = openSqliteStore({ path: freshPath(), maxFresh: 1, maxWaitMs: 20 });
    await store.queue.accept(one("1"));
    const behind = await store.queue.accept(one("2")).catch((e: unknown) => e);
    expect(behind).toMatchObject({ status: 503 });
    const other = [{ event: event("3"), subscriptionIds: ["b"] }];
    expect(await store.queue.accept(other)).toMatchObject({ events: 1, jobs: 1 });
    await store.close();
  });

  it("does not hold back the publishers of a subscription whose sink is failing", async () => {
    const clock = manualClock();
    const store = openSqliteStore({ path: freshPath(), clock, maxFresh: 1, maxWaitMs: 20 });
    await store.queue.accept(one("1"));
    await store.queue.accept(one("2")).catch(() => undefined);
    const [job] = await store.queue.lease(1, 60_000, never());
    await store.queue.reschedule(job?.id ?? "", clock.now() + 60_000, failure503);
    await store.queue.accept(one("3"));
    // One failure is not yet a sink that is down.
    expect(await store.queue.accept(one("3b")).catch((e: unknown) => e)).toMatchObject({
      status: 503,
    });
    // Every attempt has failed for a second: new events for it are taken though fresh ones wait.
    clock.advance(1_000);
    expect(await store.queue.accept(one("4"))).toMatchObject({ events: 1 });
    // A delivery that works puts the limit back.
    const [next] = await store.queue.lease(1, 60_000, never());
    await store.queue.complete(next?.id ?? "");
    const held = await store.queue.accept(one("5")).catch((e: unknown) => e);
    expect(held).toMatchObject({ status: 503 });
    await store.close();
  });

  it("holds back the publishers of a slow sink that fails now and then", async () => {
    const clock = manualClock();
    const store = openSqliteStore({ path: freshPath(), clock, maxFresh: 2, maxWaitMs: 20 });
    for (const id of ["1", "2"]) await store.queue.accept(one(id));
    const [first, second] = await store.queue.lease(2, 60_000, never());
    for (const id of ["3", "4"]) await store.queue.accept(one(id));
    // One attempt fails: its publishers are still held back by the backlog ...
    await store.queue.reschedule(first?.id ?? "", clock.now() + 60_000, failure503);
    expect(await store.queue.accept(one("5")).catch((e: unknown) => e)).toMatchObject({
      status: 503,
    });
    // ... and the next one is delivered within the second: the sink works.
    clock.advance(500);
    await store.queue.complete(second?.id ?? "");
    clock.advance(1_000);
    expect(await store.queue.accept(one("6")).catch((e: unknown) => e)).toMatchObject({
      status: 503,
    });
    await store.close();
  });

  it("lets waiting accepts in once every attempt has failed for the while it takes", async () => {
    const store = openSqliteStore({
      path: freshPath(),
      maxFresh: 1,
      maxWaitMs: 10_000,
      failingAfterMs: 50,
    });
    await store.queue.accept(one("1"));
    const [job] = await store.queue.lease(1, 60_000, never());
    await store.queue.accept(one("2"));
    const waiting = store.queue.accept(one("3"));
    await store.queue.reschedule(job?.id ?? "", Date.now() + 60_000, failure503);
    const startedAt = Date.now();
    expect(await waiting).toMatchObject({ events: 1 });
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    await store.close();
  });

  it("does not count jobs waiting for a retry: a backlog behind a dead sink lives on disk", async () => {
    const clock = manualClock();
    const store = openSqliteStore({ path: freshPath(), clock, maxFresh: 2, maxWaitMs: 20 });
    for (const id of ["1", "2"]) await store.queue.accept(one(id));
    for (const job of await store.queue.lease(2, 60_000, never())) {
      await store.queue.reschedule(job.id, clock.now() + 60_000, {
        status: 0,
        error: "down",
        at: 1,
      });
    }
    for (const id of ["3", "4"]) await store.queue.accept(one(id));
    expect(await store.queue.size()).toBe(4);
    await store.close();
  });
});

describe("SQLite jobs waiting in memory", () => {
  const dueTimes = (path: string) => {
    const db = new Database(path, { readonly: true });
    const rows = db.prepare("SELECT due_at FROM jobs ORDER BY id").all() as { due_at: number }[];
    db.close();
    return rows.map((row) => row.due_at);
  };
  const accept = (queue: DeliveryQueue, id: string, subscriptionIds = ["a"]) =>
    queue.accept([{ event: event(id), subscriptionIds }]);
  const ids = (jobs: readonly { event: CloudEvent }[]) =>
    jobs.map((job) => job.event.attributes.id);
  const failure503 = { status: 503, error: "down", at: 1 };

  it("writes accepted jobs with due time 0 (in no due-time index), and makes them due after a restart", async () => {
    const path = freshPath();
    const clock = manualClock();
    const first = openSqliteStore({ path, clock, exclusive: false });
    await accept(first.queue, "1", ["a", "b"]);
    await accept(first.queue, "2");
    expect(dueTimes(path)).toEqual([0, 0, 0]);
    await first.close();

    clock.advance(5_000);
    const second = openSqliteStore({ path, clock, exclusive: false });
    expect(dueTimes(path)).toEqual([clock.now(), clock.now(), clock.now()]);
    const jobs = await second.queue.lease(10, 60_000, never());
    expect(jobs.map((job) => [job.event.attributes.id, job.subscriptionId])).toEqual([
      ["1", "a"],
      ["1", "b"],
      ["2", "a"],
    ]);
    expect(await second.queue.lease(10, 60_000, AbortSignal.timeout(50))).toEqual([]);
    await second.close();
  });

  it("writes jobs past the memory limit as due rows, and hands every job out once, in accept order", async () => {
    const path = freshPath();
    const clock = manualClock();
    const store = openSqliteStore({ path, clock, memoryJobs: 2, exclusive: false });
    for (const id of ["1", "2", "3", "4", "5"]) {
      await accept(store.queue, id);
      clock.advance(1);
    }
    const start = clock.now() - 5;
    expect(dueTimes(path)).toEqual([0, 0, start + 2, start + 3, start + 4]);
    expect(ids(await store.queue.lease(3, 60_000, never()))).toEqual(["1", "2", "3"]);
    // Memory has room again: the next accept waits there, after the older due rows.
    await accept(store.queue, "6");
    expect(ids(await store.queue.lease(10, 60_000, never()))).toEqual(["4", "5", "6"]);
    expect(await store.queue.lease(10, 60_000, AbortSignal.timeout(50))).toEqual([]);
    await store.close();
  });

  it("hands out a skipped subscription's due row to the next lease that does not skip it", async () => {
    const clock = manualClock();
    const store = openSqliteStore({ path: freshPath(), clock, memoryJobs: 0 });
    await accept(store.queue, "a1", ["a"]);
    await accept(store.queue, "b1", ["b"]);
    expect(ids(await store.queue.lease(10, 60_000, never(), new Set(["a"])))).toEqual(["b1"]);
    expect(ids(await store.queue.lease(10, 60_000, AbortSignal.timeout(1_000)))).toEqual(["a1"]);
    await store.close();
  });

  it("hands out a job in memory to a lease whose skip set no longer holds its subscription (the same set, changed)", async () => {
    // Memory sets a skipped subscription's jobs aside until a lease with another skip set: a
    // caller's set changed in place between leases must count as another one.
    const store = openSqliteStore({ path: freshPath(), clock: manualClock() });
    await accept(store.queue, "a1", ["a"]);
    await accept(store.queue, "b1", ["b"]);
    const skip = new Set(["a"]);
    expect(ids(await store.queue.lease(10, 60_000, never(), skip))).toEqual(["b1"]);
    skip.delete("a");
    expect(ids(await store.queue.lease(10, 60_000, AbortSignal.timeout(1_000), skip))).toEqual([
      "a1",
    ]);
    await store.close();
  });

  it("hands out due rows one lease at a time past the ones already held (after a restart)", async () => {
    const path = freshPath();
    const clock = manualClock();
    const first = openSqliteStore({ path, clock });
    for (const id of ["1", "2", "3"]) await accept(first.queue, id);
    await first.close();
    const second = openSqliteStore({ path, clock });
    const leased: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      leased.push(...ids(await second.queue.lease(1, 60_000, AbortSignal.timeout(1_000))));
    }
    expect(leased).toEqual(["1", "2", "3"]);
    await second.close();
  });

  it("hands a job back from an expired lease out at its retry, not at once, when its holder rescheduled it meanwhile", async () => {
    const clock = manualClock();
    const store = openSqliteStore({ path: freshPath(), clock });
    await accept(store.queue, "1");
    const [held] = await store.queue.lease(1, 1_000, never());
    clock.advance(1_000);
    // A lease that skips the subscription sees the expiry and leaves the job waiting.
    expect(await store.queue.lease(1, 1_000, AbortSignal.timeout(20), new Set(["a"]))).toEqual([]);
    await store.queue.reschedule(held?.id ?? "", clock.now() + 60_000, failure503);
    expect(await store.queue.lease(1, 1_000, AbortSignal.timeout(50))).toEqual([]);
    clock.advance(60_000);
    const [again] = await store.queue.lease(1, 1_000, never());
    expect(again).toMatchObject({ id: held?.id, attempts: 1, lastFailure: failure503 });
    await store.close();
  });

  it("never hands out again a job back from an expired lease that its holder completed meanwhile", async () => {
    const clock = manualClock();
    const store = openSqliteStore({ path: freshPath(), clock });
    await accept(store.queue, "1");
    await accept(store.queue, "2");
    const [held] = await store.queue.lease(1, 1_000, never());
    clock.advance(1_000);
    expect(await store.queue.lease(1, 1_000, AbortSignal.timeout(20), new Set(["a"]))).toEqual([]);
    await store.queue.complete(held?.id ?? "");
    expect(ids(await store.queue.lease(10, 1_000, never()))).toEqual(["2"]);
    expect(await store.queue.lease(10, 1_000, AbortSignal.timeout(50))).toEqual([]);
    await store.close();
  });

  it("hands a job back from an expired lease out after the jobs due before its expiry", async () => {
    const clock = manualClock();
    const store = openSqliteStore({ path: freshPath(), clock });
    await accept(store.queue, "1");
    await store.queue.lease(1, 1_000, never());
    clock.advance(500);
    await accept(store.queue, "2");
    clock.advance(1_000);
    await accept(store.queue, "3");
    expect(ids(await store.queue.lease(10, 1_000, never()))).toEqual(["2", "1", "3"]);
    await store.close();
  });

  it("drops with a subscription the jobs of an accept committed just before, in the same group", async () => {
    const store = openSqliteStore({ path: freshPath(), clock: manualClock() });
    const accepted = accept(store.queue, "1");
    // Past the accept's back-pressure check, before its group is written: one group, accept first.
    await new Promise((resolve) => process.nextTick(resolve));
    const dropped = store.queue.drop("a");
    await accepted;
    expect(await dropped).toBe(1);
    expect(await store.queue.lease(10, 1_000, AbortSignal.timeout(50))).toEqual([]);
    await store.close();
  });
});

describe("SQLite store as subscriptions come and go", () => {
  it("forgets a deleted subscription whose late accept's jobs were dropped: no lease looks for it again", async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const statements: string[] = [];
    const db = new Database(path, { verbose: (sql) => statements.push(String(sql)) });
    const clock = manualClock();
    const store = createSqliteStore(db, { path, clock });
    const { queue } = store;
    const accept = (id: string, subscriptionId: string) =>
      queue.accept([{ event: event(id), subscriptionIds: [subscriptionId] }]);
    // A DELETE with no such race costs no second scan of the table.
    await queue.drop("never-used");
    expect(statements.filter((sql) => sql.includes("DISTINCT"))).toHaveLength(1); // at open
    for (let i = 1; i <= 3; i++) {
      // A publish matched the subscription just before its DELETE, and is stored just after it
      // (one group, the drop first): its job outlives the drop, and the dispatcher, finding the
      // subscription gone, completes it.
      const dropped = queue.drop(`gone-${i}`);
      await accept(`late-${i}`, `gone-${i}`);
      await dropped;
      for (const job of await queue.lease(10, 60_000, never())) await queue.complete(job.id);
    }
    // The next DELETE, of a subscription with no jobs.
    await queue.drop("other");
    // A retry of a live subscription is due, and a lease skips a busy one: it looks at the
    // subscriptions with jobs one by one.
    await accept("1", "live");
    const [job] = await queue.lease(10, 60_000, never());
    await queue.reschedule(job?.id ?? "", clock.now(), { status: 503, error: "down", at: 1 });
    statements.length = 0;
    expect(await queue.lease(10, 60_000, never(), new Set(["busy"]))).toHaveLength(1);
    expect(statements.some((sql) => sql.includes("'live'"))).toBe(true);
    expect(statements.filter((sql) => sql.includes("'gone-"))).toEqual([]);
    await store.close();
  });
});

describe("SQLite store failures", () => {
  const accept = (queue: DeliveryQueue, ...ids: string[]) =>
    queue.accept(ids.map((id) => ({ event: event(id), subscriptionIds: ["a"] })));

  it("answers a full disk with Unavailable and stores nothing of the batch", async () => {
    const { path, db } = freshDatabase();
    const store = createSqliteStore(db, { path });
    await accept(store.queue, "0");
    // max_page_count caps the file at its current size: SQLite reports SQLITE_FULL, as on a full disk.
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const big = Array.from({ length: 200 }, (_, i) => String(i + 1));
    const err = await accept(store.queue, ...big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unavailable);
    expect(err).toMatchObject({ status: 503, message: expect.stringMatching(/full/) });
    db.pragma("max_page_count = 1073741823");
    expect(await accept(store.queue, ...big)).toMatchObject({ events: 200, duplicates: 0 });
    expect(await store.queue.size()).toBe(201);
    await store.close();
  });

  it("completes again after a group that failed before its completes ran", async () => {
    const { path, db } = freshDatabase();
    const store = createSqliteStore(db, { path, clock: manualClock() });
    await accept(store.queue, "1", "2");
    const [first, second] = await store.queue.lease(2, 60_000, never());
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    // The accept's work comes first in the group and fills the disk: the complete's never runs.
    const big = Array.from({ length: 300 }, (_, i) => ({
      event: event(`b${i}`),
      subscriptionIds: ["b"],
    }));
    const failed = store.queue.accept(big).catch((e: unknown) => e);
    const completed = store.queue.complete(first?.id ?? "").catch((e: unknown) => e);
    expect(await failed).toBeInstanceOf(Unavailable);
    expect(await completed).toBeInstanceOf(Unavailable);
    db.pragma("max_page_count = 1073741823");
    await store.queue.complete(second?.id ?? "");
    await store.queue.complete(first?.id ?? "");
    expect(await store.queue.size()).toBe(0);
    await store.close();
  });

  it("keeps the waiting jobs of a subscription deliverable when a full disk rolls back their drop", async () => {
    const { path, db } = freshDatabase();
    const store = createSqliteStore(db, { path, clock: manualClock() });
    await accept(store.queue, "1", "2");
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const dropped = store.queue.drop("a").catch((e: unknown) => e);
    // An accept in the same group fills the disk: SQLite rolls the whole group back.
    const big = Array.from({ length: 300 }, (_, i) => ({
      event: event(`b${i}`),
      subscriptionIds: ["b"],
    }));
    await new Promise((resolve) => process.nextTick(resolve));
    expect(await store.queue.accept(big).catch((e: unknown) => e)).toBeInstanceOf(Unavailable);
    expect(await dropped).toBeInstanceOf(Unavailable);
    db.pragma("max_page_count = 1073741823");
    expect(await store.queue.size()).toBe(2);
    const jobs = await store.queue.lease(10, 1_000, AbortSignal.timeout(50));
    expect(jobs.map((job) => job.event.attributes.id)).toEqual(["1", "2"]);
    await store.close();
  });

  it("says it cannot take events after the disk refused a write, until one gets through", async () => {
    const { path, db } = freshDatabase();
    const clock = manualClock();
    const store = createSqliteStore(db, { path, clock });
    await accept(store.queue, "0");
    expect(store.available()).toBe(true);
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const big = Array.from({ length: 200 }, (_, i) => String(i + 1));
    expect(await accept(store.queue, ...big).catch((e: unknown) => e)).toBeInstanceOf(Unavailable);
    expect(store.available()).toBe(false);
    db.pragma("max_page_count = 1073741823");
    await accept(store.queue, ...big);
    expect(store.available()).toBe(true);
    await store.close();
  });

  it("says it can take events again 5 s after the disk refused a write, so publishers retry", async () => {
    const { path, db } = freshDatabase();
    const clock = manualClock();
    const store = createSqliteStore(db, { path, clock });
    await accept(store.queue, "0");
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const big = Array.from({ length: 200 }, (_, i) => String(i + 1));
    expect(await accept(store.queue, ...big).catch((e: unknown) => e)).toBeInstanceOf(Unavailable);
    clock.advance(4_999);
    expect(store.available()).toBe(false);
    clock.advance(1);
    expect(store.available()).toBe(true);
    await store.close();
  });

  it("says it cannot take events once its file is gone from its path, and logs it once", async () => {
    const { path, db } = freshDatabase();
    const lines: string[] = [];
    const logger = { ...silentLogger, error: (msg: string) => void lines.push(msg) };
    const store = createSqliteStore(db, { path, logger });
    await accept(store.queue, "0");
    expect(store.available()).toBe(true);
    // Its folder deleted under the running process: SQLite keeps writing into the unlinked file.
    rmSync(dirname(path), { recursive: true });
    expect(store.available()).toBe(false);
    expect(store.available()).toBe(false);
    expect(lines.filter((line) => /no longer at its path/.test(line))).toHaveLength(1);
    await store.close();
  });

  it("says at close that the deliveries still queued in a file gone from its path are lost, and how many", async () => {
    const { path, db } = freshDatabase();
    const lines: { msg: string; fields: Record<string, unknown> | undefined }[] = [];
    const logger = {
      ...silentLogger,
      error: (msg: string, fields?: Record<string, unknown>) => void lines.push({ msg, fields }),
    };
    const store = createSqliteStore(db, { path, logger });
    await accept(store.queue, "0", "1");
    rmSync(dirname(path), { recursive: true });
    await store.close();
    expect(lines.filter(({ msg }) => /is lost/.test(msg))).toEqual([
      { msg: expect.stringMatching(/deleted or replaced/), fields: { path, queued: 2 } },
    ]);
  });

  it("refuses events once its file is gone from its path (looked at once a second at most)", async () => {
    const { path, db } = freshDatabase();
    const clock = manualClock();
    const store = createSqliteStore(db, { path, clock });
    await accept(store.queue, "0");
    rmSync(dirname(path), { recursive: true });
    clock.advance(1_000);
    const err = await accept(store.queue, "1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Unavailable);
    expect(err).toMatchObject({
      status: 503,
      message: expect.stringMatching(/deleted or replaced/),
    });
    expect(await accept(store.queue, "2").catch((e: unknown) => e)).toBeInstanceOf(Unavailable);
    await store.close();
  });

  it("hands a job out again at its retry's due time when a full disk failed its reschedule", async () => {
    const { path, db } = freshDatabase();
    const clock = manualClock();
    const store = createSqliteStore(db, { path, clock });
    await accept(store.queue, "1", "2");
    const failure = { status: 503, error: "down", at: clock.now() };
    // "1" is a fresh job (from memory), "2" an indexed retry: both kinds of lease.
    const [one, two] = await store.queue.lease(2, 60_000, never());
    await store.queue.reschedule(two?.id ?? "", clock.now(), failure);
    const [retry] = await store.queue.lease(1, 60_000, never());
    expect(retry?.attempts).toBe(1);
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    // An accept in the same group fills the disk: SQLite rolls the whole group back.
    const big = Array.from({ length: 300 }, (_, i) => ({
      event: event(`b${i}`),
      subscriptionIds: ["b"],
    }));
    const failed = [
      store.queue.reschedule(one?.id ?? "", clock.now() + 1_000, failure),
      store.queue.reschedule(retry?.id ?? "", clock.now() + 1_000, failure),
      store.queue.accept(big),
    ].map((p) =>
      p.then(
        () => "stored",
        (e: unknown) => e,
      ),
    );
    for (const outcome of await Promise.all(failed)) expect(outcome).toBeInstanceOf(Unavailable);
    db.pragma("max_page_count = 1073741823");
    clock.advance(999);
    // Not while the holder may still have it (nor before the retry's time).
    expect(await store.queue.lease(2, 60_000, AbortSignal.timeout(50))).toEqual([]);
    // Due again at the retry's time, long before the 60 s lease would end; the file kept the
    // state before the failed reschedule.
    clock.advance(1);
    const again = await store.queue.lease(2, 60_000, AbortSignal.timeout(1_000));
    expect(again.map((j) => [j.event.attributes.id, j.attempts])).toEqual([
      ["1", 0],
      ["2", 1],
    ]);
    await store.close();
  });

  it("answers a read-only connection with Unavailable", async () => {
    const { path, db } = freshDatabase();
    const store = createSqliteStore(db, { path });
    db.pragma("query_only = ON");
    const err = await accept(store.queue, "1").catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, message: expect.stringMatching(/read-only/) });
    db.pragma("query_only = OFF");
    expect(await accept(store.queue, "1")).toMatchObject({ events: 1 });
    await store.close();
  });

  it("refuses a second owner of the file with a clear error, and lets it in after close", async () => {
    const path = freshPath();
    const first = openSqliteStore({ path });
    await accept(first.queue, "1");
    expect(() => openSqliteStore({ path })).toThrow(
      /cannot open the SQLite store .*herald\.db: another process holds it/,
    );
    await first.close();
    const second = openSqliteStore({ path });
    expect(await second.queue.size()).toBe(1);
    await second.close();
  });

  it("answers a database locked by another process with Unavailable, then recovers", async () => {
    const path = freshPath();
    // Not exclusive, so another connection can take the write lock for the test.
    const store = openSqliteStore({ path, exclusive: false });
    const other = new Database(path);
    other.exec("BEGIN IMMEDIATE");
    const err = await accept(store.queue, "1").catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, message: expect.stringMatching(/locked/) });
    other.exec("ROLLBACK");
    other.close();
    expect(await accept(store.queue, "1")).toMatchObject({ events: 1, duplicates: 0 });
    await store.close();
  });
});
