import { type ConformanceAuth, resolveAuth } from "./auth/conformance-auth.js";
import { builtinCases } from "./cases/all-cases.js";
import { CaseFailure, type ConformanceCase } from "./cases/case.js";
import { createCaseContext, newRunId, type RunState } from "./cases/context.js";
import { officialCases } from "./cases/official-cases.js";
import { preflightCase } from "./cases/preflight.js";
import { type ConformanceLimits, DEFAULT_LIMITS } from "./config/conformance-config.js";
import { defaultDataDir, officialDataDir } from "./official/data-dir.js";
import {
  type CaseResult,
  type ConformanceReport,
  NOT_RUN,
  NOT_RUN_UNANSWERED,
  toReport,
  UNANSWERED_LIMIT,
} from "./report.js";
import { type SinkServer, startSink } from "./sink/sink-server.js";
import { type ConformanceTarget, createTransport, TargetTimeout } from "./target.js";

/** Options of {@link runConformance}; every one has a default. */
export interface ConformanceOptions {
  /**
   * A sink already started with `startSink` (the caller closes it). Needed when the target's
   * config must be written before the run, e.g. an in-process gateway on an ephemeral sink port.
   */
  readonly sink?: SinkServer | undefined;
  /** Where to bind the suite's own sink when `sink` is not given; default `127.0.0.1`. */
  readonly sinkHost?: string | undefined;
  /** Port of the suite's own sink when `sink` is not given; default 0 (ephemeral). */
  readonly sinkPort?: number | undefined;
  /**
   * Directory of the official cloudevents/conformance data (or the folder holding it as
   * `http`); default `defaultDataDir()` (`<repo>/../shared/conformance-data/http`). `null`
   * skips the official cases.
   */
  readonly dataDir?: string | null | undefined;
  /**
   * A target with publisher authentication: its token goes with every request, and the auth
   * cases run (401s, `access_token`, provenance; see {@link ConformanceAuth}). Without it the
   * target is taken to be unauthenticated.
   */
  readonly auth?: ConformanceAuth | undefined;
  /** Shorthand for `auth: { token }`. */
  readonly token?: string | undefined;
  /** Bound on each wait for a delivery; default 5000 ms. */
  readonly timeoutMs?: number | undefined;
  /** Bound on each request to the target; default 10000 ms. */
  readonly requestTimeoutMs?: number | undefined;
  /** The target's `limits`; default DESIGN.md's (262144 bytes, 100 events). */
  readonly limits?: ConformanceLimits | undefined;
  /** Run only the cases whose name this accepts (the setup check always runs). */
  readonly only?: ((name: string) => boolean) | undefined;
  /** Called as each case finishes, for progress output. */
  readonly onResult?: ((result: CaseResult) => void) | undefined;
}

/**
 * Runs the conformance suite against a gateway and returns the report. The target must be
 * configured with `conformanceSubscriptions(sink.url)` (or `conformanceConfig`), so start the sink
 * first when its port is not fixed. Cases run one after another; each has its own ids, so runs
 * against the same gateway never collide.
 *
 * @example
 * const sink = await startSink();
 * const gw = createGateway({ config: parseConfig(conformanceConfigYaml(sink.url), "c.yaml") });
 * const report = await runConformance({ fetch: (r) => gw.fetch(r) }, { sink });
 * console.log(formatReport(report));
 * await sink.close();
 */
export async function runConformance(
  target: ConformanceTarget,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const auth = resolveAuth(options);
  const sink =
    options.sink ??
    (await startSink({ host: options.sinkHost ?? "127.0.0.1", port: options.sinkPort ?? 0 }));
  const send = createTransport(target, {
    token: auth?.token,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
  });
  const state: RunState = {
    runId: newRunId(),
    send,
    sink,
    timeoutMs: options.timeoutMs ?? 5_000,
    limits: options.limits ?? DEFAULT_LIMITS,
  };
  const results: CaseResult[] = [];
  const report = (result: CaseResult) => {
    results.push(result);
    options.onResult?.(result);
  };
  try {
    const { cases, loadFailure } = await collectCases(options, auth);
    let n = 0;
    const { result: setup } = await runCase(preflightCase, state, n++);
    report(setup);
    if (loadFailure) report(loadFailure);
    // A target that stops answering would otherwise cost every remaining case its full request
    // timeout (half an hour at the defaults): after a few cases in a row timed out, stop sending.
    let unansweredInRow = 0;
    for (const c of cases) {
      if (!setup.ok) {
        report({ name: c.name, ok: false, message: NOT_RUN, spec: c.spec });
        continue;
      }
      if (unansweredInRow >= UNANSWERED_LIMIT) {
        report({ name: c.name, ok: false, message: NOT_RUN_UNANSWERED, spec: c.spec });
        continue;
      }
      const { result, timedOut } = await runCase(c, state, n++);
      unansweredInRow = timedOut ? unansweredInRow + 1 : 0;
      report(result);
    }
  } finally {
    send.close();
    if (!options.sink) await sink.close();
  }
  return toReport(results);
}

/**
 * The names of the cases a run with these options would report, in order: the setup check
 * first (it always runs), then those `options.only` selects. Reads the official data as a run
 * does; nothing is sent anywhere.
 *
 * @example
 * const names = await conformanceCaseNames({ dataDir: null, only: (n) => n.startsWith("batch:") });
 */
export async function conformanceCaseNames(
  options: Pick<ConformanceOptions, "dataDir" | "auth" | "token" | "only"> = {},
): Promise<string[]> {
  const { cases, loadFailure } = await collectCases(options, resolveAuth(options));
  return [
    preflightCase.name,
    ...(loadFailure ? [loadFailure.name] : []),
    ...cases.map((c) => c.name),
  ];
}

async function collectCases(
  options: Pick<ConformanceOptions, "dataDir" | "only">,
  auth: ConformanceAuth | undefined,
): Promise<{ cases: ConformanceCase[]; loadFailure?: CaseResult }> {
  const only = options.only ?? (() => true);
  const cases = [...builtinCases(auth)];
  let loadFailure: CaseResult | undefined;
  const dataDir =
    options.dataDir === undefined
      ? defaultDataDir()
      : options.dataDir === null
        ? null
        : officialDataDir(options.dataDir);
  if (dataDir !== null) {
    try {
      cases.push(...(await officialCases(dataDir)));
    } catch (err) {
      loadFailure = {
        name: "official: load the cloudevents/conformance data",
        ok: false,
        message: `cannot read ${dataDir}: ${(err as Error).message} (pass --data DIR, or --no-data to skip)`,
        spec: "cloudevents/conformance",
      };
    }
  }
  const selected = cases.filter((c) => only(c.name));
  return loadFailure && only(loadFailure.name)
    ? { cases: selected, loadFailure }
    : { cases: selected };
}

/** A case's result, and whether it failed because the target did not answer a request in time. */
async function runCase(
  c: ConformanceCase,
  state: RunState,
  n: number,
): Promise<{ result: CaseResult; timedOut: boolean }> {
  try {
    await c.run(createCaseContext(state, n));
    return { result: { name: c.name, ok: true, spec: c.spec }, timedOut: false };
  } catch (err) {
    // A CaseFailure is an expectation; anything else (timeout, refused connection) is reported
    // by its own message, which names what was awaited or attempted.
    const message = err instanceof CaseFailure || err instanceof Error ? err.message : String(err);
    return {
      result: { name: c.name, ok: false, message, spec: c.spec },
      timedOut: err instanceof TargetTimeout,
    };
  }
}
