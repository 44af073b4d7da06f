/**
 * The Node adapter of @herald/gateway: the HTTP server, the CLI and config files.
 *
 * @example
 * import { serve } from "@herald/gateway/node";
 */

export { runCli } from "./cli.js";
export { createJsonLogger, type LogLevel, logLevelFromEnv } from "./json-logger.js";
export {
  createNodeSinkClient,
  type NodeSinkClient,
  type NodeSinkClientOptions,
} from "./node-sink-client.js";
export { loadConfigFile } from "./read-config-file.js";
export { type RunningServer, ServeError, type ServeOptions, serve } from "./serve.js";
export { openSqliteStore, type SqliteStore, type SqliteStoreOptions } from "./sqlite-store.js";
