import { existsSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeDirectories } from "./make-directories.js";
import { openSqliteStore } from "./sqlite-store.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-mkdir-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("makeDirectories", () => {
  it("creates every missing level and accepts one that exists", () => {
    const deep = join(dir, "a", "b", "c");
    makeDirectories(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    makeDirectories(deep);
    makeDirectories(dir);
    expect(statSync(deep).isDirectory()).toBe(true);
  });

  it("throws ENOTDIR when a file stands where a directory should be", () => {
    writeFileSync(join(dir, "file"), "x");
    expect(() => makeDirectories(join(dir, "file", "sub", "deeper"))).toThrow(
      expect.objectContaining({ code: "ENOTDIR" }),
    );
  });

  // Node's own recursive mkdirSync never returns for this path (it retries ENOENT forever).
  it.runIf(existsSync("/proc/self"))("fails at once under /proc instead of spinning", () => {
    expect(() => makeDirectories("/proc/self/herald-test/data")).toThrow(
      expect.objectContaining({ code: "ENOENT" }),
    );
  });

  it.runIf(existsSync("/proc/self"))("lets openSqliteStore refuse a store path under /proc", () => {
    expect(() => openSqliteStore({ path: "/proc/self/herald-test/herald.db" })).toThrow(
      /cannot open the SQLite store \/proc\/self\/herald-test\/herald\.db: ENOENT/,
    );
  });
});
