import { readFile } from "node:fs/promises";
import type { HeraldConfig } from "../../config/herald-config.js";
import type { Env } from "../../config/interpolate-env.js";
import { parseConfig } from "../../config/load-config.js";

/**
 * Reads a config file (UTF-8 YAML or JSON) and parses it with `parseConfig`, interpolating from
 * `process.env` unless `env` is given. Node only: this is the one file of `config/` that touches
 * the file system. A file that cannot be read rejects with the file system's error (`ENOENT` and
 * so on) so a caller can fall back to a default config; a bad config rejects with
 * `ConfigInvalid`.
 *
 * @example
 * const config = await loadConfigFile("herald.yaml");
 */
export async function loadConfigFile(path: string, env: Env = process.env): Promise<HeraldConfig> {
  const text = await readFile(path, "utf8");
  return parseConfig(text, path, env);
}
