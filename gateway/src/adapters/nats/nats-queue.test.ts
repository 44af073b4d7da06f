import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer } from "../../../test/support/nats-server.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { systemClock } from "../../ports/clock.js";
import { silentLogger } from "../../ports/logger.js";
import { natsNames } from "./nats-names.js";
import { createNatsQueue } from "./nats-queue.js";
import { openNatsStore } from "./nats-store.js";

let nats: Awaited<ReturnType<typeof startNatsServer>>;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.close();
});

const event = (id: string): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/queue", type: "com.example.queue" },
});

describe("the NATS queue while NATS is down", () => {
  it("sends no keep-alive for the jobs it holds: they would pile up in memory until NATS is back", async () => {
    // The streams, as the store sets them up.
    await (await openNatsStore({ servers: nats.url, stream: "down" })).close();
    const nc = await connect({
      servers: nats.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 100,
    });
    let up = true;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === "disconnect") up = false;
        if (status.type === "reconnect") up = true;
      }
    })();
    const queue = createNatsQueue({
      nc,
      js: jetstream(nc),
      jsm: await jetstreamManager(nc),
      names: natsNames("down"),
      clock: systemClock,
      logger: silentLogger,
      dedupeWindowMs: 60_000,
      // Keep-alives every 333 ms.
      ackWaitMs: 1_000,
      connected: () => up,
    });
    try {
      await queue.open();
      await queue.accept(
        Array.from({ length: 50 }, (_, i) => ({ event: event(`e${i}`), subscriptionIds: ["s"] })),
      );
      // Held here (pulled, not leased), kept alive with `working()` while NATS is up.
      const leased = await queue.lease(1, 60_000, AbortSignal.timeout(5_000));
      expect(leased).toHaveLength(1);
      await nats.stop();
      const deadline = Date.now() + 5_000;
      while (up && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(up).toBe(false);
      // While disconnected, every publish waits in the client's buffer, without limit.
      const before = nc.stats().outMsgs;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      // Six rounds for 50 held jobs were 300 messages; pull requests are a few.
      expect(nc.stats().outMsgs - before).toBeLessThan(30);
    } finally {
      await nats.start();
      await queue.close();
      await nc.close();
    }
  }, 30_000);
});

describe("the NATS queue across a NATS restart", () => {
  it("acks a job its sink took while NATS restarted: JetStream does not hand it out again", async () => {
    // A first ack that timed out (NATS away) made every retry a no-op (`ackAck` sends once) that
    // resolved as if acked: the job stayed pending and went to a sink again after `ack_wait`.
    const store = await openNatsStore({ servers: nats.url, stream: "restart", knows: () => true });
    const nc = await connect({ servers: nats.url, maxReconnectAttempts: -1 });
    try {
      await store.queue.accept(
        Array.from({ length: 5 }, (_, i) => ({ event: event(`r${i}`), subscriptionIds: ["s"] })),
      );
      const jobs = await store.queue.lease(5, 60_000, AbortSignal.timeout(5_000));
      expect(jobs).toHaveLength(5);
      // The sink took them; NATS restarts (keeping its storage) as they are settled.
      await nats.stop();
      const settled = Promise.all(jobs.map((job) => store.queue.complete(job.id)));
      await nats.start();
      await settled;
      const jsm = await jetstreamManager(nc);
      const consumer = await jsm.consumers.info("restart", natsNames("restart").consumer("s"));
      expect(consumer.num_ack_pending).toBe(0);
      expect((await jsm.streams.info("restart")).state.messages).toBe(0);
    } finally {
      await store.close();
      await nc.close();
    }
  }, 30_000);
});
