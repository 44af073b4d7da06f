import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type NatsServer,
  startNatsCluster,
  startNatsServer,
} from "../../../test/support/nats-server.js";
import { waitUntil } from "../../../test/support/wait-until.js";
import { describeDeliveryQueue } from "../../deliver/delivery-queue.case.js";
import type { DeliveryQueue } from "../../deliver/delivery-queue.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { silentLogger } from "../../ports/logger.js";
import { describeSubscriptionStore } from "../../store/subscription-store.case.js";
import { subscription } from "../../subscriptions/matcher.case.js";
import { encodeEventMessage } from "./nats-job-codec.js";
import { eventMsgId, natsNames } from "./nats-names.js";
import { type NatsStore, openNatsStore } from "./nats-store.js";

let nats: NatsServer & { close(): Promise<void> };
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.close();
});

let streams = 0;
const stores = new Map<DeliveryQueue, NatsStore>();
const open = (options: Partial<Parameters<typeof openNatsStore>[0]> = {}) =>
  openNatsStore({ servers: nats.url, stream: `t${++streams}`, ackWaitMs: 5_000, ...options });

describeDeliveryQueue(
  "nats",
  async (clock, { dedupeWindowMs }) => {
    const store = await open({ clock, dedupeWindowMs });
    stores.set(store.queue, store);
    return store.queue;
  },
  async (queue) => {
    await stores.get(queue)?.close();
    stores.delete(queue);
  },
  { dedupeClock: "server" },
);

describeSubscriptionStore("nats", async () => (await open()).subscriptions);

const event = (id: string): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/nats", type: "com.example.nats" },
  data: { kind: "json", value: { id }, text: `{"id":"${id}"}` },
});
const never = () => new AbortController().signal;

describe("the NATS store beyond the contract", () => {
  it("says a port that takes the connection but never greets is probably not NATS", async () => {
    // An HTTP server, or NATS's monitoring port: it accepts and waits for a request.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((ok) => silent.listen(0, "127.0.0.1", ok));
    const port = (silent.address() as { port: number }).port;
    try {
      await expect(
        openNatsStore({ servers: `nats://127.0.0.1:${port}`, stream: "silent", startupWaitMs: 0 }),
      ).rejects.toThrow(/: timeout: the port took the connection but sent no NATS greeting/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((done) => silent.close(done));
    }
  }, 30_000);

  it("waits at start for a NATS server that is not up yet, within startupWaitMs", async () => {
    const late = await startNatsServer();
    try {
      await late.stop();
      const opening = openNatsStore({ servers: late.url, stream: "late", startupWaitMs: 20_000 });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      await late.start();
      const store = await opening;
      expect(store.connected()).toBe(true);
      await store.close();
      // Past the wait it gives up and says so; a stop ends the wait, and an error trying again
      // cannot cure ends it at once.
      await late.stop();
      await expect(
        openNatsStore({ servers: late.url, stream: "late", startupWaitMs: 1_000 }),
      ).rejects.toThrow(/^cannot reach NATS at .*: connection refused \(tried for \d+ s\)$/);
      const stop = new AbortController();
      setTimeout(() => stop.abort(), 500);
      const stoppedAt = Date.now();
      await expect(
        openNatsStore({
          servers: late.url,
          stream: "late",
          startupWaitMs: 20_000,
          stop: stop.signal,
        }),
      ).rejects.toThrow(/connection refused/);
      expect(Date.now() - stoppedAt).toBeLessThan(2_000);
      const startedAt = Date.now();
      await expect(
        openNatsStore({
          servers: nats.url.replace(/^nats:/, "tls:"),
          stream: "late",
          startupWaitMs: 20_000,
        }),
      ).rejects.toThrow(/does not support 'tls'/);
      expect(Date.now() - startedAt).toBeLessThan(5_000);
    } finally {
      await late.close();
    }
  }, 30_000);

  it("waits the whole startupWaitMs, with a last try at its end, before it gives up", async () => {
    const gone = await startNatsServer();
    try {
      await gone.stop();
      const startedAt = Date.now();
      await expect(
        openNatsStore({ servers: gone.url, stream: "gone", startupWaitMs: 1_500 }),
      ).rejects.toThrow(/connection refused \(tried for \d+ s\)$/);
      // It used to give up as soon as its next pause would pass the wait, up to 5 s early.
      expect(Date.now() - startedAt).toBeGreaterThanOrEqual(1_500);
    } finally {
      await gone.close();
    }
  }, 30_000);

  it("sets its streams up again when NATS comes back without its storage (no restart)", async () => {
    const bare = await startNatsServer();
    const store = await openNatsStore({
      servers: bare.url,
      stream: "bare",
      ackWaitMs: 5_000,
    });
    // Another replica that only watches the bucket: it knows no subscription, so pulls no job.
    const other = await openNatsStore({
      servers: bare.url,
      stream: "bare",
      ackWaitMs: 5_000,
      knows: () => false,
    });
    let heard = 0;
    other.subscriptions.watch(() => heard++);
    try {
      const accept = (id: string) =>
        store.queue.accept([{ event: event(id), subscriptionIds: ["a"] }]);
      await accept("before");
      const [first] = await store.queue.lease(1, 60_000, never());
      await store.queue.complete(first?.id as string);
      // A dead job before: this replica has read the dead set, up to a sequence of that stream.
      for (const id of ["dying", "dying-too"]) {
        await accept(id);
        const [dying] = await store.queue.lease(1, 60_000, never());
        await store.queue.bury(dying?.id as string, { status: 400, error: "HTTP 400", at: 1 });
      }
      expect(await store.queue.dead("a", { limit: 10 })).toHaveLength(2);
      await bare.stop();
      await rm(bare.dir, { recursive: true, force: true });
      await bare.start();
      // Publishes fail until the streams are back: retry as a publisher would, bounded.
      const deadline = Date.now() + 20_000;
      for (;;) {
        try {
          await accept("after");
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      const [job] = await store.queue.lease(1, 60_000, AbortSignal.timeout(20_000));
      expect(job?.event.attributes.id).toBe("after");
      // The new stream numbers its messages from 1 again: a job dead now shows all the same.
      await store.queue.bury(job?.id as string, { status: 400, error: "HTTP 400", at: 2 });
      const dead = await store.queue.dead("a", { limit: 10 });
      expect(dead.map((one) => one.event.attributes.id)).toEqual(["after"]);
      // The other replica's watch of the (new) bucket: a refresh at the reconnect, then changes.
      await waitUntil(() => heard >= 1);
      const before = heard;
      await store.subscriptions.put(subscription("made-after"));
      await waitUntil(() => heard > before);
    } finally {
      await other.close();
      await store.close();
      await bare.close();
    }
  }, 60_000);

  it("gives up a server that stops answering within seconds: 503 at once, then back without a restart", async () => {
    const hung = await startNatsServer();
    const store = await openNatsStore({ servers: hung.url, stream: "hung", ackWaitMs: 5_000 });
    // The client's default (pings every 2 min, 2 unanswered) took minutes to notice.
    const accept = (id: string) =>
      store.queue.accept([{ event: event(id), subscriptionIds: ["a"] }]);
    try {
      await accept("before");
      // SIGSTOP: its sockets stay open and nothing answers, as with a machine that hangs.
      hung.pause();
      await waitUntil(() => !store.connected());
      const refusedAt = Date.now();
      await expect(accept("while-hung")).rejects.toMatchObject({ status: 503 });
      // "At once": without waiting out the 5 s publish timeout a hung server used to cost (a
      // bound with room for a loaded machine, not a measure of speed).
      expect(Date.now() - refusedAt).toBeLessThan(4_000);
      hung.resume();
      await waitUntil(() => store.connected());
      expect(await accept("after")).toMatchObject({ events: 1 });
    } finally {
      hung.resume();
      await store.close();
      await hung.close();
    }
  }, 60_000);

  it("refuses events with a 503 once the jobs stream is at a max_bytes set by hand, dropping no job", async () => {
    const stream = `t${++streams}`;
    const store = await open({ stream });
    const nc = await connect({ servers: nats.url });
    try {
      const accept = (id: string) =>
        store.queue.accept([{ event: event(id), subscriptionIds: ["a"] }]);
      await accept("first");
      // As the README says to bound the disk: `nats stream edit <stream> --max-bytes`.
      const jsm = await jetstreamManager(nc);
      const { config } = await jsm.streams.info(stream);
      await jsm.streams.update(stream, { ...config, max_bytes: 4_096 });
      let refused: unknown;
      for (let i = 0; i < 100 && refused === undefined; i++) {
        await accept(`more-${i}`).catch((err: unknown) => {
          refused = err;
        });
      }
      // With JetStream's default (discard old) every accept succeeded, each dropping the oldest
      // job: accepted events lost without a word.
      expect(refused).toMatchObject({ status: 503 });
      const [oldest] = await store.queue.lease(1, 60_000, AbortSignal.timeout(10_000));
      expect(oldest?.event.attributes.id).toBe("first");
      // Herald's own update at start keeps the bound and the policy.
      const again = await open({ stream });
      await again.close();
      expect((await jsm.streams.info(stream)).config).toMatchObject({
        max_bytes: 4_096,
        discard: "new",
      });
    } finally {
      await nc.close();
      await store.close();
    }
  });

  it("brings every stream and the subscriptions bucket to a changed replicas at start", async () => {
    const cluster = await startNatsCluster(3);
    const nc = await connect({ servers: [...cluster.urls] });
    try {
      const opened = (replicas: number) =>
        openNatsStore({ servers: cluster.urls, stream: "grow", replicas, startupWaitMs: 30_000 });
      await (await opened(1)).close();
      // The config goes from one copy to three (a single server became a cluster).
      await (await opened(3)).close();
      const jsm = await jetstreamManager(nc);
      const names = natsNames("grow");
      const copies = async (stream: string) => (await jsm.streams.info(stream)).config.num_replicas;
      expect(await copies(names.stream)).toBe(3);
      expect(await copies(names.eventsStream)).toBe(3);
      // The bucket is a stream too: it stayed at one copy, the API subscriptions on one server.
      expect(await copies(`KV_${names.bucket}`)).toBe(3);
    } finally {
      await nc.close();
      await cluster.close();
    }
  }, 60_000);

  it("asks for TLS with a tls:// URL (the client itself ignores the scheme) and never falls back", async () => {
    const plain = nats.url.replace(/^nats:/, "tls:");
    await expect(open({ servers: plain })).rejects.toThrow(/does not support 'tls'/);
  });

  it("names store.credentials when the .creds file is missing or is no credentials file, at once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "herald-creds-"));
    try {
      const missing = join(dir, "missing.creds");
      const started = Date.now();
      await expect(open({ credentials: missing, startupWaitMs: 30_000 })).rejects.toThrow(
        `store.credentials: cannot read ${missing}: file not found`,
      );
      const garbage = join(dir, "garbage.creds");
      await writeFile(garbage, "garbage\n");
      await expect(open({ credentials: garbage, startupWaitMs: 30_000 })).rejects.toThrow(
        `store.credentials: ${garbage}: not a NATS credentials file`,
      );
      await expect(open({ credentials: dir })).rejects.toThrow("a directory, not a file");
      // Not taken for NATS being unreachable: no waiting out startupWaitMs.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("forgets an event once JetStream's duplicate window (the dedupe window) has passed", async () => {
    const store = await open({ dedupeWindowMs: 1_000 });
    try {
      const accept = () => store.queue.accept([{ event: event("w"), subscriptionIds: ["a"] }]);
      expect(await accept()).toEqual({ events: 1, duplicates: 0, jobs: 1 });
      expect(await accept()).toEqual({ events: 0, duplicates: 1, jobs: 0 });
      // The window is the server's: wait for it, bounded.
      const deadline = Date.now() + 5_000;
      let again = await accept();
      while (again.duplicates === 1 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        again = await accept();
      }
      expect(again).toEqual({ events: 1, duplicates: 0, jobs: 1 });
    } finally {
      await store.close();
    }
  });

  it("finishes the fan-out of an accept that died after storing the event (a publisher's retry)", async () => {
    const stream = `t${++streams}`;
    const store = await open({ stream });
    const nc = await connect({ servers: nats.url });
    try {
      // What a gateway killed between the event's publish and its jobs' publishes leaves behind.
      const names = natsNames(stream);
      const { headers, data } = encodeEventMessage(event("half"));
      headers.set("herald-subscriptions", JSON.stringify(["a", "b"]));
      await jetstream(nc).publish(names.eventsSubject, data, {
        headers,
        msgID: eventMsgId("/nats", "half"),
      });
      // The retry is a duplicate (nothing is delivered twice) and the jobs appear.
      const retry = await store.queue.accept([{ event: event("half"), subscriptionIds: ["a"] }]);
      expect(retry).toEqual({ events: 0, duplicates: 1, jobs: 0 });
      const jobs = await store.queue.lease(10, 30_000, never());
      // The two jobs are published side by side: their order is not fixed.
      const bySubscription = jobs.map((j) => [j.subscriptionId, j.event] as const).sort();
      expect(bySubscription).toEqual([
        ["a", event("half")],
        ["b", event("half")],
      ]);
      expect(await store.queue.size()).toBe(2);
    } finally {
      await nc.close();
      await store.close();
    }
  });

  it("keeps a delivered event a duplicate after NATS restarts (its jobs' ids are gone with them)", async () => {
    const own = await startNatsServer();
    const store = await openNatsStore({ servers: own.url, stream: "restart", ackWaitMs: 5_000 });
    try {
      const accept = () => store.queue.accept([{ event: event("r1"), subscriptionIds: ["a"] }]);
      expect(await accept()).toEqual({ events: 1, duplicates: 0, jobs: 1 });
      const [job] = await store.queue.lease(10, 30_000, never());
      await store.queue.complete(job!.id);
      expect(await store.queue.size()).toBe(0);
      // The fan-out marker is published without waiting; let it land before the stop.
      const nc = await connect({ servers: own.url });
      const jsm = await jetstreamManager(nc);
      const marker = natsNames("restart").fanned(eventMsgId("/nats", "r1"));
      const until = Date.now() + 5_000;
      while (
        (await jsm.direct.getMessage("restart-events", { last_by_subj: marker })) === null &&
        Date.now() < until
      ) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await nc.close();
      await own.stop();
      await own.start();
      // The client reconnects with backoff: retry as a publisher would after a 503.
      const deadline = Date.now() + 20_000;
      let again: Awaited<ReturnType<typeof accept>> | undefined;
      while (again === undefined && Date.now() < deadline) {
        again = await accept().catch(async () => {
          await new Promise((resolve) => setTimeout(resolve, 200));
          return undefined;
        });
      }
      expect(again).toEqual({ events: 0, duplicates: 1, jobs: 0 });
      expect(await store.queue.lease(10, 30_000, AbortSignal.timeout(1_000))).toEqual([]);
      expect(await store.queue.size()).toBe(0);
    } finally {
      await store.close();
      await own.close();
    }
  }, 60_000);

  it("pulls again the jobs of a subscription a reload removed and a later reload brought back", async () => {
    const stream = `t${++streams}`;
    // What `herald serve` knows: its config's subscriptions, changed by a reload.
    let known = true;
    const store = await open({ stream, knows: () => known });
    try {
      await store.queue.accept([{ event: event("before"), subscriptionIds: ["file"] }]);
      expect(await store.queue.lease(1, 60_000, AbortSignal.timeout(5_000))).toHaveLength(1);
      // Removed from the file: its puller stops (its jobs wait in the stream).
      known = false;
      await store.queue.pullKnown();
      // Back in the file: a new job (and the old ones) are leased here again.
      known = true;
      await store.queue.pullKnown();
      await store.queue.accept([{ event: event("after"), subscriptionIds: ["file"] }]);
      const jobs = await store.queue.lease(10, 60_000, AbortSignal.timeout(5_000));
      expect(jobs.map((job) => job.event.attributes.id)).toContain("after");
    } finally {
      await store.close();
    }
  });

  it("keeps a job JetStream gave up on as dead once, every replica hearing it, without an error", async () => {
    const stream = `t${++streams}`;
    const { errors, logger } = errorRecorder();
    // Only the first pulls the job; the others hear the advisory all the same.
    const replicas = await Promise.all(
      [true, false, false].map((pulls) => open({ stream, logger, knows: () => pulls })),
    );
    const nc = await connect({ servers: nats.url });
    try {
      const [a] = replicas as [NatsStore];
      await a.queue.accept([{ event: event("stuck"), subscriptionIds: ["x"] }]);
      const [job] = await a.queue.lease(1, 60_000, never());
      // Each replica settling the advisory reads the message; one that still finds it keeps the
      // job as dead (a publish to the dead subject), then deletes the message; one that finds it
      // gone is done. Counting those requests says when every replica is done, whatever order
      // they ran in.
      let gets = 0;
      let kept = 0;
      let deletes = 0;
      const count = (subject: string, add: () => void) => nc.subscribe(subject, { callback: add });
      count(`$JS.API.STREAM.MSG.GET.${stream}`, () => gets++);
      count(natsNames(stream).dead("x"), () => kept++);
      count(`$JS.API.STREAM.MSG.DELETE.${stream}`, () => deletes++);
      await nc.flush();
      // What JetStream says when a message reached max_deliver; each replica hears it and keeps
      // the job as dead (one copy, by msg id); all but the first found it gone.
      nc.publish(
        `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${natsNames(stream).consumer("x")}`,
        JSON.stringify({ stream: stream, stream_seq: Number(job?.id), deliveries: 20 }),
      );
      await nc.flush();
      const deadline = Date.now() + 10_000;
      while ((await a.queue.dead("x", { limit: 10 })).length === 0) {
        if (Date.now() > deadline) throw new Error("timed out");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(await a.queue.dead("x", { limit: 10 })).toMatchObject([
        { id: job?.id, failure: { error: expect.stringMatching(/handed out 20 times/) } },
      ]);
      // Every replica has settled it, none with an error.
      while (gets < replicas.length || deletes < kept) {
        if (Date.now() > deadline) {
          throw new Error(`timed out: ${gets} reads, ${kept} kept, ${deletes} deletes`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // The last delete's answer reached its replica (a round trip) before it could log.
      for (const replica of replicas) await replica.queue.size();
      expect(errors).toEqual([]);
    } finally {
      await nc.close();
      for (const replica of replicas) await replica.close();
    }
  });

  it("drops what is left of an API subscription deleted everywhere when a replica opens", async () => {
    // What a replica's accept queued as the subscription was deleted, when that replica died
    // before dropping it again (or the deleting replica's drop failed): a consumer, a queued
    // job and a dead one, for a subscription whose bucket key is a tombstone.
    const stream = `t${++streams}`;
    const names = natsNames(stream);
    const a = await open({ stream });
    await a.queue.accept([{ event: event("buried"), subscriptionIds: ["gone", "rolling"] }]);
    const leased = await a.queue.lease(2, 60_000, never());
    const buried = leased.find((job) => job.subscriptionId === "gone");
    await a.queue.bury(buried?.id ?? "", { status: 500, error: "HTTP 500", at: 0 });
    await a.queue.accept([{ event: event("queued"), subscriptionIds: ["gone"] }]);
    await a.close();
    const nc = await connect({ servers: nats.url });
    try {
      const kv = await new Kvm(jetstream(nc)).open(names.bucket);
      const key = `s.${Buffer.from("gone").toString("base64url")}`;
      await kv.put(key, JSON.stringify({ subscription: { id: "gone", sink: "http://x/" } }));
      await kv.delete(key);
      // A replica that knows neither: "rolling" has no tombstone (a config subscription another
      // replica may have), so it stays.
      const b = await open({ stream, knows: () => false });
      try {
        const jsm = await jetstreamManager(nc);
        const consumers = async () => {
          const found: string[] = [];
          for await (const info of jsm.consumers.list(stream)) found.push(info.name);
          return found.sort();
        };
        // Dropped as it opened (`open` resolves after it).
        expect(await consumers()).toEqual([names.consumer("rolling")]);
        expect(await b.queue.dead("gone", { limit: 10 })).toEqual([]);
        // The "rolling" job (leased by the closed replica, handed back) is all that is queued.
        expect(await b.queue.size()).toBe(1);
      } finally {
        await b.close();
      }
    } finally {
      await nc.close();
    }
  });

  it("keeps a job JetStream gave up on as dead once a full stream has room again", async () => {
    const stream = `t${++streams}`;
    const { errors, logger } = errorRecorder();
    const store = await open({ stream, logger });
    const nc = await connect({ servers: nats.url });
    try {
      await store.queue.accept([{ event: event("stuck-full"), subscriptionIds: ["x"] }]);
      const [job] = await store.queue.lease(1, 60_000, never());
      // Full at a max_bytes set by hand: the dead copy is refused.
      const jsm = await jetstreamManager(nc);
      const { config, state } = await jsm.streams.info(stream);
      await jsm.streams.update(stream, { ...config, max_bytes: state.bytes });
      nc.publish(
        `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${stream}.${natsNames(stream).consumer("x")}`,
        JSON.stringify({ stream, stream_seq: Number(job?.id), deliveries: 20 }),
      );
      await waitUntil(() => errors.length > 0, { what: "the refused dead copy to be logged" });
      expect(errors[0]).toMatchObject({ seq: Number(job?.id) });
      expect(await store.queue.dead("x", { limit: 10 })).toEqual([]);
      // Room again (the dead redriven or dropped, the bound raised): it is kept as dead, not
      // left in the stream for ever, handed out by no one and in no dead list.
      await jsm.streams.update(stream, { ...config, max_bytes: -1 });
      await waitUntil(async () => (await store.queue.dead("x", { limit: 10 })).length === 1, {
        what: "the job to be kept as dead",
      });
      expect(await store.queue.dead("x", { limit: 10 })).toMatchObject([
        { id: job?.id, failure: { error: expect.stringMatching(/handed out 20 times/) } },
      ]);
      expect(await store.queue.size()).toBe(0);
    } finally {
      await nc.close();
      await store.close();
    }
  });

  it("says which stream stands in the way when one exists with other settings or subjects", async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const limits = `t${++streams}`;
      await jsm.streams.add({ name: limits, subjects: [`${limits}.other`] });
      await expect(open({ stream: limits })).rejects.toThrow(
        `the stream "${limits}" exists with settings Herald cannot change`,
      );
      await expect(open({ stream: limits })).rejects.toThrow(
        /it has limits retention and file storage, Herald needs workqueue and file\): set another store\.stream/,
      );
      const taken = `t${++streams}`;
      await jsm.streams.add({ name: `grab-${taken}`, subjects: [`${taken}.jobs.*`] });
      await expect(open({ stream: taken })).rejects.toThrow(
        `the stream "grab-${taken}" already takes subjects the stream "${taken}" needs`,
      );
    } finally {
      await nc.close();
    }
  });

  it("lists the disabled states while another replica clears one, without hanging", async () => {
    // `kv.keys()` could wait for ever when a key changed as it listed; the registry's changes
    // run one after another, so the replica followed no change again and its API writes hung.
    const stream = `t${++streams}`;
    const [a, b] = [await open({ stream }), await open({ stream })];
    try {
      for (let i = 0; i < 100; i++) {
        await a.subscriptions.setDisabled("x", { at: i, reason: "gone" });
        const listing = b.subscriptions.disabled();
        await a.subscriptions.setDisabled("x", undefined);
        const listed = await Promise.race([
          listing,
          new Promise((resolve) => setTimeout(() => resolve("hung"), 3_000)),
        ]);
        expect(listed).not.toBe("hung");
      }
    } finally {
      await a.close();
      await b.close();
    }
  }, 60_000);

  it("shares one stream between replicas: each job goes to one, a closed one hands its jobs back", async () => {
    const stream = `t${++streams}`;
    const a = await open({ stream });
    let b: NatsStore | undefined;
    try {
      await a.queue.accept(
        Array.from({ length: 10 }, (_, i) => ({ event: event(`s${i}`), subscriptionIds: ["x"] })),
      );
      const fromA = await a.queue.lease(10, 30_000, never());
      expect(fromA).toHaveLength(10);
      // B joins while A holds every job: B's puller finds none to take.
      b = await open({ stream });
      expect(await b.queue.lease(10, 30_000, AbortSignal.timeout(300))).toEqual([]);
      // A stops without settling: its jobs go back to JetStream at once (well before the
      // 5 s ack wait), and B gets them all.
      const closedAt = performance.now();
      await a.close();
      const fromB: string[] = [];
      while (fromB.length < 10) {
        const jobs = await b.queue.lease(10, 30_000, AbortSignal.timeout(4_000));
        expect(jobs.length).toBeGreaterThan(0);
        for (const job of jobs) {
          fromB.push(String(job.event.attributes.id));
          await b.queue.complete(job.id);
        }
      }
      expect(performance.now() - closedAt).toBeLessThan(4_000);
      expect(fromB.sort()).toEqual(fromA.map((j) => String(j.event.attributes.id)).sort());
      expect(await b.queue.size()).toBe(0);
    } finally {
      await a.close();
      await b?.close();
    }
  });

  it("hands back at once the jobs JetStream was sending a replica as it closed", async () => {
    // Replicas closing under load: their pull requests are open and JetStream keeps sending
    // them jobs until it learns they stopped listening. Each of those jobs must reach the
    // replica that stays well before `ackWait` (20 s here), not wait it out.
    const stream = `t${++streams}`;
    const b = await open({ stream, ackWaitMs: 20_000 });
    const sent: string[] = [];
    const done = new Set<string>();
    let publishing = true;
    const publisher = (async () => {
      for (let n = 0; publishing; n++) {
        const ids = Array.from({ length: 20 }, (_, i) => `c${n}-${i}`);
        await b.queue.accept(ids.map((id) => ({ event: event(id), subscriptionIds: ["x"] })));
        sent.push(...ids);
      }
    })();
    const consume = async (store: NatsStore, signal: AbortSignal) => {
      while (!signal.aborted) {
        const jobs = await store.queue.lease(16, 60_000, signal);
        // A closed queue answers at once with nothing.
        if (jobs.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        for (const job of jobs) {
          done.add(String(job.event.attributes.id));
          await store.queue.complete(job.id);
        }
      }
    };
    const stopB = new AbortController();
    const consumers = [consume(b, stopB.signal)];
    try {
      for (let round = 0; round < 6; round++) {
        const a = await open({ stream, ackWaitMs: 20_000 });
        const stopA = new AbortController();
        // Settles A makes after its close fail (the connection is gone): those jobs come back
        // through B, which is what this test counts. Caught here, not left unhandled until the end.
        consumers.push(consume(a, stopA.signal).catch(() => {}));
        const from = done.size;
        await waitUntil(() => done.size >= from + 200, { timeoutMs: 10_000, everyMs: 5 });
        // A closes while it still takes and settles jobs, as a gateway's last deliveries end.
        await a.close();
        stopA.abort();
      }
      publishing = false;
      await publisher;
      const stoppedAt = performance.now();
      await waitUntil(() => sent.every((id) => done.has(id)), {
        timeoutMs: 15_000,
        everyMs: 20,
      }).catch(() => {});
      expect(sent.filter((id) => !done.has(id))).toEqual([]);
      // Well under `ackWait` (20 s, what a job left with a closed replica would wait), with room
      // for a loaded machine (8 s was once missed by 0.3 s with two gateways running beside it).
      expect(performance.now() - stoppedAt).toBeLessThan(12_000);
    } finally {
      publishing = false;
      stopB.abort();
      await Promise.allSettled([publisher, ...consumers]);
      await b.close();
    }
  }, 60_000);

  it("skips an entry of the subscriptions bucket this Herald cannot use, and logs it", async () => {
    const stream = `t${++streams}`;
    const { errors, logger } = errorRecorder();
    const store = await open({ stream, logger });
    const nc = await connect({ servers: nats.url });
    try {
      await store.subscriptions.put(subscription("kept"));
      await store.subscriptions.setDisabled("kept", { at: 1, reason: "410" });
      // Written by hand (`nats kv put`): once, this failed every read, and `herald serve` with it.
      const kv = await new Kvm(jetstream(nc)).open(natsNames(stream).bucket);
      await kv.put("s.bm90LWpzb24", "not json");
      await kv.put("s.bm8tc2luaw", JSON.stringify({ subscription: { id: "no-sink" } }));
      await kv.put("d.YnJva2Vu", JSON.stringify({ id: "broken" }));
      // A filter dialect this Herald does not know (a newer one wrote it, or a hand).
      const newer = { ...subscription("newer"), filters: [{ someday: { type: "x" } }] };
      await kv.put("s.bmV3ZXI", JSON.stringify({ subscription: newer }));
      expect((await store.subscriptions.list()).map((s) => s.id)).toEqual(["kept"]);
      expect([...(await store.subscriptions.disabled()).keys()]).toEqual(["kept"]);
      expect(errors).toContainEqual(expect.objectContaining({ key: "s.bm90LWpzb24" }));
      expect(errors).toContainEqual(expect.objectContaining({ key: "d.YnJva2Vu" }));
      expect(errors).toContainEqual(
        expect.objectContaining({
          subscriptionId: "newer",
          error: expect.stringMatching(/dialect/),
        }),
      );
    } finally {
      await nc.close();
      await store.close();
    }
  });

  it("does not bring back a subscription another replica deleted when this one updates it", async () => {
    // Replica A has not heard of B's delete yet and takes a PUT as an update: it answered 200
    // and created the key again, so the deleted subscription lived on (its deliveries dropped).
    const stream = `t${++streams}`;
    const [a, b] = [await open({ stream }), await open({ stream })];
    try {
      const sub = { ...subscription("gone-elsewhere"), sink: "http://127.0.0.1:9/a" };
      await a.subscriptions.put(sub);
      expect(await b.subscriptions.delete(sub.id)).toBe(true);
      await expect(
        a.subscriptions.put({ ...sub, sink: "http://127.0.0.1:9/b" }),
      ).rejects.toMatchObject({ status: 404, code: "not_found" });
      expect(await a.subscriptions.list()).toEqual([]);
      expect(await b.subscriptions.list()).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("says that one of two replicas deleting a subscription at once deleted it, not both", async () => {
    const stream = `t${++streams}`;
    const [a, b] = [await open({ stream }), await open({ stream })];
    try {
      for (let i = 0; i < 20; i++) {
        const sub = { ...subscription(`both-${i}`), sink: "http://127.0.0.1:9/x" };
        await a.subscriptions.put(sub);
        const said = await Promise.all([a, b].map((s) => s.subscriptions.delete(sub.id)));
        expect(said.filter(Boolean)).toHaveLength(1);
      }
      expect(await a.subscriptions.list()).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("tells every replica when the subscriptions bucket changes (a watch, not polling)", async () => {
    const stream = `t${++streams}`;
    const a = await open({ stream });
    const b = await open({ stream });
    try {
      let changes = 0;
      let notify: () => void = () => {};
      const stop = b.subscriptions.watch(() => {
        changes++;
        notify();
      });
      const changed = new Promise<void>((resolve) => {
        notify = resolve;
      });
      // The watch starts asynchronously: keep writing until B hears (bounded by the test).
      const sub = { ...subscription("w"), sink: "http://127.0.0.1:9/w" };
      await a.subscriptions.put(sub);
      await Promise.race([changed, new Promise((r) => setTimeout(r, 2_000))]);
      if (changes === 0) await a.subscriptions.put(sub);
      await changed;
      expect(changes).toBeGreaterThan(0);
      expect((await b.subscriptions.list()).map((s) => s.id)).toEqual(["w"]);
      stop();
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/** A logger that keeps the fields of each error line, in `errors`, and drops the rest. */
function errorRecorder() {
  const errors: unknown[] = [];
  const logger = { ...silentLogger, error: (_: string, fields?: unknown) => errors.push(fields) };
  return { errors, logger };
}
