import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../ports/logger.js";
import { ServeError, serve } from "./serve.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-serve-"));
  await mkdir(join(dir, "conf"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const start = (configPath: string) =>
  serve({
    configPath,
    port: 0,
    noAuth: true,
    cwd: dir,
    env: {},
    logger: silentLogger,
    print: () => {},
    watchConfig: false,
  });

describe("serve: the SQLite store", () => {
  it("takes a relative store path from the config file's folder, not the current one", async () => {
    await writeFile(join(dir, "conf", "herald.yaml"), "store: { kind: sqlite, path: data/h.db }\n");
    const server = await start("conf/herald.yaml");
    try {
      expect(existsSync(join(dir, "conf", "data", "h.db"))).toBe(true);
      expect(existsSync(join(dir, "data", "h.db"))).toBe(false);
    } finally {
      await server.close();
    }
  });

  it("refuses to start on a store file another gateway owns, saying so", async () => {
    await writeFile(join(dir, "conf", "shared.yaml"), "store: { kind: sqlite, path: shared.db }\n");
    const first = await start("conf/shared.yaml");
    try {
      const second = await start("conf/shared.yaml").catch((e: unknown) => e);
      expect(second).toBeInstanceOf(ServeError);
      expect((second as Error).message).toMatch(/shared\.db: another process holds it/);
    } finally {
      await first.close();
    }
    // Closed, the file can be opened again.
    const again = await start("conf/shared.yaml");
    await again.close();
  });
});
