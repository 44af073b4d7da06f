import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { manualClock } from "../../deliver/delivery-queue.case.js";
import { openSqliteStore } from "./sqlite-store.js";

const support = fileURLToPath(new URL("../../../test/support/", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "herald-crash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the accept loop until `committed` events are reported, then kills it with SIGKILL. */
function acceptThenKill(path: string, committed: number) {
  const child = spawn(
    process.execPath,
    ["--import", join(support, "register-ts.mjs"), join(support, "sqlite-accept-loop.ts"), path],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const ids = new Set<string>();
  const leased = new Set<string>();
  let stderr = "";
  let rest = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<{ ids: Set<string>; leased: Set<string> }>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const [what, id = ""] = line.split(" ");
        if (what === "committed") ids.add(id);
        if (what === "leased") leased.add(id);
      }
      if (ids.size >= committed && child.exitCode === null) child.kill("SIGKILL");
    });
    child.on("exit", (_code, signal) => {
      if (signal === "SIGKILL") resolve({ ids, leased });
      else reject(new Error(`the accept loop ended by itself: ${stderr}`));
    });
  });
}

describe("SQLite store after kill -9", () => {
  it("keeps every event whose accept resolved, with its jobs; leased jobs come back", async () => {
    const path = join(dir, "crash.db");
    const { ids, leased } = await acceptThenKill(path, 3_000);
    expect(ids.size).toBeGreaterThanOrEqual(3_000);
    expect(leased.size).toBe(3);

    // Past every lease: the jobs leased before the crash are due again.
    const clock = manualClock(Date.now() + 3_600_000);
    // The live jobs the killed run left, as the file counts them (WAL included).
    const raw = new Database(path);
    const inFile = (
      raw.prepare("SELECT COUNT(*) AS n FROM jobs WHERE due_at IS NOT NULL").get() as { n: number }
    ).n;
    raw.close();
    const store = openSqliteStore({ path, clock });
    // The queue depth is counted at open: the jobs of the killed run, none lost or counted twice.
    expect(await store.queue.size()).toBe(inFile);
    const jobs = await store.queue.lease(1_000_000, 60_000, new AbortController().signal);
    expect(jobs).toHaveLength(inFile);
    const found = new Map<string, string[]>();
    for (const job of jobs) {
      const id = String(job.event.attributes.id);
      found.set(id, [...(found.get(id) ?? []), job.subscriptionId]);
      expect(job.event.data).toEqual({ kind: "json", value: { id: Number(id) } });
    }
    const missing = [...ids].filter((id) => found.get(id)?.sort().join() !== "a,b");
    expect(missing).toEqual([]);
    const jobIds = new Set(jobs.map((j) => j.id));
    expect([...leased].filter((id) => !jobIds.has(id))).toEqual([]);
    // Nothing half-stored: every stored event has both of its jobs.
    for (const subscriptions of found.values()) expect(subscriptions.sort()).toEqual(["a", "b"]);
    await store.close();
  }, 60_000);
});
