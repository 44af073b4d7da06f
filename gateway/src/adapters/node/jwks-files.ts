import { resolve } from "node:path";
import type { KeySource } from "../../auth/key-source.js";
import type { HeraldConfig } from "../../config/herald-config.js";
import { loadJwksFile } from "./jwks-file.js";
import { ServeError } from "./serve-error.js";

/**
 * Reads every `auth.issuers[].jwks` file of the config once, at start-up, so a missing or broken
 * key file stops `herald serve` with a clear message instead of failing the first request.
 * Relative paths are relative to the config file's folder. The map is keyed by the path as written.
 *
 * @example
 * const files = await loadJwksFiles(config, dirname(configPath));
 * createGateway({ config, keySourceFor: (k) => (k.kind === "file" ? files.get(k.path) : undefined) });
 */
export async function loadJwksFiles(
  config: HeraldConfig,
  baseDir: string,
): Promise<Map<string, KeySource>> {
  const sources = new Map<string, KeySource>();
  for (const issuer of config.auth?.issuers ?? []) {
    const keys = issuer.keys;
    if (keys.kind !== "file" || sources.has(keys.path)) continue;
    try {
      sources.set(keys.path, await loadJwksFile(resolve(baseDir, keys.path)));
    } catch (err) {
      const reason =
        (err as NodeJS.ErrnoException).code === "ENOENT"
          ? "file not found"
          : (err as Error).message;
      throw new ServeError(
        `auth issuer ${issuer.issuer}: cannot read jwks ${keys.path}: ${reason}`,
      );
    }
  }
  return sources;
}
