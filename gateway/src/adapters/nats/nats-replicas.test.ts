import type { ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type NatsCluster,
  type NatsServer,
  startNatsCluster,
  startNatsServer,
} from "../../../test/support/nats-server.js";
import { type RecordingSink, startRecordingSink } from "../../../test/support/recording-sink.js";
import { type SpawnedHerald, spawnHerald } from "../../../test/support/spawn-herald.js";

// The built CLI, as users run it (turbo builds before testing).
const IN_FLIGHT = 32;

let dir: string;
let sink: RecordingSink;
const children: ChildProcess[] = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-nats-replicas-"));
  sink = await startRecordingSink();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await sink.close();
  await rm(dir, { recursive: true, force: true });
});

type Gateway = SpawnedHerald;

async function writeConfig(name: string, store: string, path: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(
    file,
    [
      `limits: { maxDeliveriesInFlight: ${IN_FLIGHT} }`,
      `store: ${store}`,
      "subscriptions:",
      "  - id: all",
      `    sink: ${sink.url}${path}`,
    ].join("\n"),
  );
  return file;
}

const startGateway = (config: string): Promise<Gateway> => spawnHerald({ config, children });

const batch = (prefix: string, from: number, size: number) =>
  JSON.stringify(
    Array.from({ length: size }, (_, i) => ({
      specversion: "1.0",
      id: `${prefix}-${from + i}`,
      source: "/replicas",
      type: "com.example.replicas",
    })),
  );

const post = (url: string, body: string) =>
  fetch(`${url}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body,
  });

/** Ids delivered to `path` (each once), and every delivery counted. */
function deliveries(path: string) {
  const ids = sink.received.filter((r) => r.path === path).map((r) => String(r.headers["ce-id"]));
  return { unique: new Set(ids), total: ids.length };
}

async function waitForDelivered(path: string, ids: ReadonlySet<string>): Promise<void> {
  for (;;) {
    const { unique } = deliveries(path);
    if ([...ids].every((id) => unique.has(id))) return;
    // Each arrival wakes this loop; the test's timeout bounds it.
    await sink.waitFor(sink.received.length + 1);
  }
}

describe("two herald replicas on a three-node JetStream cluster (stream replicas 3)", () => {
  let cluster: NatsCluster;
  beforeAll(async () => {
    // No wait for JetStream here: the gateways start while the new cluster elects its meta
    // leader and wait for it themselves (store.startupWait), as in the README's recipe.
    cluster = await startNatsCluster(3);
  }, 30_000);
  afterAll(async () => {
    await cluster?.close();
  });

  it("delivers every accepted event when a replica and a NATS node are killed under load", async () => {
    const EVENTS = 4_000;
    const BATCH = 50;
    const store = `{ kind: nats, url: [${cluster.urls.join(", ")}], stream: scale, replicas: 3, ackWait: 2s }`;
    const config = await writeConfig("replicas.yaml", store, "/replicas");
    const a = await startGateway(config);
    const b = await startGateway(config);
    const accepted = new Set<string>();
    let bAlive = true;
    let retries = 0;
    // Steady load: 4 publishers, each batch to A or B in turn; a refused or failed request is
    // sent again (same ids) to the other replica, as a producer with retries would.
    let next = 0;
    const publisher = async (n: number) => {
      for (let from = next; from < EVENTS; from = next) {
        next += BATCH;
        const body = batch("r", from, BATCH);
        for (let attempt = 0; ; attempt++) {
          const target = bAlive && (from / BATCH + n + attempt) % 2 === 0 ? b : a;
          const res = await post(target.url, body).catch(() => undefined);
          if (res?.status === 202) break;
          retries++;
          // While the killed node's streams elect new leaders, ingest answers 503 (never a 202
          // for an event it did not store); on nats-server 2.9 that can take several seconds.
          // Recovery must come without a restart, within 30 s.
          expect(attempt).toBeLessThan(300);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        for (let i = 0; i < BATCH; i++) accepted.add(`r-${from + i}`);
        if (from === EVENTS / 4) {
          bAlive = false;
          await b.kill();
        }
        if (from === EVENTS / 2) await (cluster.nodes[1] as NatsServer).kill();
      }
    };
    await Promise.all([0, 1, 2, 3].map(publisher));
    expect(accepted.size).toBe(EVENTS);
    await waitForDelivered("/replicas", accepted);
    const { unique, total } = deliveries("/replicas");
    expect(unique.size).toBe(EVENTS);
    // Duplicates come only from deliveries in flight when something died: the killed replica's
    // (at most maxDeliveriesInFlight), and deliveries whose ack was on its way while the killed
    // NATS node's streams elected new leaders: JetStream redelivers a message whose ack it never
    // stored once ack_wait passes. How many acks that window holds depends on the delivery rate
    // and the election time (CI measured 3 to 155 of 4,000), so the bound is a tenth of the
    // events: far below "everything again", far above the noise of a busy machine.
    expect(total - EVENTS).toBeLessThanOrEqual(EVENTS / 10);
    console.info(
      `replicas: ${EVENTS} events, ${total - EVENTS} duplicate deliveries, ${retries} publisher retries`,
    );
    await a.kill();
  }, 90_000);
});

describe("herald on one NATS server that goes away", () => {
  let nats: NatsServer & { close(): Promise<void> };
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.close();
  });

  it("answers 503 with Retry-After while NATS is down, and recovers without a restart", async () => {
    const config = await writeConfig(
      "outage.yaml",
      `{ kind: nats, url: ${nats.url}, stream: outage, ackWait: 2s }`,
      "/outage",
    );
    const gateway = await startGateway(config);
    expect((await post(gateway.url, batch("o", 0, 1))).status).toBe(202);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    await nats.kill();
    const refused = await post(gateway.url, batch("o", 1, 1));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
    expect((await refused.json()).code).toBe("unavailable");
    // Not ready either: a load balancer sends publishers elsewhere.
    const unready = await fetch(`${gateway.url}/readyz`);
    expect(unready.status).toBe(503);
    expect(await unready.json()).toEqual({ status: "store unavailable" });
    // The admin calls that read or write the store answer the same 503 at once (not a 500 after
    // the client's request timeout); a call that needs no store still answers.
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${gateway.url}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const storeCalls = [
      admin("POST", "/subscriptions", { sink: `${sink.url}/api` }),
      admin("GET", "/subscriptions/all/dead"),
      admin("POST", "/subscriptions/all/redrive"),
    ];
    const startedAt = Date.now();
    for (const answer of await Promise.all(storeCalls)) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
      expect(answer.headers.get("content-type")).toBe("application/problem+json");
      expect((await answer.json()).code).toBe("unavailable");
    }
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect((await admin("GET", "/subscriptions/all")).status).toBe(200);
    await nats.start();
    // The client reconnects with backoff (at most 5 s between tries): retry as a producer would.
    const deadline = Date.now() + 20_000;
    let status = 0;
    while (status !== 202 && Date.now() < deadline) {
      status = (await post(gateway.url, batch("o", 1, 1))).status;
      if (status !== 202) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(status).toBe(202);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    expect((await admin("POST", "/subscriptions", { sink: `${sink.url}/api` })).status).toBe(201);
    await waitForDelivered("/outage", new Set(["o-0", "o-1"]));
    await gateway.kill();
  }, 60_000);
});

describe("herald replicas on different configs (a rolling config change)", () => {
  let nats: NatsServer & { close(): Promise<void> };
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.close();
  });

  it("a replica on the older config leaves the jobs of a subscription it does not know to the others", async () => {
    const store = `{ kind: nats, url: ${nats.url}, stream: rolling, ackWait: 2s }`;
    const older = await writeConfig("older.yaml", store, "/rolling-all");
    const newer = join(dir, "newer.yaml");
    await writeFile(
      newer,
      [
        (await readFile(older, "utf8")).trimEnd(),
        "  - id: added",
        `    sink: ${sink.url}/rolling-added`,
      ].join("\n"),
    );
    // The older one runs first, as in a rollout: it hears of the new consumer when the newer
    // one creates it, and must not take (and drop) its jobs.
    const old = await startGateway(older);
    const updated = await startGateway(newer);
    expect((await post(updated.url, batch("rolling", 0, 40))).status).toBe(202);
    const ids = new Set(Array.from({ length: 40 }, (_, i) => `rolling-${i}`));
    await waitForDelivered("/rolling-added", ids);
    expect(deliveries("/rolling-added").unique.size).toBe(40);
    await Promise.all([old.kill(), updated.kill()]);
  }, 30_000);
});
