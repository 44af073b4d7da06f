import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The gateway's CLI in this repository (built by `npm run build`; turbo builds it before tests). */
export const HERALD_BIN = fileURLToPath(new URL("../../gateway/bin/herald.js", import.meta.url));

/** A running `herald serve`. */
export interface Herald {
  /** Base URL, from its `herald listening on http://H:N` line. */
  readonly url: string;
  /** `${url}/events`. */
  readonly events: string;
  stop(): Promise<void>;
}

/**
 * Writes `config` (the JSON form of herald.yaml) to a temporary folder and starts
 * `herald serve --config FILE --port 0` on 127.0.0.1 (`--no-auth` unless the config has `auth`);
 * resolves on its one listening line.
 */
export async function startHerald(config: Record<string, unknown>): Promise<Herald> {
  const dir = await mkdtemp(join(tmpdir(), "herald-sdk-"));
  const file = join(dir, "herald.json");
  await writeFile(file, JSON.stringify({ store: { kind: "memory" }, ...config }));
  const args = [HERALD_BIN, "serve", "--config", file, "--host", "127.0.0.1", "--port", "0"];
  if (config.auth === undefined) args.push("--no-auth");
  const child = spawn(process.execPath, args, {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, HERALD_LOG_LEVEL: "error" },
  });
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail("printed no listening line in 15 s"), 15_000);
    function fail(why: string) {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`herald serve ${why}\n${stdout}\n${stderr}`));
    }
    child.once("exit", (code) => fail(`exited with ${code}`));
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString();
      const m = /^herald listening on (http:\/\/\S+)$/m.exec(stdout);
      if (m === null) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve(m[1]!);
    });
  });
  return {
    url,
    events: `${url}/events`,
    stop: async () => {
      await stop(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}
