import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordingSink, startRecordingSink } from "../../../test/support/recording-sink.js";
import { spawnHerald } from "../../../test/support/spawn-herald.js";

const EVENTS = 3_000;
const BATCH = 100;
const IN_FLIGHT = 32;

let dir: string;
let sink: RecordingSink;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-crash-"));
  sink = await startRecordingSink();
});
const children: ChildProcess[] = [];
afterAll(async () => {
  // A failed assertion must not leave a gateway running.
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await sink.close();
  await rm(dir, { recursive: true, force: true });
});

const start = () => spawnHerald({ config: "herald.yaml", cwd: dir, children });

const batch = (from: number) =>
  JSON.stringify(
    Array.from({ length: BATCH }, (_, i) => ({
      specversion: "1.0",
      id: `crash-${from + i}`,
      source: "/crash",
      type: "com.example.crash",
    })),
  );

describe("herald serve on the SQLite store, killed with SIGKILL", () => {
  it("delivers every accepted event after a restart; duplicates only from deliveries in flight", async () => {
    await writeFile(
      join(dir, "herald.yaml"),
      [
        `limits: { maxDeliveriesInFlight: ${IN_FLIGHT} }`,
        "store: { kind: sqlite, path: .herald/crash.db }",
        "subscriptions:",
        "  - id: all",
        `    sink: ${sink.url}/all`,
      ].join("\n"),
    );
    const first = await start();
    for (let from = 0; from < EVENTS; from += BATCH) {
      const res = await fetch(`${first.url}/events`, {
        method: "POST",
        headers: { "content-type": "application/cloudevents-batch+json" },
        body: batch(from),
      });
      expect(res.status).toBe(202);
    }
    // Every event was acknowledged, so every one is committed. Kill as soon as some arrived.
    await sink.waitFor(50);
    const exited = new Promise((ok) => first.child.once("exit", ok));
    first.child.kill("SIGKILL");
    await exited;
    const beforeRestart = sink.received.length;
    expect(beforeRestart).toBeLessThan(EVENTS);

    const second = await start();
    const delivered = () =>
      new Set(
        sink.received.filter((r) => r.path === "/all").map((r) => String(r.headers["ce-id"])),
      );
    // Each arrival wakes this loop; the test's timeout bounds it.
    while (delivered().size < EVENTS) await sink.waitFor(sink.received.length + 1);
    const unique = delivered();
    for (let i = 0; i < EVENTS; i++) expect(unique.has(`crash-${i}`), `crash-${i}`).toBe(true);
    // Wait for the rest of the second run's deliveries, then count the duplicates: only
    // deliveries that were in flight at the kill (at most maxDeliveriesInFlight) come twice.
    const stopped = new Promise((ok) => second.child.once("exit", ok));
    second.child.kill("SIGTERM");
    await stopped;
    const finalIds = sink.received
      .filter((r) => r.path === "/all")
      .map((r) => String(r.headers["ce-id"]));
    expect(new Set(finalIds).size).toBe(EVENTS);
    expect(finalIds.length - EVENTS).toBeLessThanOrEqual(IN_FLIGHT);
  }, 60_000);
});
