/**
 * Worker-thread entry of `parseConfigOffThread`: parses and validates one config text with
 * `parseConfig` and posts back the config, or the issues of a `ConfigInvalid`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ConfigInvalid } from "../../config/config-invalid.js";
import { parseConfig } from "../../config/load-config.js";
import type { ParseRequest, ParseResult } from "./parse-config-off-thread.js";

const { text, file, env } = workerData as ParseRequest;
let result: ParseResult;
try {
  result = { config: parseConfig(text, file, env) };
} catch (error) {
  if (!(error instanceof ConfigInvalid)) throw error;
  result = { issues: error.issues };
}
parentPort?.postMessage(result);
