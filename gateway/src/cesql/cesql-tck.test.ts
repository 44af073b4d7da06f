import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { CesqlParseError } from "./cesql-parse-error.js";
import { compileCesql } from "./compile-cesql.js";

/**
 * The official CESQL v1.0.0 TCK (cloudevents/spec cesql/cesql_tck), read where it lives, never
 * copied: `$HERALD_CONFORMANCE_DATA/cesql-tck` when that is set (it names the conformance-data
 * folder; a value pointing at its `http` folder, as the conformance runner takes it, works too),
 * else `<repo>/../shared/conformance-data/cesql-tck`.
 */
function tckDir(): string {
  const fromEnv = process.env.HERALD_CONFORMANCE_DATA;
  if (fromEnv) {
    const candidates = [join(fromEnv, "cesql-tck"), join(fromEnv, "..", "cesql-tck")];
    return candidates.find((dir) => existsSync(dir)) ?? candidates[0]!;
  }
  return fileURLToPath(new URL("../../../../shared/conformance-data/cesql-tck", import.meta.url));
}

interface TckCase {
  readonly name: string;
  readonly expression: string;
  readonly result?: AttributeValue;
  readonly error?: string;
  readonly event?: Record<string, AttributeValue>;
  readonly eventOverrides?: Record<string, AttributeValue>;
}

interface TckFile {
  readonly name: string;
  readonly tests: readonly TckCase[];
}

/** "any valid event" for cases that only give `eventOverrides` (TCK README). */
const DEFAULT_EVENT: Readonly<Record<string, AttributeValue>> = {
  specversion: "1.0",
  id: "myId",
  source: "http://localhost/source",
  type: "myType",
};

function eventOf(testCase: TckCase): CloudEvent {
  return { attributes: { ...(testCase.event ?? DEFAULT_EVENT), ...testCase.eventOverrides } };
}

/**
 * Reads one TCK file. yaml v2 keeps unquoted timestamps (`time: 2018-04-26T14:48:09+02:00`) as
 * strings. Expressions are read a second time with the failsafe schema, where every scalar is a
 * string: `expression: TRUE` or `expression: -10` is CESQL text, not a YAML boolean or number.
 */
function readSuite(path: string): TckFile {
  const text = readFileSync(path, "utf8");
  const suite = parse(text) as TckFile;
  const verbatim = parse(text, { schema: "failsafe" }) as TckFile;
  const tests = suite.tests.map((testCase, index) => ({
    ...testCase,
    expression: verbatim.tests[index]!.expression,
  }));
  return { ...suite, tests };
}

const dir = tckDir();
const files = readdirSync(dir)
  .filter((file) => file.endsWith(".yaml"))
  .sort()
  .map((file) => ({ file, suite: readSuite(join(dir, file)) }));

describe("CESQL v1.0.0 TCK", () => {
  it("has all 275 cases in 18 files", () => {
    expect(files).toHaveLength(18);
    expect(files.reduce((sum, { suite }) => sum + suite.tests.length, 0)).toBe(275);
  });

  for (const { file, suite } of files) {
    for (const testCase of suite.tests) {
      it(`${file}: ${testCase.name}`, () => {
        if (testCase.error === "parse") {
          expect(() => compileCesql(testCase.expression)).toThrowError(CesqlParseError);
          // An expression that does not parse has no value; as a filter it is false (1.2).
          expect(testCase.result ?? false).toBe(false);
          return;
        }
        const result = compileCesql(testCase.expression).evaluate(eventOf(testCase));
        expect(result.error?.kind).toBe(testCase.error);
        if (testCase.result !== undefined) expect(result.value).toStrictEqual(testCase.result);
      });
    }
  }
});
