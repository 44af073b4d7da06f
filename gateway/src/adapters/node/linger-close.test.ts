import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SpawnedHerald, spawnHerald } from "../../../test/support/spawn-herald.js";

// herald serve in its own process: in one process the client's writes and the server's close
// take turns on one event loop, and the reset that lost the answer does not happen.
const children: ChildProcess[] = [];
let dir: string;
let herald: SpawnedHerald;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-linger-"));
  await writeFile(join(dir, "herald.json"), JSON.stringify({ store: { kind: "memory" } }));
  herald = await spawnHerald({ config: join(dir, "herald.json"), cwd: dir, children });
});
afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await rm(dir, { recursive: true, force: true });
});

describe("a request answered before its body is read (413 on Content-Length)", () => {
  it("gets its answer: the connection lingers after it instead of resetting the upload", async () => {
    // Destroyed once the 413 was written, the socket reset the client's further writes and
    // fetch failed with "write EPIPE" (or ECONNRESET) before it read the answer, about one
    // request in two; a producer then retried the whole body.
    const body = new Uint8Array(8 * 1024 * 1024);
    const headers = {
      "ce-specversion": "1.0",
      "ce-source": "/big",
      "ce-type": "com.example.big",
      "content-type": "application/octet-stream",
    };
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${herald.url}/events`, {
        method: "POST",
        headers: { ...headers, "ce-id": `big-${i}` },
        body,
      }).then(
        async (r) => `${r.status} ${r.headers.get("connection")} ${(await r.json()).code}`,
        (err: Error & { cause?: { code?: string } }) => `${err.message}: ${err.cause?.code}`,
      );
      outcomes.push(res);
    }
    expect(outcomes).toEqual(Array(8).fill("413 close payload_too_large"));
  });
});
