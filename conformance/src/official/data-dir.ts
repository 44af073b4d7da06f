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
  if (fromEnv) return existsSync(join(fromEnv, "http")) ? join(fromEnv, "http") : fromEnv;
  return fileURLToPath(new URL("../../../../shared/conformance-data/http", import.meta.url));
}
