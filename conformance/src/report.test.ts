import { describe, expect, it } from "vitest";
import { formatReport, toReport } from "./report.js";

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

  it("summarises an empty run", () => {
    expect(formatReport(toReport([]))).toBe("0 passed, 0 failed\n");
  });
});
