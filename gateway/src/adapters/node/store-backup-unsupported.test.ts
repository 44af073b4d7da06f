import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasNatsServer, startNatsServer } from "../../../test/support/nats-server.js";
import { type ServedInTempDir, serveInTempDir } from "../../../test/support/serve-in-temp-dir.js";

// `herald serve` on a store that has no file to copy: GET /store/backup says what to use instead.

let nats: Awaited<ReturnType<typeof startNatsServer>> | undefined;
beforeAll(async () => {
  if (hasNatsServer()) nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.close();
});

async function backupOf(served: ServedInTempDir) {
  const url = `${served.server.url}/store/backup`;
  const res = await fetch(url);
  const head = await fetch(url, { method: "HEAD" });
  return {
    status: res.status,
    type: res.headers.get("content-type"),
    problem: (await res.json()) as { code: string; detail: string },
    head: head.status,
  };
}

describe("GET /store/backup on a store without a file", () => {
  it("memory: 501 backup_unsupported, there is nothing to back up", async () => {
    const served = await serveInTempDir("store: { kind: memory }\n", "herald-backup-memory-");
    try {
      const answer = await backupOf(served);
      expect(answer).toMatchObject({
        status: 501,
        type: "application/problem+json",
        problem: { code: "backup_unsupported" },
        head: 501,
      });
      expect(answer.problem.detail).toMatch(/memory store keeps nothing on disk/);
      expect(answer.problem.detail).toMatch(/store: sqlite/);
    } finally {
      await served.close();
    }
  });

  it("NATS: 501 backup_unsupported, naming the streams to back up with the nats tool", async (ctx) => {
    if (nats === undefined) ctx.skip();
    const served = await serveInTempDir(
      `store: { kind: nats, url: "${nats?.url}", stream: orders }\n`,
      "herald-backup-nats-",
    );
    try {
      const answer = await backupOf(served);
      expect(answer).toMatchObject({ status: 501, problem: { code: "backup_unsupported" } });
      expect(answer.problem.detail).toContain("nats stream backup orders DIR");
      expect(answer.problem.detail).toContain("orders-events");
      expect(answer.problem.detail).toContain("KV_orders-subscriptions");
    } finally {
      await served.close();
    }
  }, 30_000);
});
