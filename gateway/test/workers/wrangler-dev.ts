import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../support/free-port.js";

const gatewayDir = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const wranglerBin = resolve(gatewayDir, "../node_modules/wrangler/bin/wrangler.js");

/** A `wrangler dev` of the gateway's Worker, on 127.0.0.1. */
export interface WranglerDev {
  readonly url: string;
  /** Everything wrangler printed (stdout and stderr), for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Spawns `wrangler dev` on `gateway/wrangler.toml` as a user runs it (local D1 and Queues,
 * state in a temporary folder), with two changes for tests: `HERALD_CONFIG` is `config`, and the
 * delivery queue's `max_batch_timeout` is 0 so a message is consumed at once. Resolves when
 * wrangler says it is ready. Nothing reaches for Cloudflare (`CLOUDFLARE_CF_FETCH_ENABLED`,
 * `WRANGLER_SEND_METRICS`). Without `HERALD_NO_AUTH` when `options.noAuth` is `false`.
 */
export async function startWranglerDev(
  config: unknown,
  options: {
    /** `false`: leave out `HERALD_NO_AUTH`, so the config's `auth` applies (default `true`). */
    readonly noAuth?: boolean;
  } = {},
): Promise<WranglerDev> {
  const dir = await mkdtemp(join(tmpdir(), "herald-wrangler-"));
  const toml = (await readFile(join(gatewayDir, "wrangler.toml"), "utf8"))
    .replace(
      /^main = .*$/m,
      `main = ${JSON.stringify(join(gatewayDir, "src/adapters/workers/worker.ts"))}`,
    )
    .replace(/^max_batch_timeout = 1$/m, "max_batch_timeout = 0");
  await writeFile(join(dir, "wrangler.toml"), toml);
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      wranglerBin,
      "dev",
      "--config",
      join(dir, "wrangler.toml"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      "0",
      "--persist-to",
      join(dir, "state"),
      "--show-interactive-dev-session=false",
      "--var",
      `HERALD_CONFIG:${JSON.stringify(config)}`,
      "--var",
      "HERALD_LOG_LEVEL:warn",
      // What .dev.vars gives `npm run dev:workers` (the copied toml has no .dev.vars beside it).
      ...(options.noAuth === false ? [] : ["--var", "HERALD_NO_AUTH:true"]),
    ],
    {
      cwd: dir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        WRANGLER_SEND_METRICS: "false",
        CI: "1",
        NO_COLOR: "1",
      },
    },
  );
  let output = "";
  const exited = new Promise<void>((ok) => child.once("exit", () => ok()));
  const ready = new Promise<void>((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`wrangler dev not ready in 60 s:\n${output}`)),
      60_000,
    );
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`Ready on http://127.0.0.1:${port}`)) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout?.on("data", read);
    child.stderr?.on("data", read);
    void exited.then(() => {
      clearTimeout(timer);
      fail(new Error(`wrangler dev exited:\n${output}`));
    });
  });
  const stop = async () => {
    // The whole process group: wrangler's node process and the workerd it started.
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      try {
        process.kill(-child.pid!, signal);
      } catch {
        break;
      }
      const done = await Promise.race([
        exited.then(() => true),
        new Promise<boolean>((ok) => setTimeout(() => ok(false), 5_000)),
      ]);
      if (done) break;
    }
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // the group is gone
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, output: () => output, stop };
}
