import { readFile } from "node:fs/promises";
import type { HeraldConfig } from "../../config/herald-config.js";
import type { Env } from "../../config/interpolate-env.js";
import { parseConfig } from "../../config/load-config.js";
import { ServeError } from "./serve-error.js";

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

/**
 * A config file's text for the CLI: a file that cannot be read is a `ServeError` saying why in
 * one line (not found, a directory, no permission), never a stack trace.
 *
 * @example
 * const text = await readConfigText("/etc/herald/herald.yaml");
 */
export async function readConfigText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ServeError(`config file not found: ${path}`);
    if (code === "EISDIR") throw new ServeError(`${path} is a directory, not a config file`);
    if (code === "EACCES")
      throw new ServeError(`cannot read the config file ${path}: permission denied`);
    throw new ServeError(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
}
