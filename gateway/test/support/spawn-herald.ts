import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The built CLI, as users run it (turbo builds before testing). */
export const HERALD_BIN = fileURLToPath(new URL("../../bin/herald.js", import.meta.url));

/** A `herald serve` process that printed its `listening` line. */
export interface SpawnedHerald {
  readonly child: ChildProcess;
  /** `http://H:N` from `herald listening on http://H:N`. */
  readonly url: string;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
}

/**
 * Starts `herald serve --config <config> --no-auth --port 0` (without `--no-auth` when `noAuth` is `false`) (cwd `cwd`, `HERALD_LOG_LEVEL=error`
 * unless `env` says otherwise) and resolves when it is listening; rejects if it exits first. The
 * child is pushed to `children` so an `afterAll` can kill what a failed test left running.
 *
 * @example
 * const gw = await spawnHerald({ config: "herald.yaml", cwd: dir, children });
 * await fetch(`${gw.url}/events`, { method: "POST", headers, body });
 * await gw.kill();
 */
export function spawnHerald(options: {
  readonly config: string;
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly children: ChildProcess[];
  /** Receives what the process writes on stderr (inherited without it). */
  readonly stderr?: (text: string) => void;
  /** `false`: leave out `--no-auth`, so the config's `auth` applies (default `true`). */
  readonly noAuth?: boolean;
}): Promise<SpawnedHerald> {
  const flags = options.noAuth === false ? [] : ["--no-auth"];
  const child = spawn(
    process.execPath,
    [HERALD_BIN, "serve", "--config", options.config, ...flags, "--port", "0"],
    {
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      env: { ...process.env, HERALD_LOG_LEVEL: "error", ...options.env },
      stdio: ["ignore", "pipe", options.stderr === undefined ? "inherit" : "pipe"],
    },
  );
  if (options.stderr !== undefined) child.stderr?.setEncoding("utf8").on("data", options.stderr);
  options.children.push(child);
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`herald exited early with ${code}`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /^herald listening on (http:\/\/\S+)$/.exec(line);
      if (m === null) return;
      resolve({
        child,
        url: m[1] as string,
        kill: () =>
          new Promise<void>((ok) => {
            if (child.exitCode !== null || child.signalCode !== null) return ok();
            child.once("exit", () => ok());
            child.kill("SIGKILL");
          }),
      });
    });
  });
}
