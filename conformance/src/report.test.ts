import { describe, expect, it } from "vitest";
import { formatReport, formatSummary, NOT_RUN, toReport } from "./report.js";

describe("toReport / formatReport", () => {
  const report = toReport([
    { name: "binary: ok case", ok: true, spec: "HB §3.1" },
    { name: "batch: bad case", ok: false, message: "expected 202\ngot 400", spec: "HB §3.3" },
  ]);

  it("counts passes and failures", () => {
    expect(report).toMatchObject({ passed: 1, failed: 1 });
  });

  it("prints one line per case, failure details indented, and a summary", () => {
    expect(formatReport(report)).toBe(
      [
        "PASS  binary: ok case",
        "FAIL  batch: bad case",
        "      expected 202",
        "      got 400",
        "      spec: HB §3.3",
        "1 passed, 1 failed",
        "",
      ].join("\n"),
    );
  });

  it("after a failed setup check, the summary says how many cases did not run and why", () => {
    const failed = toReport([
      { name: "setup: check", ok: false, message: "a valid binary event got 500 boom" },
      { name: "binary: a", ok: false, message: NOT_RUN },
      { name: "binary: b", ok: false, message: NOT_RUN },
    ]);
    expect(formatSummary(failed)).toBe(
      "0 passed, 3 failed (2 not run: the setup check failed: a valid binary event got 500 boom)\n",
    );
  });

  it("summarises an empty run", () => {
    expect(formatReport(toReport([]))).toBe("0 passed, 0 failed\n");
  });
});
