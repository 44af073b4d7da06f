import { afterEach, describe, expect, it, vi } from "vitest";
import { createConsoleLogger } from "../src/adapters/workers/console-logger.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the Worker's console logger", () => {
  it("writes the keys of the Node JSON logger (time, level, msg, then the fields)", () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => {
      lines.push(line);
    });
    createConsoleLogger("info").warn("subscription disabled", { subscriptionId: "a" });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(record)).toStrictEqual(["time", "level", "msg", "subscriptionId"]);
    expect(record).toMatchObject({
      level: "warn",
      msg: "subscription disabled",
      subscriptionId: "a",
    });
  });

  it("leaves out what is below the level", () => {
    const debug = vi.spyOn(console, "debug").mockImplementation(() => {});
    createConsoleLogger("info").debug("noise");
    expect(debug).not.toHaveBeenCalled();
  });
});
