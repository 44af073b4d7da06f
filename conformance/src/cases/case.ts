import type { ConformanceLimits } from "../config/conformance-config.js";
import type { Attributes } from "../events/requests.js";
import type { SinkServer } from "../sink/sink-server.js";
import type { Transport } from "../target.js";

/** One spec-derived check: a request in, then the status and what the sinks receive. */
export interface ConformanceCase {
  /** Group and behaviour, e.g. `binary: percent-decoding is exactly one pass`. */
  readonly name: string;
  /** The spec section the expectation comes from. */
  readonly spec: string;
  run(ctx: CaseContext): Promise<unknown>;
}

/** What a case gets to work with. Each case has its own token, so ids never collide. */
export interface CaseContext {
  readonly send: Transport;
  readonly sink: SinkServer;
  /** Bound on every wait for a delivery. */
  readonly timeoutMs: number;
  readonly limits: ConformanceLimits;
  /** Unique to this case and run; every id the case makes contains it. */
  readonly token: string;
  /** A fresh event id containing the token. */
  id(): string;
  /** A valid minimal event (token in `id` and `source`) with `overrides` applied. */
  event(overrides?: Attributes): Record<string, string | number | boolean>;
  /** Sends a valid sentinel event and waits until both catch-all sinks have it. */
  sentinel(): Promise<void>;
  /**
   * A sentinel event not yet sent, to travel in the case's own request (the last event of a
   * batch), and `arrived()`, which waits until both catch-all sinks have it. A gateway that keeps
   * the order of one request's events cannot then deliver an earlier event of it after the
   * sentinel, as it could when the sentinel is a later request that overtakes it.
   */
  sentinelEvent(): { readonly event: Record<string, string>; arrived(): Promise<void> };
}

/** An expectation that did not hold; its message is the case's failure message. */
export class CaseFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CaseFailure";
  }
}

/**
 * Throws a {@link CaseFailure} when `condition` is false.
 *
 * @example
 * check(res.status === 202, `expected 202, got ${res.status}`);
 */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new CaseFailure(message);
}
