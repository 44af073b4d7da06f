import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type RunningServer, type ServeOptions, serve } from "../../src/adapters/node/serve.js";
import { silentLogger } from "../../src/ports/logger.js";

/** A `herald serve` (in process, `--no-auth`, port 0) over `yaml` in a fresh temporary folder. */
export interface ServedInTempDir {
  readonly server: RunningServer;
  readonly port: number;
  /** Stops the server and removes the folder. */
  close(): Promise<void>;
}

/**
 * Starts `serve` on `configPath` (taken from `cwd`) as the CLI would, quietly: port 0, no auth,
 * no environment, nothing logged or printed, the file not watched; `more` adds or overrides.
 *
 * @example
 * const server = await serveQuietly(dir, "herald.yaml", { drainMs: 300 });
 */
export function serveQuietly(
  cwd: string,
  configPath: string,
  more: Partial<ServeOptions> = {},
): Promise<RunningServer> {
  return serve({
    configPath,
    port: 0,
    noAuth: true,
    cwd,
    env: {},
    logger: silentLogger,
    print: () => {},
    watchConfig: false,
    ...more,
  });
}

/**
 * Starts `serve` as the CLI would, on `yaml` written to `herald.yaml` in a new temporary folder
 * (relative store paths land there), without auth and without watching the file.
 *
 * @example
 * const served = await serveInTempDir("store: { kind: memory }\n", "herald-raw-");
 * await served.close();
 */
export async function serveInTempDir(yaml: string, prefix: string): Promise<ServedInTempDir> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await writeFile(join(dir, "herald.yaml"), yaml);
  const server = await serveQuietly(dir, "herald.yaml");
  return {
    server,
    port: Number(new URL(server.url).port),
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
