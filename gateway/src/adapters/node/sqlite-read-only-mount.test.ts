import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "./sqlite-store.js";

// A real read-only file system: a small tmpfs, written once, then remounted read-only. It
// refuses root too, whose file modes never do. Mounting needs root: elsewhere the tests are skipped.
const dir = mkdtempSync(join(tmpdir(), "herald-read-only-"));
let mounted = false;
beforeAll(async () => {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "ignore" });
    mounted = true;
  } catch {
    // Not root, or no mount: the tests below say they are skipped.
    return;
  }
  await openSqliteStore({ path: join(dir, "herald.db") }).close();
  execFileSync("mount", ["-o", "remount,ro", dir], { stdio: "ignore" });
});
afterAll(() => {
  if (mounted) execFileSync("umount", ["-l", dir]);
  rmSync(dir, { recursive: true, force: true });
});

describe("the SQLite store on a read-only file system", () => {
  it("says the file system is read-only for a store file there, not that permissions are missing", (ctx) => {
    if (!mounted) ctx.skip();
    const path = join(dir, "herald.db");
    expect(() => openSqliteStore({ path })).toThrow(
      `cannot open the SQLite store ${path}: it is on a read-only file system (${dir})`,
    );
  });

  it("says so for a new store file there too", (ctx) => {
    if (!mounted) ctx.skip();
    const path = join(dir, "new.db");
    expect(() => openSqliteStore({ path })).toThrow("it is on a read-only file system");
  });
});
