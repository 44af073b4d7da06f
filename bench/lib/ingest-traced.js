// The ingest-traced scenario: Herald with tracing on (bench/herald-traced.js: OTLP http/protobuf to
// a local stub, always-on sampler, batch span processor) against the same Herald with tracing off.
// Target (issue 6, "Performance"): tracing costs at most 15% of throughput, herald-traced/herald
// delivered/s >= 0.85.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { canPin } from "./processes.js";

const BENCH = fileURLToPath(new URL("..", import.meta.url));

/**
 * `herald` started through bench/herald-traced.js, its OTLP stub on `stubCore` (the load core,
 * with wrk and the sink) when the machine can pin.
 * @template {{ command: string, args: string[] }} S
 * @param {S} spec  how the untraced `herald` starts: `node <herald bin> serve ...`
 * @param {number} stubCore
 * @returns {S}
 */
export function tracedHerald(spec, stubCore) {
  return {
    ...spec,
    args: [
      join(BENCH, "herald-traced.js"),
      ...(canPin() ? ["--stub-core", String(stubCore)] : []),
      ...spec.args,
    ],
  };
}
