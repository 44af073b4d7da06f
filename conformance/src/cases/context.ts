import type { ConformanceLimits } from "../config/conformance-config.js";
import { SENTINEL_TYPE, SINK_PATHS, SUITE_TYPE } from "../config/subscriptions.js";
import { binaryRequest } from "../events/requests.js";
import type { SinkServer } from "../sink/sink-server.js";
import type { Transport } from "../target.js";
import { type CaseContext, check } from "./case.js";
import { isAccepted } from "./expect.js";

/** Source prefix of the suite's events; the case token follows. */
export const SUITE_SOURCE = "/herald/conformance/run";

/** What every case of one run shares. */
export interface RunState {
  readonly runId: string;
  readonly send: Transport;
  readonly sink: SinkServer;
  readonly timeoutMs: number;
  readonly limits: ConformanceLimits;
}

/**
 * A fresh run id: time plus randomness, so reruns against the same gateway (and its dedupe
 * window on `source` + `id`) never collide.
 *
 * @example
 * newRunId() // => "m3k9x2-4f1a9c"
 */
export function newRunId(): string {
  const random = crypto.getRandomValues(new Uint8Array(3));
  return `${Date.now().toString(36)}-${Buffer.from(random).toString("hex")}`;
}

/**
 * The context of case number `n`. Its token ends with `.` so that no token is a substring of
 * another (`c1.` is not inside `c12.`), which the never-delivered checks rely on.
 *
 * @example
 * const ctx = createCaseContext(state, 7); // ctx.token === "hc-<run>-c7."
 */
export function createCaseContext(state: RunState, n: number): CaseContext {
  const token = `hc-${state.runId}-c${n}.`;
  let next = 0;
  let sentinels = 0;
  const id = (): string => `${token}${next++}`;
  const sentinelEvent = () => {
    const sentinelId = `hc-${state.runId}-s${n}.${sentinels++}`;
    const event = {
      specversion: "1.0",
      id: sentinelId,
      source: `${SUITE_SOURCE}/sentinel`,
      type: SENTINEL_TYPE,
    };
    const arrived = async () => {
      await Promise.all(
        [SINK_PATHS.binary, SINK_PATHS.structured].map((path) =>
          state.sink.waitFor(
            (r) => r.path === path && r.event.attributes.id === sentinelId,
            state.timeoutMs,
            `sentinel ${sentinelId} at ${path}`,
          ),
        ),
      );
    };
    return { event, arrived };
  };
  return {
    send: state.send,
    sink: state.sink,
    timeoutMs: state.timeoutMs,
    limits: state.limits,
    token,
    id,
    event: (overrides = {}) => ({
      specversion: "1.0",
      id: id(),
      source: `${SUITE_SOURCE}/${token}`,
      type: SUITE_TYPE,
      ...overrides,
    }),
    sentinelEvent,
    async sentinel() {
      const { event, arrived } = sentinelEvent();
      const res = await state.send(binaryRequest(event));
      check(isAccepted(res.status), `sentinel event was not accepted (status ${res.status})`);
      await arrived();
    },
  };
}
