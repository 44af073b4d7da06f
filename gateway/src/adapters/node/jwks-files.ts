import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { KeySource } from "../../auth/key-source.js";
import type { HeraldConfig } from "../../config/herald-config.js";
import { parseJwksFile } from "./jwks-file.js";
import { ServeError } from "./serve-error.js";

/** The key sources of a config's JWKS files, as read at start. */
export interface JwksFiles {
  /** The key source of a `jwks` file, by its path as written in the config. */
  get(path: string): KeySource | undefined;
  /**
   * The paths (as written) of the files whose text is no longer the one read at start (changed,
   * removed, unreadable). Their keys are not read again until a restart, so a reload that finds
   * any must say so: a key withdrawn from the file (a leaked one) is still trusted until then.
   */
  changed(): Promise<string[]>;
}

/**
 * Reads every `auth.issuers[].jwks` file of the config once, at start-up, so a missing or broken
 * key file stops `herald serve` with a clear message instead of failing the first request.
 * Relative paths are relative to the config file's folder. Files are keyed by the path as written.
 *
 * @example
 * const files = await loadJwksFiles(config, dirname(configPath));
 * createGateway({ config, keySourceFor: (k) => (k.kind === "file" ? files.get(k.path) : undefined) });
 */
export async function loadJwksFiles(config: HeraldConfig, baseDir: string): Promise<JwksFiles> {
  const loaded = new Map<string, { readonly source: KeySource; readonly text: string }>();
  for (const issuer of config.auth?.issuers ?? []) {
    const keys = issuer.keys;
    if (keys.kind !== "file" || loaded.has(keys.path)) continue;
    const path = resolve(baseDir, keys.path);
    try {
      // The text its keys come from is kept, to tell a reload whether the file changed since.
      const text = await readFile(path, "utf8");
      loaded.set(keys.path, { source: parseJwksFile(text, path), text });
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
  return {
    get: (path) => loaded.get(path)?.source,
    async changed() {
      const changed: string[] = [];
      for (const [written, { text }] of loaded) {
        const now = await readFile(resolve(baseDir, written), "utf8").catch(() => undefined);
        if (now !== text) changed.push(written);
      }
      return changed;
    },
  };
}
