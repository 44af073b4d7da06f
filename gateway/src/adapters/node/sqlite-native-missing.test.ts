import { execFile, spawn } from "node:child_process";
import { once } from "node:events";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// An install whose better-sqlite3 never ran its install script (`npm install --ignore-scripts`,
// or npm 11's `allowScripts` leaving it out): the package is there, its native module is not.
// The layout: a node_modules with the workspace's packages linked in, better-sqlite3 copied
// without its build/, and node told to resolve from the links (--preserve-symlinks).
const root = fileURLToPath(new URL("../../../../", import.meta.url));
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "herald-no-native-"));
  const modules = join(dir, "node_modules");
  mkdirSync(join(modules, "@herald"), { recursive: true });
  for (const name of readdirSync(join(root, "node_modules"))) {
    if (name === "better-sqlite3" || name === "@herald" || name.startsWith(".")) continue;
    symlinkSync(join(root, "node_modules", name), join(modules, name));
  }
  symlinkSync(join(root, "gateway"), join(modules, "@herald", "gateway"));
  for (const part of ["package.json", "lib"]) {
    cpSync(join(root, "node_modules/better-sqlite3", part), join(modules, "better-sqlite3", part), {
      recursive: true,
    });
  }
  mkdirSync(join(dir, "run"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NODE_FLAGS = ["--preserve-symlinks", "--preserve-symlinks-main"];
const bin = () => join(dir, "node_modules/@herald/gateway/bin/herald.js");

function herald(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [...NODE_FLAGS, bin(), ...args],
      {
        cwd: join(dir, "run"),
        env: { ...process.env, HERALD_LOG_LEVEL: "error" },
        timeout: 15_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : (err.code as number), stdout, stderr }),
    );
  });
}

describe("herald serve where better-sqlite3's native module was never built", () => {
  it("says so and how to fix it, instead of the dozen paths better-sqlite3 tried", async () => {
    const { code, stderr } = await herald(["serve", "--port", "0"]);
    expect(code).toBe(1);
    expect(stderr).toContain("better-sqlite3's native module is not built");
    expect(stderr).toContain("npm rebuild better-sqlite3");
    expect(stderr).not.toContain("Tried:");
  });

  it("serves on the memory store, which needs no native module", async () => {
    writeFileSync(join(dir, "run/herald.yaml"), "store: { kind: memory }\nsubscriptions: []\n");
    const child = spawn(
      process.execPath,
      [...NODE_FLAGS, bin(), "serve", "--no-auth", "--port", "0"],
      {
        cwd: join(dir, "run"),
        env: { ...process.env, HERALD_LOG_LEVEL: "error" },
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
    const url = /^herald listening on (http:\/\/\S+)$/.exec(line)?.[1];
    const health = await fetch(`${url}/healthz`);
    child.kill("SIGTERM");
    expect(health.status).toBe(200);
    expect(await exited).toBe(0);
  });
});
