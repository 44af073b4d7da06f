import { afterEach, describe, expect, it, vi } from "vitest";
import { createConsoleLogger } from "../src/adapters/workers/console-logger.js";
import { createHeraldWorker } from "../src/adapters/workers/create-herald-worker.js";
import { bindings } from "./harness.js";

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

  it("reads the level as herald serve does: trimmed, in any case", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const info = vi.spyOn(console, "info").mockImplementation(() => {});
    const logger = createConsoleLogger(" WARN ");
    logger.info("hidden");
    logger.warn("shown");
    expect(info).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it("says once that an unknown HERALD_LOG_LEVEL is taken as info, as herald serve does", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => {
      lines.push(line);
    });
    vi.spyOn(console, "info").mockImplementation(() => {});
    const worker = createHeraldWorker();
    const env = {
      ...bindings,
      HERALD_CONFIG: JSON.stringify({ subscriptions: [] }),
      HERALD_NO_AUTH: "true",
      HERALD_LOG_LEVEL: "verbose",
    };
    for (let i = 0; i < 2; i++) {
      expect((await worker.fetch(new Request("http://herald.test/healthz"), env)).status).toBe(200);
    }
    const said = lines.filter((line) => line.includes("HERALD_LOG_LEVEL"));
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0]!)).toMatchObject({
      level: "warn",
      msg: "HERALD_LOG_LEVEL=verbose is not one of debug, info, warn, error, silent; using info",
    });
  });
});
