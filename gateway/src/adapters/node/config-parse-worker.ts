/**
 * Worker-thread entry of `parseConfigOffThread`: parses and validates one config text with
 * `parseWithWarnings` and posts back the config and its warnings, or the issues of a
 * `ConfigInvalid`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ConfigInvalid } from "../../config/config-invalid.js";
import {
  type ParseRequest,
  type ParseResult,
  parseWithWarnings,
} from "./parse-config-off-thread.js";

const { text, file, env } = workerData as ParseRequest;
let result: ParseResult;
try {
  result = parseWithWarnings(text, file, env);
} catch (error) {
  if (!(error instanceof ConfigInvalid)) throw error;
  result = { issues: error.issues };
}
parentPort?.postMessage(result);
