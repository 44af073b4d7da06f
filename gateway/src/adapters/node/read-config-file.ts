import { readFile } from "node:fs/promises";
import type { HeraldConfig } from "../../config/herald-config.js";
import type { Env } from "../../config/interpolate-env.js";
import { parseConfig } from "../../config/load-config.js";
import { decodeConfigText } from "./decode-config-text.js";
import { ServeError } from "./serve-error.js";

/**
 * Reads a config file (UTF-8 YAML or JSON; other bytes are refused, see `decodeConfigText`) and
 * parses it with `parseConfig`, interpolating from `process.env` unless `env` is given. Node
 * only: this is the one file of `config/` that touches the file system. A file that cannot be read rejects with the file system's error (`ENOENT` and
 * so on) so a caller can fall back to a default config; a bad config rejects with
 * `ConfigInvalid`.
 *
 * @example
 * const config = await loadConfigFile("herald.yaml");
 */
export async function loadConfigFile(path: string, env: Env = process.env): Promise<HeraldConfig> {
  return parseConfig(decodeConfigText(await readFile(path), path), path, env);
}

/**
 * A config file's text for the CLI: a file that cannot be read is a `ServeError` saying why in
 * one line (not found, a directory, no permission), never a stack trace; one that is not UTF-8
 * is a `ConfigInvalid` at the first byte that is not (see `decodeConfigText`).
 *
 * @example
 * const text = await readConfigText("/etc/herald/herald.yaml");
 */
export async function readConfigText(path: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new ServeError(`config file not found: ${path}`);
    if (code === "EISDIR") throw new ServeError(`${path} is a directory, not a config file`);
    if (code === "EACCES")
      throw new ServeError(`cannot read the config file ${path}: permission denied`);
    throw new ServeError(`cannot read the config file ${path}: ${(err as Error).message}`);
  }
  return decodeConfigText(bytes, path);
}
