import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScriptedSink, startScriptedSink } from "../../../test/support/scripted-sink.js";
import { spawnHerald } from "../../../test/support/spawn-herald.js";
import { waitUntil } from "../../../test/support/wait-until.js";

let dir: string;
let sink: ScriptedSink;
const children: ChildProcess[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-log-reader-"));
  sink = await startScriptedSink([{ status: 400, body: "refused" }]);
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await sink.close();
  await rm(dir, { recursive: true, force: true });
});

describe("herald serve whose stderr reader goes away", () => {
  it("keeps serving and delivering (log lines are lost, EPIPE does not end it)", async () => {
    await writeFile(
      join(dir, "herald.yaml"),
      [
        "store: { kind: memory }",
        "subscriptions:",
        "  - id: refused",
        `    sink: ${sink.url}`,
        "    delivery: { retry: 0 }",
      ].join("\n"),
    );
    // The reader of its stderr (a `| tee`, a log shipper) closes the pipe at the first line.
    const gw = await spawnHerald({
      config: "herald.yaml",
      cwd: dir,
      env: { HERALD_LOG_LEVEL: "info" },
      children,
      stderr: () => children.at(-1)?.stderr?.destroy(),
    });
    // Closed by now in any case (its first line and the listening line race on two pipes).
    gw.child.stderr?.destroy();
    const exited = once(gw.child, "exit");
    const res = await fetch(`${gw.url}/events`, {
      method: "POST",
      headers: { "ce-specversion": "1.0", "ce-id": "e-1", "ce-source": "/s", "ce-type": "t" },
      body: "x",
    });
    expect(res.status).toBe(202);
    // Its failure is logged (an `error` line, written to the closed pipe) before it is counted.
    await waitUntil(
      async () =>
        /herald_dead_events_total\{subscription="refused",ending="store"\} 1/.test(
          await (await fetch(`${gw.url}/metrics`)).text(),
        ),
      { what: "the dead delivery to be counted" },
    );
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
    gw.child.kill("SIGTERM");
    expect(await exited).toEqual([0, null]);
  });
});
