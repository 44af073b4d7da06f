import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { Unavailable } from "../../errors/errors.js";
import { createGroupCommit } from "./sqlite-group-commit.js";

const dir = mkdtempSync(join(tmpdir(), "herald-group-commit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const open: Database.Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

/** A fresh file with a table `t (v TEXT UNIQUE)`, a writer connection and a reader of its own. */
function fresh() {
  const path = join(dir, `db-${++files}`);
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.exec("CREATE TABLE t (v TEXT UNIQUE NOT NULL)");
  const reader = new Database(path, { readonly: true });
  open.push(db, reader);
  const insert = db.prepare("INSERT INTO t (v) VALUES (?)");
  const rows = () =>
    (reader.prepare("SELECT v FROM t ORDER BY v").all() as { v: string }[]).map((r) => r.v);
  return { db, insert, rows };
}

describe("createGroupCommit", () => {
  it("commits the works of one tick in one transaction, each resolving with its value once committed", async () => {
    const { db, insert, rows } = fresh();
    const group = createGroupCommit(db);
    const seen: string[][] = [];
    const results = await Promise.all(
      ["a", "b", "c"].map((v) =>
        group
          .run(() => insert.run(v).changes)
          .then((changes) => {
            // Another connection sees the write by the time the caller hears of it.
            seen.push(rows());
            return changes;
          }),
      ),
    );
    expect(results).toEqual([1, 1, 1]);
    expect(group.transactions).toBe(1);
    expect(seen).toEqual([
      ["a", "b", "c"],
      ["a", "b", "c"],
      ["a", "b", "c"],
    ]);
  });

  it("undoes only the writes of a work that throws, keeps the others, and rejects it with Unavailable", async () => {
    const { db, insert, rows } = fresh();
    const errors: unknown[] = [];
    const group = createGroupCommit(db, (err) => errors.push(err));
    const runs = { before: 0, failing: 0, after: 0 };
    const before = group.run(() => {
      runs.before++;
      insert.run("before");
      return "kept";
    });
    const failing = group.run(() => {
      runs.failing++;
      insert.run("half");
      insert.run("before"); // UNIQUE: throws after one write of its own
      return "never";
    });
    const after = group.run(() => {
      runs.after++;
      insert.run("after");
      return "kept too";
    });
    await expect(before).resolves.toBe("kept");
    await expect(failing).rejects.toBeInstanceOf(Unavailable);
    await expect(after).resolves.toBe("kept too");
    expect(rows()).toEqual(["after", "before"]);
    expect(group.transactions).toBe(1);
    expect(errors).toHaveLength(1);
    // The group ran once together, then again with each work on its own after the failure.
    expect(runs).toEqual({ before: 2, failing: 2, after: 1 });
  });

  it("keeps every write of a group in which nothing throws, running each work once", async () => {
    const { db, insert, rows } = fresh();
    const group = createGroupCommit(db);
    let runs = 0;
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        group.run(() => {
          runs++;
          insert.run(`v${String(i).padStart(2, "0")}`);
        }),
      ),
    );
    expect(runs).toBe(50);
    expect(rows()).toHaveLength(50);
  });

  it("rejects the whole group when the transaction itself is lost (a full disk), and goes on afterwards", async () => {
    const { db, insert, rows } = fresh();
    const group = createGroupCommit(db);
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const big = "x".repeat(64 * 1024);
    const outcomes = await Promise.allSettled([
      group.run(() => insert.run("small")),
      group.run(() => insert.run(big)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    for (const outcome of outcomes) {
      if (outcome.status === "rejected") expect(outcome.reason).toBeInstanceOf(Unavailable);
    }
    expect(rows()).toEqual([]);
    db.pragma("max_page_count = 1073741823");
    await group.run(() => insert.run("later"));
    expect(rows()).toEqual(["later"]);
  });
});

describe("createGroupCommit committed callbacks", () => {
  it("calls a work's committed callback once, with its last run's value, after the COMMIT and before any caller resumes", async () => {
    const { db, insert, rows } = fresh();
    const group = createGroupCommit(db);
    const log: string[] = [];
    const committed = (value: string) => log.push(`committed ${value}: ${rows().join(",")}`);
    let runs = 0;
    const results = [
      group.run(() => {
        runs++;
        insert.run("a");
        return `a${runs}`;
      }, committed),
      group.run(
        () => {
          insert.run("half");
          insert.run("a"); // UNIQUE: the group runs again, each work on its own
          return "never";
        },
        (value) => log.push(`committed ${value}`),
      ),
      group.run(() => {
        insert.run("b");
        return "b";
      }, committed),
    ].map((done) =>
      done.then(
        (value) => log.push(`resumed ${value}`),
        () => log.push("rejected"),
      ),
    );
    await Promise.all(results);
    // The first work ran twice: only its second run's value was stored, and is reported.
    expect(runs).toBe(2);
    expect(log).toEqual([
      "committed a2: a,b",
      "committed b: a,b",
      "resumed a2",
      "rejected",
      "resumed b",
    ]);
  });

  it("never calls committed for a group rolled back (a full disk)", async () => {
    const { db, insert } = fresh();
    const group = createGroupCommit(db);
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const log: string[] = [];
    const outcomes = await Promise.allSettled([
      group.run(
        () => insert.run("small"),
        () => log.push("small"),
      ),
      group.run(
        () => insert.run("x".repeat(64 * 1024)),
        () => log.push("big"),
      ),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    expect(log).toEqual([]);
    db.pragma("max_page_count = 1073741823");
    await group.run(
      () => insert.run("later"),
      () => log.push("later"),
    );
    expect(log).toEqual(["later"]);
  });
});
