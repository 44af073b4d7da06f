import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkRun,
  errorLines,
  type FuzzSink,
  fuzz,
  fuzzConfig,
  fuzzCredentials,
  REQUESTS,
  SEED,
  startFuzzSink,
} from "../fuzz/run-fuzz.js";
import { startWranglerDev, type WranglerDev } from "./wrangler-dev.js";

/**
 * The HTTP fuzz probe (`../http-fuzz.test.ts`, same generators and invariants) against the
 * Worker under `wrangler dev`: workerd with D1 and Queues simulated locally, delivering to a sink
 * on 127.0.0.1. Framing oddities over raw sockets are left out: the platform reads the request
 * and answers those itself (README, "Differences from Node"). `HERALD_FUZZ_WORKERS_REQUESTS`
 * (default `HERALD_FUZZ_REQUESTS`, else 400) and `HERALD_FUZZ_SEED` run it longer.
 */
const WORKER_REQUESTS = Number(
  process.env.HERALD_FUZZ_WORKERS_REQUESTS ?? (process.env.HERALD_FUZZ_REQUESTS ? REQUESTS : 400),
);

let sink: FuzzSink;
let dir: string;

beforeAll(async () => {
  sink = await startFuzzSink();
  dir = await mkdtemp(join(tmpdir(), "herald-wfuzz-"));
});

afterAll(async () => {
  await sink?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe.each([
  ["wauth", true],
  ["wopen", false],
])("http fuzz of the Worker under wrangler dev (%s)", (name, auth) => {
  let dev: WranglerDev;
  let credentials: Awaited<ReturnType<typeof fuzzCredentials>>;
  beforeAll(async () => {
    credentials = await fuzzCredentials(dir);
    dev = await startWranglerDev(
      fuzzConfig(name, sink.url, auth ? credentials.issuer : undefined),
      {
        noAuth: !auth,
      },
    );
  }, 90_000);
  afterAll(async () => {
    await dev?.stop();
  });

  it(`keeps every invariant under ${WORKER_REQUESTS} generated requests (seed ${SEED})`, async () => {
    const target = {
      url: dev.url,
      port: Number(new URL(dev.url).port),
      publisher: auth ? credentials.publisher : undefined,
      admin: auth ? credentials.admin : undefined,
      sign: auth ? credentials.sign : undefined,
      framing: false,
    };
    const run = await fuzz(target, name, SEED + (auth ? 0 : 1), sink, WORKER_REQUESTS);
    try {
      await checkRun(target, name, run, sink);
    } catch (error) {
      // What workerd said (a crash, an uncaught error) is the first thing to read.
      console.log(dev.output());
      throw error;
    }
    expect(errorLines(dev.output()).slice(0, 10)).toEqual([]);
  }, 300_000);
});
