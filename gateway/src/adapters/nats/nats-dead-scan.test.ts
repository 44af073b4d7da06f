import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer } from "../../../test/support/nats-server.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { scanDead } from "./nats-dead-scan.js";
import { encodeJobMessage } from "./nats-job-codec.js";
import { natsNames } from "./nats-names.js";
import { type NatsStore, openNatsStore } from "./nats-store.js";

let nats: Awaited<ReturnType<typeof startNatsServer>>;
let store: NatsStore;
let nc: NatsConnection;
const names = natsNames("deadscan");
/** A gateway's store on the test stream (another replica when `store` is open already). */
const openReplica = () =>
  openNatsStore({ servers: nats.url, stream: "deadscan", ackWaitMs: 5_000 });
beforeAll(async () => {
  nats = await startNatsServer();
  store = await openReplica();
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  await nc?.close();
  await store?.close();
  await nats?.close();
});

const event = (id: string, bytes: number): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/dead", type: "com.example.dead" },
  data: { kind: "binary", value: new Uint8Array(bytes) },
});
const failure = { status: 500, error: "HTTP 500", at: 1 };

/** `count` dead jobs of `subscriptionId` (job ids from `from`), as `bury` leaves them. */
async function bury(subscriptionId: string, from: number, count: number, bytes = 10) {
  const js = jetstream(nc);
  await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const jobId = String(from + i);
      const { headers, data } = encodeJobMessage(event(`e${jobId}`, bytes), {
        subscriptionId,
        jobId,
        attempts: 3,
        lastFailure: failure,
      });
      return js.publish(names.dead(subscriptionId), data, { headers });
    }),
  );
}

describe("the dead set of a subscription on NATS", () => {
  it("pages through thousands of dead jobs, mixed with others, in job id order", async () => {
    // Job ids in another order than the stream's, and other subscriptions' jobs in between.
    await bury("s", 5_000, 1_500);
    await bury("other", 1, 700);
    await bury("s", 1, 1_500);
    const seen: string[] = [];
    let after: string | undefined;
    // Every JetStream API request any client makes is a message on `$JS.API.>`: counted, they say
    // how much work the pages took, where a clock would say how loaded the machine was.
    let requests = 0;
    const api = nc.subscribe("$JS.API.>", {
      callback: () => {
        requests++;
      },
    });
    await nc.flush();
    for (;;) {
      const page = await store.queue.dead("s", { limit: 500, ...(after ? { after } : {}) });
      if (page.length === 0) break;
      seen.push(...page.map((job) => job.id));
      after = page.at(-1)?.id;
    }
    const expected = [
      ...Array.from({ length: 1_500 }, (_, i) => String(1 + i)),
      ...Array.from({ length: 1_500 }, (_, i) => String(5_000 + i)),
    ];
    expect(seen).toEqual(expected);
    await nc.flush();
    api.unsubscribe();
    // Seven pages: one request per message of the set for each was 21,000 requests (5 s here); a
    // scan with a consumer of headers only, once (`NatsDeadIndex`), then each page's messages,
    // is the 3,000 pages return and a few more.
    expect(requests).toBeLessThan(4_000);
    // Two at once: they share one look for newer dead messages.
    const [one, two] = await Promise.all([
      store.queue.dead("s", { limit: 3 }),
      store.queue.dead("s", { limit: 3 }),
    ]);
    expect(one.map((job) => job.id)).toEqual(["1", "2", "3"]);
    expect(two).toEqual(one);
    expect(await store.queue.redrive("other")).toBe(700);
    expect(await store.queue.dead("other", { limit: 10 })).toEqual([]);
    // The dead jobs are all still there: the scans acked nothing and left no consumer.
    expect((await store.queue.dead("s", { limit: 5_000 })).length).toBe(3_000);
    const consumers = [];
    for await (const info of (await jetstreamManager(nc)).consumers.list("deadscan")) {
      consumers.push(info.name);
    }
    expect(consumers).toEqual([names.consumer("other")]);
  }, 30_000);
});

describe("a redrive made through two replicas at once", () => {
  it("counts each dead job once, in the answer of the replica that put it back", async () => {
    // A second gateway on the same stream: the admin API behind a load balancer.
    const second = await openReplica();
    try {
      await bury("twice", 1, 40);
      const [one, two] = await Promise.all([
        store.queue.redrive("twice"),
        second.queue.redrive("twice"),
      ]);
      // Both read the same dead set; JetStream keeps one copy of each job (its msg id), so the
      // two answers must add up to the 40 jobs that went back, not say some twice.
      expect(one + two).toBe(40);
      expect(await store.queue.dead("twice", { limit: 10 })).toEqual([]);
    } finally {
      await second.close();
    }
  }, 30_000);
});

describe("a discard and a redrive made through two replicas at once", () => {
  it("ends each dead job one way: redriven or discarded, counted once, never both", async () => {
    const second = await openReplica();
    try {
      await bury("both", 1, 40);
      const [redriven, discarded] = await Promise.all([
        store.queue.redrive("both"),
        second.queue.discardDead("both"),
      ]);
      expect(redriven + discarded).toBe(40);
      expect(await store.queue.dead("both", { limit: 10 })).toEqual([]);
      // Exactly the redriven ones went back (one message each), and no marker was left behind.
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(names.stream, { subjects_filter: `${names.stream}.>` });
      const subjects = info.state.subjects ?? {};
      expect(subjects[names.jobs("both")] ?? 0).toBe(redriven);
      expect(subjects[names.dead("both")] ?? 0).toBe(0);
      expect(await store.queue.drop("both")).toBe(redriven);
    } finally {
      await second.close();
    }
  }, 30_000);

  it("discards in a stream full at its max_bytes, where a publish is refused", async () => {
    const jsm = await jetstreamManager(nc);
    const before = await jsm.streams.info(names.stream);
    await bury("full", 1, 5, 2_000);
    const used = (await jsm.streams.info(names.stream)).state.bytes;
    await jsm.streams.update(names.stream, { ...before.config, max_bytes: used });
    try {
      // Full: a redrive cannot put a job back, a discard still frees the room.
      await expect(store.queue.redrive("full")).rejects.toThrow();
      expect(await store.queue.discardDead("full")).toBe(5);
      expect(await store.queue.dead("full", { limit: 10 })).toEqual([]);
    } finally {
      await jsm.streams.update(names.stream, { ...before.config, max_bytes: -1 });
    }
  }, 30_000);
});

describe("a page of dead jobs some of which leave the set while it is read", () => {
  it("reads on past the jobs gone since this replica read the set, so the page is full while more are dead", async () => {
    await bury("leaving", 1, 6);
    const jsm = await jetstreamManager(nc);
    const entries = await scanDead(jsm, jetstream(nc), names.stream, names.dead("leaving"));
    expect(entries.map((entry) => entry.id)).toEqual([1, 2, 3, 4, 5, 6]);
    // This replica has read the set; jobs 2 and 3 are redriven or deleted through another one.
    expect(await store.queue.dead("leaving", { limit: 1 })).toHaveLength(1);
    for (const entry of entries.slice(1, 3))
      await jsm.streams.deleteMessage(names.stream, entry.seq);
    const page = async (after?: string) =>
      (await store.queue.dead("leaving", { limit: 3, ...(after ? { after } : {}) })).map(
        (job) => job.id,
      );
    // Three asked: three come, not job 1 alone (a short page would say no page follows).
    expect(await page()).toEqual(["1", "4", "5"]);
    expect(await page("1")).toEqual(["4", "5", "6"]);
    expect(await page("5")).toEqual(["6"]);
    await store.queue.discardDead("leaving");
  }, 30_000);
});
