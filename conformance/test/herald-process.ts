import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The gateway's CLI, found relative to this repository (never an absolute path). */
export const HERALD_BIN = fileURLToPath(new URL("../../gateway/bin/herald.js", import.meta.url));

/** A running `herald serve` child process. */
export interface HeraldProcess {
  /** Base URL from its `herald listening on http://H:N` line. */
  readonly url: string;
  /** SIGTERM, then wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Options of {@link startHerald}. */
export interface StartHeraldOptions {
  readonly bin?: string;
  readonly readyTimeoutMs?: number;
  /** Pass `--no-auth` (default true); false serves the config's `auth` section. */
  readonly noAuth?: boolean;
}

/**
 * Spawns `node gateway/bin/herald.js serve --config FILE [--no-auth] --port 0` and resolves once
 * it prints its one `herald listening on http://H:N` line on stdout (DESIGN.md "Command line").
 * Rejects with its stderr if it exits first or is not ready within `readyTimeoutMs`.
 */
export function startHerald(
  configFile: string,
  { bin = HERALD_BIN, readyTimeoutMs = 15_000, noAuth = true }: StartHeraldOptions = {},
): Promise<HeraldProcess> {
  const child = spawn(
    process.execPath,
    [bin, "serve", "--config", configFile, ...(noAuth ? ["--no-auth"] : []), "--port", "0"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`herald serve ${why}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(
      () => fail(`printed no listening line in ${readyTimeoutMs} ms`),
      readyTimeoutMs,
    );
    child.once("exit", (code) => fail(`exited with ${code} before it was ready`));
    child.once("error", (err) => fail(`could not start: ${err.message}`));
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^herald listening on (http:\/\/\S+)$/m.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners("exit");
      resolve({ url: match[1]!, stop: () => stop(child) });
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}
