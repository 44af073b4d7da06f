import { describe, expect, it } from "vitest";
import { createJsonLogger, logLevelFromEnv } from "./json-logger.js";

describe("logLevelFromEnv", () => {
  it.each([
    ["debug", "debug"],
    [" WARN ", "warn"],
    ["silent", "silent"],
    [undefined, "info"],
    ["verbose", "info"],
  ])("reads %j as %s", (value, level) => {
    expect(logLevelFromEnv(value)).toBe(level);
  });

  it.each(["constructor", "__proto__", "toString", "hasOwnProperty"])(
    "takes %s, a name every object has, as unknown (info), not as a level",
    (value) => {
      const level = logLevelFromEnv(value);
      expect(level).toBe("info");
      const lines: string[] = [];
      const logger = createJsonLogger({ level, write: (line) => lines.push(line) });
      logger.debug("hidden");
      logger.info("shown");
      expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["shown"]);
    },
  );
});
