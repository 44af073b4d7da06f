/** The message of a case that did not run because the setup check failed. */
export const NOT_RUN = "not run: the setup check failed";
/** Cases in a row whose request to the target timed out, after which a run stops sending. */
export const UNANSWERED_LIMIT = 3;
/** The message of the cases left out once the target stopped answering (see `runConformance`). */
export const NOT_RUN_UNANSWERED = "not run: the target stopped answering";

/** The outcome of one case. */
export interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  /** Why it failed. */
  readonly message?: string;
  /** The spec section the expectation comes from. */
  readonly spec?: string;
}

/** The outcome of a run. */
export interface ConformanceReport {
  readonly passed: number;
  readonly failed: number;
  readonly results: readonly CaseResult[];
}

/**
 * Summarises results into a report.
 *
 * @example
 * toReport([{ name: "a", ok: true }]) // => { passed: 1, failed: 0, results: [...] }
 */
export function toReport(results: readonly CaseResult[]): ConformanceReport {
  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed, results };
}

/**
 * A readable, plain-text report: one line per case, failures with their reason and spec section,
 * then a summary line.
 *
 * @example
 * console.log(formatReport(report));
 * // PASS  binary: ce- header names are case-insensitive
 * // FAIL  batch: an empty batch is accepted
 * //       expected 202, got 400 ...
 * //       spec: HTTP protocol binding 1.0.2 §3.3.2
 * // 1 passed, 1 failed
 */
export function formatReport(report: ConformanceReport): string {
  return `${report.results.map(formatResult).join("")}${formatSummary(report)}`;
}

/**
 * One case as {@link formatReport} prints it: its line, and for a failure the reason and spec
 * section, each line ending in a newline. For printing cases as they finish.
 *
 * @example
 * process.stdout.write(formatResult({ name: "batch: an empty batch is accepted", ok: true }));
 * // PASS  batch: an empty batch is accepted
 */
export function formatResult(r: CaseResult): string {
  const lines = [`${r.ok ? "PASS" : "FAIL"}  ${r.name}`];
  if (!r.ok) {
    if (r.message) lines.push(...r.message.split("\n").map((l) => `      ${l}`));
    if (r.spec) lines.push(`      spec: ${r.spec}`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The summary line that ends {@link formatReport}. After a failed setup check it also says how
 * many cases did not run and why, since that reason is printed far above.
 *
 * @example
 * formatSummary({ passed: 1, failed: 0, results: [] }) // => "1 passed, 0 failed\n"
 */
export function formatSummary(report: ConformanceReport): string {
  const notRun = report.results.filter((r) => !r.ok && r.message === NOT_RUN).length;
  const unanswered = report.results.filter((r) => !r.ok && r.message === NOT_RUN_UNANSWERED).length;
  const setup = report.results[0];
  const why =
    unanswered > 0
      ? ` (${unanswered} not run: the target stopped answering; ${UNANSWERED_LIMIT} cases in a row got no answer in time)`
      : notRun === 0 || setup === undefined
        ? ""
        : ` (${notRun} not run: the setup check failed: ${setup.message?.split("\n")[0] ?? ""})`;
  return `${report.passed} passed, ${report.failed} failed${why}\n`;
}
