import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ConfigInvalid, type ConfigIssue } from "../../config/config-invalid.js";
import { configWarnings } from "../../config/config-warnings.js";
import type { HeraldConfig } from "../../config/herald-config.js";
import type { Env } from "../../config/interpolate-env.js";
import { parseConfig } from "../../config/load-config.js";

/** What the worker is given. */
export interface ParseRequest {
  readonly text: string;
  readonly file: string;
  readonly env: Env;
}

/** A valid config and its warnings (`configWarnings`, with positions). */
export interface ParsedConfig {
  readonly config: HeraldConfig;
  readonly warnings: readonly ConfigIssue[];
}

/** What the worker answers: the config (plain data, so it crosses as it is), or the issues. */
export type ParseResult = ParsedConfig | { readonly issues: readonly ConfigIssue[] };

/**
 * `parseConfig` and, for a valid config, `configWarnings`: the warnings' positions take a second
 * parse of the text, which belongs off the event loop as much as the first.
 */
export function parseWithWarnings(text: string, file: string, env: Env): ParsedConfig {
  const config = parseConfig(text, file, env);
  return { config, warnings: configWarnings(config, file, text) };
}

/** Where the worker's module is, and the Node options it needs to run. */
export interface ParseWorker {
  readonly url: URL;
  readonly execArgv?: readonly string[];
}

const COMPILED = new URL("./config-parse-worker.js", import.meta.url);
/**
 * The compiled worker beside this module; none when the TypeScript sources run as they are
 * (vitest), where the parse runs on the calling thread unless a test gives its worker.
 */
const DEFAULT_WORKER: ParseWorker | undefined = existsSync(fileURLToPath(COMPILED))
  ? { url: COMPILED }
  : undefined;

/**
 * `parseWithWarnings` on a worker thread: the same config and warnings, or the same
 * `ConfigInvalid` (every issue, with positions), without blocking the event loop. A big config takes seconds to parse (the
 * YAML parser is most of it, 20,000 subscriptions about 4 MB), and a reload must not stall
 * ingest and deliveries for that long. Startup and `herald validate` call `parseConfig` directly.
 *
 * @example
 * const { config, warnings } = await parseConfigOffThread(text, "herald.yaml", process.env);
 */
export function parseConfigOffThread(
  text: string,
  file: string,
  env: Env,
  parser: ParseWorker | undefined = DEFAULT_WORKER,
): Promise<ParsedConfig> {
  if (parser === undefined) return Promise.resolve().then(() => parseWithWarnings(text, file, env));
  const request: ParseRequest = { text, file, env: { ...env } };
  return new Promise((resolve, reject) => {
    const worker = new Worker(parser.url, {
      workerData: request,
      ...(parser.execArgv === undefined ? {} : { execArgv: [...parser.execArgv] }),
    });
    worker.once("message", (result: ParseResult) => {
      if ("issues" in result) reject(new ConfigInvalid(result.issues));
      else resolve(result);
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      // After a message or an error this settles nothing; otherwise the worker died silently.
      reject(
        new Error(`the config parser's worker thread exited (code ${code}) without an answer`),
      );
    });
  });
}
