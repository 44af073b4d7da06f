import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { JSONWebKeySet } from "jose";
import { unusableKeySetProblem } from "../../auth/usable-keys.js";
import type { ConfigIssue } from "../../config/config-invalid.js";
import { type ConfigSource, readConfigSource } from "../../config/config-source.js";
import type { FieldPath } from "../../config/field-path.js";
import { formatFieldPath } from "../../config/field-path.js";
import type { HeraldConfig } from "../../config/herald-config.js";
import { natsCredsProblem } from "../nats/nats-creds-file.js";
import { loadJwksFile, parseJwksFile } from "./jwks-file.js";
import { sqlitePathProblem } from "./sqlite-open-failure.js";

/**
 * What `herald validate` checks beyond the config's own text: the files it names, read the way
 * `herald serve` reads them at start (relative paths from the config file's folder), so a config
 * that validates does not then stop `serve` for a missing key file:
 * - `auth.issuers[].jwks` as a file: readable, and a JWKS with usable keys;
 * - `store.credentials` (NATS): readable, and a `.creds` file the NATS client can read;
 * - `store.path` (SQLite): not a folder, and no file where one of its folders should be.
 * Each problem is an issue with the file, line and field of the setting that names the file.
 *
 * @example
 * const issues = await checkConfigFiles(config, "/etc/herald/herald.yaml", text);
 */
export async function checkConfigFiles(
  config: HeraldConfig,
  configPath: string,
  text: string,
): Promise<ConfigIssue[]> {
  const baseDir = dirname(configPath);
  // Parsed again only to place a problem: a large config's text is not read twice when it has none.
  let source: ConfigSource | undefined;
  const locate = (path: FieldPath) => {
    source ??= readConfigSource(text, configPath);
    return source.locate(path);
  };
  const issues: ConfigIssue[] = [];
  const report = (path: FieldPath, message: string) =>
    issues.push({
      file: configPath,
      ...locate(path),
      field: formatFieldPath(path),
      message,
    });

  const issuers = config.auth?.issuers ?? [];
  for (const [i, issuer] of issuers.entries()) {
    if (issuer.keys.kind !== "file") continue;
    try {
      await loadJwksFile(resolve(baseDir, issuer.keys.path));
    } catch (err) {
      report(["auth", "issuers", i, "jwks"], `cannot read jwks ${issuer.keys.path}: ${why(err)}`);
    }
  }
  const store = config.store;
  if (store.kind === "sqlite") {
    const problem = sqlitePathProblem(resolve(baseDir, store.path));
    if (problem !== undefined) report(["store", "path"], problem);
  }
  if (store.kind === "nats" && store.credentials !== undefined) {
    try {
      const problem = natsCredsProblem(await readFile(resolve(baseDir, store.credentials), "utf8"));
      if (problem !== undefined)
        report(["store", "credentials"], `${store.credentials}: ${problem}`);
    } catch (err) {
      report(["store", "credentials"], `cannot read ${store.credentials}: ${why(err)}`);
    }
  }
  return issues;
}

/**
 * Warnings for the fixed key sets of the config (`auth.issuers[].jwks` inline, or a file that
 * reads as a JWKS) none of whose keys can verify a token under the issuer's algorithms
 * (`unusableKeySetProblem`): the gateway starts, but refuses every token of that issuer with 401
 * "no usable key". Warnings, not errors: such a config started before, and may have other
 * issuers that work. A file that cannot be read is left to `checkConfigFiles` and to serve.
 * `file` and `text` name the config in the issues (`text` gives them lines).
 *
 * @example
 * for (const w of await unusableKeyWarnings(config, dirname(path), path, text)) logger.warn(formatConfigIssue(w));
 */
export async function unusableKeyWarnings(
  config: HeraldConfig,
  baseDir: string,
  file: string,
  text?: string,
): Promise<ConfigIssue[]> {
  const source = text === undefined ? undefined : readConfigSource(text, file);
  const issues: ConfigIssue[] = [];
  for (const [i, issuer] of (config.auth?.issuers ?? []).entries()) {
    const keys = issuer.keys;
    let jwks: JSONWebKeySet | undefined;
    if (keys.kind === "inline") jwks = { keys: keys.keys as never };
    if (keys.kind === "file") {
      const path = resolve(baseDir, keys.path);
      try {
        const fileText = await readFile(path, "utf8");
        parseJwksFile(fileText, path);
        jwks = JSON.parse(fileText.replace(/^\uFEFF/, "")) as JSONWebKeySet;
      } catch {
        continue;
      }
    }
    const problem = jwks && (await unusableKeySetProblem(jwks, issuer.algorithms));
    if (problem === undefined) continue;
    const path: FieldPath = ["auth", "issuers", i, "jwks"];
    issues.push({
      file,
      ...source?.locate(path),
      field: formatFieldPath(path),
      message: `${problem}; every token of this issuer will be refused`,
    });
  }
  return issues;
}

function why(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "file not found";
  if (code === "EISDIR") return "a directory, not a file";
  if (code === "EACCES") return "permission denied";
  return err instanceof Error ? err.message : String(err);
}
