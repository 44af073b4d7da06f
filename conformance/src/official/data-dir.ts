import { fileURLToPath } from "node:url";

/**
 * Where the official CloudEvents conformance data lives by default: `HERALD_CONFORMANCE_DATA`
 * when set, else `<repo>/../shared/conformance-data/http`, found relative to this package (the
 * same from `src/` and `dist/`). The files are read at run time, never copied into the
 * repository.
 *
 * @example
 * await runConformance(target, { dataDir: defaultDataDir() });
 */
export function defaultDataDir(): string {
  const fromEnv = process.env.HERALD_CONFORMANCE_DATA;
  if (fromEnv) return fromEnv;
  return fileURLToPath(new URL("../../../../shared/conformance-data/http", import.meta.url));
}
