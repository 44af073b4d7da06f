// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in these strings is config text under test.
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HeraldConfig } from "../../config/herald-config.js";
import { parseConfig } from "../../config/load-config.js";
import type { Logger } from "../../ports/logger.js";
import { type ConfigReloader, createConfigReloader } from "./config-reloader.js";

interface Line {
  level: string;
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** A logger that records lines and lets a test wait for one, instead of sleeping. */
function recordingLogger() {
  const lines: Line[] = [];
  const waiters: { test: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];
  const log =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      const line = { level, message, fields };
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    };
  const logger: Logger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
  };
  const next = (test: (l: Line) => boolean) =>
    new Promise<Line>((resolve) => waiters.push({ test, resolve }));
  return { logger, lines, next };
}

const yaml = (ids: string[]) =>
  `subscriptions:\n${ids.map((id) => `  - id: ${id}\n    sink: http://127.0.0.1:9/${id}\n`).join("")}`;

let dir: string;
let path: string;
let reloader: ConfigReloader | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-reload-"));
  path = join(dir, "herald.yaml");
});
afterEach(async () => {
  reloader?.close();
  reloader = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(initial: string, apply: (c: HeraldConfig) => void = () => {}) {
  await writeFile(path, initial);
  return watch(initial, apply);
}

/** A reloader on `path` as it is (a link made by the test), running the config `initial`. */
function watch(initial: string, apply: (c: HeraldConfig) => void = () => {}) {
  const log = recordingLogger();
  const running = parseConfig(initial, path, {});
  const applied: HeraldConfig[] = [];
  reloader = createConfigReloader({
    path,
    env: {},
    logger: log.logger,
    running,
    initialText: initial,
    debounceMs: 20,
    removalSettleMs: 300,
    apply: (config) => {
      apply(config);
      applied.push(config);
    },
  });
  return { ...log, applied };
}

describe("createConfigReloader", () => {
  it("applies the file again on reload()", async () => {
    const { applied } = await start(yaml(["a"]));
    await writeFile(path, yaml(["a", "b"]));
    expect(await reloader!.reload("SIGHUP")).toBe(true);
    expect(applied.at(-1)?.subscriptions.map((s) => s.id)).toStrictEqual(["a", "b"]);
  });

  it("refuses an invalid file with an error log naming the problem; nothing is applied", async () => {
    const { applied, lines } = await start(yaml(["a"]));
    await writeFile(path, "subscriptions:\n  - id: a\n    sink: nope\n");
    expect(await reloader!.reload("SIGHUP")).toBe(false);
    expect(applied).toHaveLength(0);
    const error = lines.find((l) => l.level === "error");
    expect(error?.message).toMatch(/old config stays/);
    expect(JSON.stringify(error?.fields)).toContain("subscriptions[0].sink");
  });

  it("refuses a file that is not UTF-8, as at start, rather than apply U+FFFD in its values", async () => {
    const { applied, lines } = await start(yaml(["a"]));
    await writeFile(path, Buffer.from(`${yaml(["a"])}    source: /caf\u00e9\n`, "latin1"));
    expect(await reloader!.reload("SIGHUP")).toBe(false);
    expect(applied).toHaveLength(0);
    const error = lines.find((l) => l.level === "error");
    expect(JSON.stringify(error?.fields)).toContain("the file is not UTF-8 text");
  });

  it("refuses a new ${VAR} that is not set, saying a reload reads the environment of the start", async () => {
    const { applied, lines } = await start(yaml(["a"]));
    await writeFile(path, "subscriptions:\n  - id: a\n    sink: ${HERALD_TEST_SINK}\n");
    expect(await reloader!.reload("SIGHUP")).toBe(false);
    expect(applied).toHaveLength(0);
    const error = lines.find((l) => l.level === "error");
    expect(JSON.stringify(error?.fields?.errors)).toContain(
      "herald.yaml:3:11 subscriptions[0].sink: environment variable HERALD_TEST_SINK is not set",
    );
    expect(error?.fields?.hint).toMatch(/environment herald serve started with.*restart/);
  });

  it("gives no environment hint for an invalid file that names no variable", async () => {
    const { lines } = await start(yaml(["a"]));
    await writeFile(path, "subscriptions:\n  - id: a\n    sink: nope\n");
    expect(await reloader!.reload("SIGHUP")).toBe(false);
    expect(lines.find((l) => l.level === "error")?.fields).not.toHaveProperty("hint");
  });

  it("refuses what apply refuses", async () => {
    const { lines } = await start(yaml(["a"]), (config) => {
      if (config.subscriptions.some((s) => s.id === "clash")) throw new Error("id clash");
    });
    await writeFile(path, yaml(["clash"]));
    expect(await reloader!.reload("SIGHUP")).toBe(false);
    expect(lines.at(-1)?.fields?.error).toBe("id clash");
  });

  it("a missing file is refused, not a crash", async () => {
    const { lines } = await start(yaml(["a"]));
    await rm(path);
    expect(await reloader!.reload("SIGHUP")).toBe(false);
    expect(lines.at(-1)?.message).toMatch(/cannot read/);
  });

  it("warns that listen, auth and other sections need a restart", async () => {
    const { lines } = await start(yaml(["a"]));
    await writeFile(path, `listen: { port: 9999 }\n${yaml(["a"])}`);
    expect(await reloader!.reload("SIGHUP")).toBe(true);
    const warn = lines.find((l) => l.level === "warn");
    expect(warn?.fields?.sections).toStrictEqual(["listen"]);
  });

  it("refuses an empty file (one caught mid-rewrite), which would remove every subscription", async () => {
    const { applied, lines } = await start(yaml(["a"]));
    await writeFile(path, "  \n");
    expect(await reloader!.reload("SIGHUP")).toBe(false);
    expect(applied).toHaveLength(0);
    expect(lines.at(-1)?.level).toBe("error");
    expect(lines.at(-1)?.message).toMatch(/file is empty.*old config stays.*subscriptions: \[\]/);
    await writeFile(path, "subscriptions: []\n");
    expect(await reloader!.reload("SIGHUP")).toBe(true);
    expect(applied.at(-1)?.subscriptions).toStrictEqual([]);
  });

  it("warns about valid settings that are probably not meant, as at start, never echoing a secret", async () => {
    const { lines } = await start(yaml(["a"]));
    const secret = "whsec_c2hvcnQ=";
    await writeFile(path, `${yaml(["a"])}    delivery: { signingSecret: ${secret} }\n`);
    expect(await reloader!.reload("SIGHUP")).toBe(true);
    const warn = lines.find((l) => l.level === "warn");
    expect(warn?.message).toMatch(
      /:4:\d+ subscriptions\[0\]\.delivery\.signingSecret: a key of 5 bytes/,
    );
    expect(JSON.stringify(lines)).not.toContain("c2hvcnQ");
  });

  it("reloads when the file is written", async () => {
    const { applied, next } = await start(yaml(["a"]));
    const reloaded = next((l) => l.message === "config reloaded");
    await writeFile(path, yaml(["a", "written"]));
    await reloaded;
    expect(applied.at(-1)?.subscriptions.map((s) => s.id)).toStrictEqual(["a", "written"]);
  });

  it("reloads when a new file is renamed over it (how editors save)", async () => {
    const { applied, next } = await start(yaml(["a"]));
    const reloaded = next((l) => l.message === "config reloaded");
    const temp = join(dir, ".herald.yaml.tmp");
    await writeFile(temp, yaml(["renamed"]));
    await rename(temp, path);
    await reloaded;
    expect(applied.at(-1)?.subscriptions.map((s) => s.id)).toStrictEqual(["renamed"]);
  });

  it("reloads a symlinked file when a link it goes through is swapped (a Kubernetes ConfigMap)", async () => {
    // The kubelet's layout: herald.yaml -> ..data/herald.yaml, ..data -> a folder per version,
    // and an update renames a new ..data over the old one: no event names herald.yaml.
    for (const [version, ids] of [
      ["v1", ["one"]],
      ["v2", ["two"]],
    ] as const) {
      await mkdir(join(dir, version));
      await writeFile(join(dir, version, "herald.yaml"), yaml([...ids]));
    }
    await symlink("v1", join(dir, "..data"));
    await symlink(join("..data", "herald.yaml"), path);
    const log = watch(yaml(["one"]));
    const { applied } = log;
    const reloaded = log.next((l) => l.message === "config reloaded");
    await symlink("v2", join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
    await reloaded;
    expect(applied.map((c) => c.subscriptions.map((s) => s.id))).toStrictEqual([["two"]]);
  });

  it("after a symbolic link is pointed at another file, a write to that file reloads", async () => {
    // herald.yaml -> targets/a.yaml, then relinked to targets/b.yaml: b.yaml is what is read now,
    // so its folder and name are what must be watched, not a.yaml's any more.
    const targets = join(dir, "targets");
    await mkdir(targets);
    await writeFile(join(targets, "a.yaml"), yaml(["a"]));
    await writeFile(join(targets, "b.yaml"), yaml(["b"]));
    await symlink(join("targets", "a.yaml"), path);
    const log = watch(yaml(["a"]));
    const { applied } = log;
    const relinked = log.next((l) => l.message === "config reloaded");
    await symlink(join("targets", "b.yaml"), join(dir, "herald.yaml.tmp"));
    await rename(join(dir, "herald.yaml.tmp"), path);
    await relinked;
    const edited = log.next((l) => l.message === "config reloaded");
    await writeFile(join(targets, "b.yaml"), yaml(["b", "edited"]));
    await edited;
    expect(applied.map((c) => c.subscriptions.map((s) => s.id))).toStrictEqual([
      ["b"],
      ["b", "edited"],
    ]);
  });

  it("a half-written file that would remove subscriptions is not applied while it is still being written", async () => {
    const { applied, lines, next } = await start(yaml(["a", "b"]));
    const reloaded = next((l) => l.message === "config reloaded");
    const settling = next((l) => l.message.startsWith("config change removes subscriptions"));
    // A writer that truncates, writes the first subscription, pauses past the debounce (the
    // reloader has read the half file), then ends.
    await writeFile(path, yaml(["a"]));
    await settling;
    await writeFile(path, yaml(["a", "b", "c"]));
    await reloaded;
    expect(applied.map((c) => c.subscriptions.map((s) => s.id))).toStrictEqual([["a", "b", "c"]]);
    expect(lines.filter((l) => l.message === "config reloaded")).toHaveLength(1);
  });

  it("a file change that removes a subscription applies once the file stays as it is", async () => {
    const { applied, next } = await start(yaml(["a", "b"]));
    const reloaded = next((l) => l.message === "config reloaded");
    await writeFile(path, yaml(["a"]));
    await reloaded;
    expect(applied.map((c) => c.subscriptions.map((s) => s.id))).toStrictEqual([["a"]]);
  });

  it("an invalid write is refused and a later valid one still applies", async () => {
    const { applied, next } = await start(yaml(["a"]));
    const refused = next((l) => l.level === "error");
    await writeFile(path, "subscriptions: [");
    await refused;
    const reloaded = next((l) => l.message === "config reloaded");
    await writeFile(path, yaml(["fixed"]));
    await reloaded;
    expect(applied.map((c) => c.subscriptions.map((s) => s.id))).toStrictEqual([["fixed"]]);
  });
});
