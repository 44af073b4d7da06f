import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { ConfigInvalid, type ConfigIssue } from "../../config/config-invalid.js";
import type { HeraldConfig } from "../../config/herald-config.js";
import type { Env } from "../../config/interpolate-env.js";
import { parseConfig } from "../../config/load-config.js";

/** What the worker is given. */
export interface ParseRequest {
  readonly text: string;
  readonly file: string;
  readonly env: Env;
}

/** What the worker answers: the config (plain data, so it crosses as it is), or the issues. */
export type ParseResult =
  | { readonly config: HeraldConfig; readonly issues?: undefined }
  | { readonly config?: undefined; readonly issues: readonly ConfigIssue[] };

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
 * `parseConfig` on a worker thread: the same config, or the same `ConfigInvalid` (every issue,
 * with positions), without blocking the event loop. A big config takes seconds to parse (the
 * YAML parser is most of it, 20,000 subscriptions about 4 MB), and a reload must not stall
 * ingest and deliveries for that long. Startup and `herald validate` call `parseConfig` directly.
 *
 * @example
 * const config = await parseConfigOffThread(text, "herald.yaml", process.env);
 */
export function parseConfigOffThread(
  text: string,
  file: string,
  env: Env,
  parser: ParseWorker | undefined = DEFAULT_WORKER,
): Promise<HeraldConfig> {
  if (parser === undefined) return Promise.resolve().then(() => parseConfig(text, file, env));
  const request: ParseRequest = { text, file, env: { ...env } };
  return new Promise((resolve, reject) => {
    const worker = new Worker(parser.url, {
      workerData: request,
      ...(parser.execArgv === undefined ? {} : { execArgv: [...parser.execArgv] }),
    });
    worker.once("message", (result: ParseResult) => {
      if (result.config !== undefined) resolve(result.config);
      else reject(new ConfigInvalid(result.issues));
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
