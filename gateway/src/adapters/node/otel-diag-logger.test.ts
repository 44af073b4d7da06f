import { diag } from "@opentelemetry/api";
import { loggingErrorHandler } from "@opentelemetry/core";
import { afterEach, expect, it } from "vitest";
import type { Logger } from "../../ports/logger.js";
import { diagLogger, diagLogLevel } from "./otel-diag-logger.js";

function recordingLogger() {
  const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    lines.push({ level, msg, ...(fields === undefined ? {} : { fields }) });
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { logger, lines };
}

afterEach(() => {
  diag.disable();
});

it("logs an exception the SDK's error handler reports as its name and message, never its stack", () => {
  const { logger, lines } = recordingLogger();
  diag.setLogger(diagLogger(logger), { logLevel: diagLogLevel("warn") });
  const refused = Object.assign(new Error("Bad Request"), {
    name: "OTLPExporterError",
    code: "400",
    data: "collector says no",
  });
  // What the SDK's batch span processor does with a failed export.
  loggingErrorHandler()(refused);
  expect(lines).toEqual([
    {
      level: "warn",
      msg: "opentelemetry: OTLPExporterError: Bad Request",
      fields: { code: "400", detail: "collector says no" },
    },
  ]);
});

it("cuts the stack frames off a message that carries them", () => {
  const { logger, lines } = recordingLogger();
  const log = diagLogger(logger);
  // The API logs `err.stack` for a duplicate registration.
  log.error(new Error("Attempted duplicate registration of API: context").stack ?? "");
  log.warn(
    "export failed",
    new Error("socket hang up"),
    "later\n    at x (/a/node_modules/b.js:1:1)",
  );
  expect(lines).toEqual([
    {
      level: "warn",
      msg: "opentelemetry: Error: Attempted duplicate registration of API: context",
    },
    {
      level: "warn",
      msg: "opentelemetry: export failed",
      fields: { detail: "socket hang up later" },
    },
  ]);
});

it("writes the same warning at most once per 10 s, saying how many were left out", () => {
  const { logger, lines } = recordingLogger();
  let now = 0;
  diag.setLogger(diagLogger(logger, { now: () => now }), { logLevel: diagLogLevel("warn") });
  const refused = Object.assign(new Error("Bad Request"), {
    name: "OTLPExporterError",
    code: "400",
  });
  // A collector refusing every export: the batch processor reports each one.
  for (let i = 0; i < 50; i++) {
    loggingErrorHandler()(refused);
    now += 100;
  }
  diag.warn("Concurrent export limit reached");
  expect(lines.map((l) => l.msg)).toEqual([
    "opentelemetry: OTLPExporterError: Bad Request",
    "opentelemetry: Concurrent export limit reached",
  ]);
  now = 10_000;
  loggingErrorHandler()(refused);
  expect(lines[2]).toEqual({
    level: "warn",
    msg: "opentelemetry: OTLPExporterError: Bad Request",
    fields: { code: "400", repeated: 49 },
  });
  // Another code is another warning.
  loggingErrorHandler()(
    Object.assign(new Error("Bad Request"), { name: "OTLPExporterError", code: "413" }),
  );
  expect(lines).toHaveLength(4);
});

it("masks the given secrets in the message and the collector's answer", () => {
  const { logger, lines } = recordingLogger();
  diag.setLogger(diagLogger(logger, { secrets: ["Bearer abc123def", "abc123def"] }), {
    logLevel: diagLogLevel("warn"),
  });
  const refused = Object.assign(new Error("Unauthorized abc123def"), {
    name: "OTLPExporterError",
    code: "401",
    data: "bad credentials: Bearer abc123def (abc123def)",
  });
  loggingErrorHandler()(refused);
  diag.warn("export to key", "abc123def");
  expect(JSON.stringify(lines)).not.toContain("abc123def");
  expect(lines[0]).toEqual({
    level: "warn",
    msg: "opentelemetry: OTLPExporterError: Unauthorized ***",
    fields: { code: "401", detail: "bad credentials: *** (***)" },
  });
});
