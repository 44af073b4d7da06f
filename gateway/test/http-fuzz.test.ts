import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkRun,
  type FuzzSink,
  type FuzzTarget,
  fuzz,
  fuzzConfig,
  fuzzCredentials,
  REQUESTS,
  SEED,
  startFuzzSink,
} from "./fuzz/run-fuzz.js";
import { type SpawnedHerald, spawnHerald } from "./support/spawn-herald.js";

/**
 * A structure-aware fuzz probe of the whole HTTP surface of a real `herald serve` (SQLite in a
 * temporary folder), once with publisher auth and once with `--no-auth`: generated requests
 * (events in every mode, every webhook kind, the Subscriptions API, paths, methods, queries,
 * tokens, framing over raw sockets) from a seeded PRNG, with the invariants checked per answer
 * and, after the run, every accepted event checked at a real sink (`./fuzz/run-fuzz.ts`).
 * `HERALD_FUZZ_SEED` and `HERALD_FUZZ_REQUESTS` run it longer with another seed (README,
 * "Development"); `./workers/wrangler-fuzz.test.ts` runs the same against the Worker.
 */
const children: ChildProcess[] = [];
let sink: FuzzSink;

beforeAll(async () => {
  sink = await startFuzzSink();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await sink.close();
});

interface Target extends FuzzTarget {
  readonly herald: SpawnedHerald;
  readonly stderr: string[];
  readonly dir: string;
}

async function startTarget(auth: boolean, name: string): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), `herald-fuzz-${name}-`));
  const credentials = await fuzzCredentials(dir);
  const config = {
    store: { kind: "sqlite", path: "herald.db" },
    ...fuzzConfig(name, sink.url, auth ? credentials.issuer : undefined),
  };
  await writeFile(join(dir, "herald.json"), JSON.stringify(config));
  const stderr: string[] = [];
  const herald = await spawnHerald({
    config: "herald.json",
    cwd: dir,
    children,
    noAuth: !auth,
    env: { HERALD_LOG_LEVEL: "warn" },
    stderr: (text) => stderr.push(text),
  });
  return {
    herald,
    url: herald.url,
    port: Number(new URL(herald.url).port),
    stderr,
    publisher: auth ? credentials.publisher : undefined,
    admin: auth ? credentials.admin : undefined,
    sign: auth ? credentials.sign : undefined,
    framing: true,
    dir,
  };
}

describe.each([
  ["auth", true],
  ["open", false],
])("http fuzz (%s)", (name, auth) => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget(auth, name);
  });
  afterAll(async () => {
    await target?.herald.kill();
    if (target !== undefined) await rm(target.dir, { recursive: true, force: true });
  });

  it(`keeps every invariant under ${REQUESTS} generated requests (seed ${SEED})`, async () => {
    const run = await fuzz(target, name, SEED + (auth ? 0 : 1), sink);
    expect(target.herald.child.exitCode).toBeNull();
    await checkRun(target, name, run, sink);
    // Nothing was logged as an error.
    const errors = target.stderr
      .join("")
      .split("\n")
      .filter(
        (line) =>
          line !== "" &&
          !line.startsWith("herald: WARNING") &&
          !/"level":"(warn|info|debug)"/.test(line),
      )
      // A sink of a fuzzed subscription refusing a delivery is an outcome, logged on purpose.
      .filter((line) => !line.includes('"msg":"delivery failed; kept as dead"'));
    expect(errors.slice(0, 10)).toEqual([]);
  }, 120_000);
});
