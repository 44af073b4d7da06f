import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Unavailable } from "../../errors/errors.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { openSqliteStore, type SqliteStore } from "./sqlite-store.js";

// A real full disk: a 2 MB tmpfs, smaller than the 4 MB WAL SQLite lets grow before copying it
// back into the file. Mounting needs root: elsewhere the test is skipped.
const dir = mkdtempSync(join(tmpdir(), "herald-full-disk-"));
let mounted = false;
beforeAll(() => {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "ignore" });
    mounted = true;
  } catch {
    // Not root, or no mount: the test below says it is skipped.
  }
});
afterAll(() => {
  // Lazily: a failed test may leave the file open.
  if (mounted) execFileSync("umount", ["-l", dir]);
  rmSync(dir, { recursive: true, force: true });
});

const pad = "x".repeat(2_000);
let next = 0;
const event = (): CloudEvent => {
  const id = String(next++);
  return {
    attributes: { specversion: "1.0", id, source: "/full", type: "t" },
    data: { kind: "json", value: { pad }, text: JSON.stringify({ pad }) },
  };
};

/** Accepts 5 events and delivers them: the file's data stays small, but each write adds to the WAL. */
async function churn(store: SqliteStore): Promise<void> {
  await store.queue.accept(
    Array.from({ length: 5 }, () => ({ event: event(), subscriptionIds: ["a"] })),
  );
  const jobs = await store.queue.lease(5, 60_000, AbortSignal.timeout(1_000));
  for (const job of jobs) await store.queue.complete(job.id);
}

/** Fills the disk but for `kb` KiB. */
const leaveRoom = (kb: number) => {
  const { bavail, bsize } = statfsSync(dir);
  writeFileSync(join(dir, "filler"), Buffer.alloc(Math.max(0, bavail * bsize - kb * 1024)));
};

describe("the SQLite store on a small disk", () => {
  it("keeps its WAL small: far more writes than the room left never fill it", async (ctx) => {
    if (!mounted) ctx.skip();
    // About 600 KB left: SQLite's WAL alone would fill it long before its first checkpoint.
    leaveRoom(600);
    const store = openSqliteStore({ path: join(dir, "small", "herald.db") });
    ctx.onTestFinished(async () => {
      await store.close();
      rmSync(join(dir, "small"), { recursive: true, force: true });
      rmSync(join(dir, "filler"), { force: true });
    });
    // About 8 MB of writes.
    for (let i = 0; i < 400; i++) await churn(store);
    expect(store.available()).toBe(true);
  }, 60_000);

  it("takes events again for good once room comes back after it ran full", async (ctx) => {
    if (!mounted) ctx.skip();
    const store = openSqliteStore({ path: join(dir, "full", "herald.db") });
    ctx.onTestFinished(async () => {
      await store.close();
      rmSync(join(dir, "full"), { recursive: true, force: true });
      rmSync(join(dir, "filler"), { force: true });
    });
    await churn(store);
    leaveRoom(0);
    let refused: unknown;
    for (let i = 0; i < 1_000 && refused === undefined; i++) {
      refused = await churn(store).catch((err: unknown) => err);
    }
    expect(refused).toBeInstanceOf(Unavailable);
    expect(store.available()).toBe(false);
    rmSync(join(dir, "filler"));
    // Room came back (almost 2 MB): about 8 MB of writes more. Without checkpoints the WAL
    // fills the disk again; with them it stays small.
    for (let i = 0; i < 400; i++) await churn(store);
    expect(store.available()).toBe(true);
  }, 60_000);
});
