import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNatsServer } from "../../../test/support/nats-server.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { encodeJobMessage } from "./nats-job-codec.js";
import { natsNames } from "./nats-names.js";
import { type NatsStore, openNatsStore } from "./nats-store.js";

let nats: Awaited<ReturnType<typeof startNatsServer>>;
let nc: NatsConnection;
const stores: NatsStore[] = [];
const names = natsNames("deadindex");
/** A gateway's store on the test stream (another replica once one is open). */
const openReplica = async () => {
  const store = await openNatsStore({ servers: nats.url, stream: "deadindex", ackWaitMs: 5_000 });
  stores.push(store);
  return store;
};
beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
});
afterAll(async () => {
  for (const store of stores) await store.close();
  await nc?.close();
  await nats?.close();
});

const event = (id: string): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/dead", type: "com.example.dead" },
  data: { kind: "binary", value: new Uint8Array(10) },
});

/** Dead jobs of `subscriptionId` with these job ids, as a `bury` on any replica leaves them. */
async function bury(
  subscriptionId: string,
  ids: readonly number[],
  error = "HTTP 500",
  on = names,
) {
  const js = jetstream(nc);
  for (let at = 0; at < ids.length; at += 1_000) {
    await Promise.all(
      ids.slice(at, at + 1_000).map((id) => {
        const { headers, data } = encodeJobMessage(event(`e${id}`), {
          subscriptionId,
          jobId: String(id),
          attempts: 3,
          lastFailure: { status: 500, error, at: 1 },
        });
        return js.publish(on.dead(subscriptionId), data, { headers });
      }),
    );
  }
}
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);
const idsOf = (jobs: readonly { id: string }[]) => jobs.map((job) => job.id);

describe("the dead set on NATS at scale", () => {
  // Each page, look-up and redrive of one job scanned every dead message of the subscription: here
  // 36 -> 234 ms for a page of 100 from 2,000 to 20,000 dead jobs, 33 -> 212 ms for findDead,
  // 27 -> 237 ms for a redrive of one job (6-9x). Once this replica has read the set, each costs
  // what it reads (about 1x). A ratio within one process: 20,000 dead jobs against 2,000.
  it("pages, finds and redrives one job as fast among 20,000 dead jobs as among 2,000", async () => {
    const store = await openReplica();
    const { queue } = store;
    await bury("small", range(1, 2_000));
    await bury("large", range(1, 20_000));
    const timed = async (work: () => Promise<unknown>) => {
      const start = performance.now();
      await work();
      return performance.now() - start;
    };
    let redriven = 0;
    /** The quickest of three runs of each (another job each time), and the API requests made. */
    const costs = async (sub: string, n: number) => {
      const never = Number.POSITIVE_INFINITY;
      const best = { page: never, find: never, redrive: never };
      let requests = 0;
      const api = nc.subscribe("$JS.API.>", {
        callback: () => {
          requests++;
        },
      });
      await nc.flush();
      for (let run = 0; run < 3; run++) {
        const middle = String(n / 2 + run * 200);
        const last = String(n - redriven++);
        const page = await timed(async () => {
          const page = await queue.dead(sub, { limit: 100, after: middle });
          expect(page[0]?.id).toBe(String(Number(middle) + 1));
          expect(page).toHaveLength(100);
        });
        const find = await timed(async () => {
          expect((await queue.findDead(sub, middle))?.id).toBe(middle);
        });
        const redrive = await timed(async () => {
          expect(await queue.redrive(sub, [last])).toBe(1);
        });
        best.page = Math.min(best.page, page);
        best.find = Math.min(best.find, find);
        best.redrive = Math.min(best.redrive, redrive);
      }
      await nc.flush();
      api.unsubscribe();
      return { ...best, requests };
    };
    // Each replica reads a set once (here, the first page of each), and the JIT; its first
    // redrive makes the subscription's consumer.
    await queue.dead("small", { limit: 1 });
    await queue.dead("large", { limit: 1 });
    await queue.redrive("large", ["1"]);
    await costs("small", 2_000);
    const small = await costs("small", 2_000);
    const large = await costs("large", 20_000);
    // Then three more runs of each, the best of six compared: a find takes well under a
    // millisecond here, a round trip to the server, and on a loaded machine one wait for a core
    // in each of three runs made the ratio 3.6 (the scans measured 6-9x).
    const small2 = await costs("small", 2_000);
    const large2 = await costs("large", 20_000);
    for (const name of ["page", "find", "redrive"] as const) {
      const [one, other] = [
        Math.min(large[name], large2[name]),
        Math.min(small[name], small2[name]),
      ];
      expect(one / other, `${name}: ${one} ms against ${other} ms`).toBeLessThan(3);
    }
    // The same requests whatever the size (a page of 100: its 100 messages and one look for
    // newer ones).
    expect(large.requests).toBe(small.requests);
    // Paging on through all of them: a few seconds, not minutes.
    let after: string | undefined;
    let seen = 0;
    for (;;) {
      const page = await queue.dead("large", { limit: 1_000, ...(after ? { after } : {}) });
      if (page.length === 0) break;
      seen += page.length;
      after = page.at(-1)?.id;
    }
    expect(seen).toBe(20_000 - 7);
    await queue.drop("small");
    await queue.drop("large");
  }, 120_000);
});

describe("the dead set seen by two replicas", () => {
  it("shows on one replica's pages the jobs buried, redriven, deleted and dropped through the other", async () => {
    const one = (await openReplica()).queue;
    const two = (await openReplica()).queue;
    await bury("shared", range(1, 10));
    expect(idsOf(await one.dead("shared", { limit: 20 }))).toEqual(
      idsOf(
        range(1, 10)
          .map(String)
          .map((id) => ({ id })),
      ),
    );
    // Through the other replica: 3 redriven, 4 deleted, 11 and 12 buried (12 before 11's job).
    expect(await two.redrive("shared", ["3"])).toBe(1);
    expect(await two.discardDead("shared", ["4"])).toBe(1);
    await bury("shared", [12, 11]);
    const ids = ["1", "2", "5", "6", "7", "8", "9", "10", "11", "12"];
    expect(idsOf(await one.dead("shared", { limit: 20 }))).toEqual(ids);
    expect(idsOf(await one.dead("shared", { limit: 3, after: "2" }))).toEqual(["5", "6", "7"]);
    expect(await one.findDead("shared", "3")).toBeUndefined();
    expect(await one.findDead("shared", "4")).toBeUndefined();
    expect((await one.findDead("shared", "12"))?.id).toBe("12");
    expect(await one.redrive("shared", ["3", "4"])).toBe(0);
    // Job 3 dies again (a newer message, another failure): the new one shows.
    await bury("shared", [3], "HTTP 422");
    expect((await one.findDead("shared", "3"))?.failure.error).toBe("HTTP 422");
    expect(idsOf(await one.dead("shared", { limit: 3 }))).toEqual(["1", "2", "3"]);
    // A redrive of one job named twice, then all of them, through the other replica.
    expect(await one.redrive("shared", ["5", "5"])).toBe(1);
    expect(await two.redrive("shared")).toBe(10);
    expect(await one.dead("shared", { limit: 20 })).toEqual([]);
    expect(await one.findDead("shared", "1")).toBeUndefined();
    // Many buried, then deleted through the other replica all at once: one page reads past them
    // (a fresh scan once many are gone), and the dropped set is empty on both.
    await bury("shared", range(100, 1_000));
    expect(await one.dead("shared", { limit: 1 })).toHaveLength(1);
    expect(await two.discardDead("shared")).toBe(1_000);
    await bury("shared", [5_000]);
    expect(idsOf(await one.dead("shared", { limit: 5 }))).toEqual(["5000"]);
    await bury("shared", range(6_000, 50));
    expect(await two.drop("shared")).toBeGreaterThanOrEqual(51);
    expect(await one.dead("shared", { limit: 5 })).toEqual([]);
    expect(await two.dead("shared", { limit: 5 })).toEqual([]);
    // Nothing was acked or left behind by the reads.
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(names.stream, { subjects_filter: names.dead("shared") });
    expect(info.state.subjects?.[names.dead("shared")] ?? 0).toBe(0);
  }, 60_000);

  it("redrives all of a set another replica emptied without a request for each job it had seen", async () => {
    const one = (await openReplica()).queue;
    const two = (await openReplica()).queue;
    await bury("emptied", range(1, 2_000));
    expect(await one.dead("emptied", { limit: 1 })).toHaveLength(1);
    expect(await two.discardDead("emptied")).toBe(2_000);
    let requests = 0;
    const api = nc.subscribe("$JS.API.>", {
      callback: () => {
        requests++;
      },
    });
    await nc.flush();
    expect(await one.redrive("emptied")).toBe(0);
    expect(await one.discardDead("emptied")).toBe(0);
    await nc.flush();
    api.unsubscribe();
    // A scan each (a consumer made, pulled, deleted), not 2,000 reads of messages gone.
    expect(requests).toBeLessThan(50);
  }, 60_000);
});

describe("the dead set after its stream is made again", () => {
  // An operator's `nats stream rm` and `add`, or a server that lost its storage while the
  // connection stayed: the stream numbers its messages from 1 again, and the index, read on
  // from the last sequence it had seen, described messages that no longer exist (job 1 found
  // as the new stream's message 1, job 8 not found at all) until the next reconnect.
  it("reads the new stream's dead jobs, not the old ones, though the connection stayed up", async () => {
    const again = natsNames("deadagain");
    const store = await openNatsStore({ servers: nats.url, stream: "deadagain", ackWaitMs: 5_000 });
    stores.push(store);
    const { queue } = store;
    await bury("sub", range(1, 500), "HTTP 500", again);
    expect(await queue.dead("sub", { limit: 1_000 })).toHaveLength(500);
    expect((await queue.findDead("sub", "300"))?.id).toBe("300");
    const jsm = await jetstreamManager(nc);
    const { config } = await jsm.streams.info(again.stream);
    await jsm.streams.delete(again.stream);
    await jsm.streams.add(config);
    await bury("sub", [7, 8, 9], "HTTP 422", again);
    expect(await queue.findDead("sub", "1")).toBeUndefined();
    expect(await queue.findDead("sub", "300")).toBeUndefined();
    expect((await queue.findDead("sub", "8"))?.failure.error).toBe("HTTP 422");
    expect(idsOf(await queue.dead("sub", { limit: 10, after: "7" }))).toEqual(["8", "9"]);
    expect(idsOf(await queue.dead("sub", { limit: 1_000 }))).toEqual(["7", "8", "9"]);
    expect(await queue.redrive("sub", ["9"])).toBe(1);
    expect(idsOf(await queue.dead("sub", { limit: 1_000 }))).toEqual(["7", "8"]);
    // Made again once more, with more messages than the old one had read: still seen.
    await jsm.streams.delete(again.stream);
    await jsm.streams.add(config);
    await bury("other", range(1, 600), "HTTP 500", again);
    await bury("sub", [42], "HTTP 410", again);
    expect(idsOf(await queue.dead("sub", { limit: 1_000 }))).toEqual(["42"]);
    expect(await queue.findDead("sub", "8")).toBeUndefined();
  }, 60_000);
});
