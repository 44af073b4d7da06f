/**
 * @herald/conformance: a black-box conformance suite for CloudEvents gateways that follow
 * Herald's DESIGN.md contract. Start a sink, configure the target with the conformance
 * subscriptions for it, run, read the report.
 *
 * @example
 * import { formatReport, runConformance } from "@herald/conformance";
 * const report = await runConformance({ url: "http://127.0.0.1:8080" }, { sinkPort: 9999 });
 * console.log(formatReport(report));
 */
export {
  type ConformanceAuth,
  DEFAULT_PUBLISHER_SUB,
  type OutsideRule,
} from "./auth/conformance-auth.js";
export type { CaseContext, ConformanceCase } from "./cases/case.js";
export {
  type ConformanceAuthSection,
  type ConformanceConfig,
  type ConformanceConfigOptions,
  type ConformanceIssuer,
  type ConformanceLimits,
  conformanceConfig,
  conformanceConfigYaml,
  DEFAULT_LIMITS,
  type InlineJwks,
} from "./config/conformance-config.js";
export {
  type ConformanceSubscription,
  conformanceSubscriptions,
  type FilterExpression,
  SINK_PATHS,
} from "./config/subscriptions.js";
export { defaultDataDir } from "./official/data-dir.js";
export {
  type CaseResult,
  type ConformanceReport,
  formatReport,
  formatResult,
  formatSummary,
} from "./report.js";
export {
  type ConformanceOptions,
  conformanceCaseNames,
  runConformance,
} from "./run-conformance.js";
export type { Delivery, ObservedEvent } from "./sink/decode-delivery.js";
export { type Received, type SinkOptions, type SinkServer, startSink } from "./sink/sink-server.js";
export type { ConformanceTarget } from "./target.js";
