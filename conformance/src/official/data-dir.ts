import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where the official CloudEvents conformance data lives by default: `HERALD_CONFORMANCE_DATA`
 * when set (the `conformance-data` folder, or its `http` folder itself), else `<repo>/../shared/conformance-data/http`, found relative to this package (the
 * same from `src/` and `dist/`). The files are read at run time, never copied into the
 * repository.
 *
 * @example
 * await runConformance(target, { dataDir: defaultDataDir() });
 */
export function defaultDataDir(): string {
  const fromEnv = process.env.HERALD_CONFORMANCE_DATA;
  // Either the `conformance-data` folder (as the gateway's CESQL TCK test takes it) or its `http`.
  if (fromEnv) return officialDataDir(fromEnv);
  return fileURLToPath(new URL("../../../../shared/conformance-data/http", import.meta.url));
}

/**
 * The folder the official HTTP cases are read from: `dir` itself, or its `http` folder when it
 * has one (the `conformance-data` folder given instead of `conformance-data/http`), so `--data`
 * takes what `HERALD_CONFORMANCE_DATA` takes.
 *
 * @example
 * officialDataDir("../shared/conformance-data"); // "../shared/conformance-data/http"
 */
export function officialDataDir(dir: string): string {
  return existsSync(join(dir, "http")) ? join(dir, "http") : dir;
}
