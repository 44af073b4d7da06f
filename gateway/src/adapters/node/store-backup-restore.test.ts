import { type ChildProcess, execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HERALD_BIN, spawnHerald } from "../../../test/support/spawn-herald.js";
import { waitUntil } from "../../../test/support/wait-until.js";
import { decodeEvent } from "../../store/event-codec.js";

// Real `herald serve` processes on real files: a backup taken with `herald backup` while the
// gateway serves is consistent, and a gateway started on it carries on where the first left off.

/** A sink on 127.0.0.1 that answers 503 while `down`, 204 once up; records what it took by path. */
interface SwitchSink {
  readonly url: string;
  down: boolean;
  /** Event ids taken (204) per path. */
  readonly taken: Map<string, Set<string>>;
  close(): Promise<void>;
}

async function startSwitchSink(): Promise<SwitchSink> {
  const taken = new Map<string, Set<string>>();
  const sink = { down: true } as { down: boolean };
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (sink.down) {
        res.writeHead(503).end();
        return;
      }
      const path = req.url ?? "";
      const ids = taken.get(path) ?? new Set<string>();
      ids.add(String(req.headers["ce-id"]));
      taken.set(path, ids);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return Object.assign(sink, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    taken,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  });
}

/** `herald backup ...` as a process of its own, as an operator runs it. */
function runBackup(args: readonly string[], cwd: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [HERALD_BIN, "backup", ...args],
      { cwd, env: { ...process.env, HERALD_LOG_LEVEL: "error" } },
      (err, stdout, stderr) =>
        resolve({ code: err === null ? 0 : Number(err.code ?? 1), stdout, stderr }),
    );
  });
}

const publish = (url: string, ids: readonly string[], data = "") =>
  fetch(`${url}/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(
      ids.map((id) => ({
        specversion: "1.0",
        id,
        source: "/backup",
        type: "com.example.backup",
        ...(data === "" ? {} : { data: { data } }),
      })),
    ),
  });

const children: ChildProcess[] = [];
/** The gateways' logs (failed deliveries to the sink that is down) are expected: not shown. */
const quiet = () => {};
const dirs: string[] = [];
let sink: SwitchSink;
beforeAll(async () => {
  sink = await startSwitchSink();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await sink.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const tempDir = async (prefix: string) => {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

describe("herald backup, then a gateway started on the restored file", () => {
  it("delivers what was queued, keeps the API subscriptions and the dead deliveries", async () => {
    const config = [
      "store: { kind: sqlite, path: .herald/herald.db }",
      "subscriptions:",
      "  - id: orders",
      `    sink: ${sink.url}/orders`,
      "    delivery: { retry: 100, backoffDelay: 100ms, backoffMax: 200ms }",
    ].join("\n");
    const first = await tempDir("herald-backup-first-");
    await writeFile(join(first, "herald.yaml"), config);
    const gw1 = await spawnHerald({ config: "herald.yaml", cwd: first, children, stderr: quiet });
    // Two subscriptions made through the API: one retried like `orders`, one whose deliveries
    // die at the first failure.
    const create = async (path: string, retry: number) => {
      const created = await fetch(`${gw1.url}/subscriptions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          sink: `${sink.url}${path}`,
          delivery: { retry, backoffDelay: "100ms", backoffMax: "200ms" },
        }),
      });
      expect(created.status).toBe(201);
      return ((await created.json()) as { id: string }).id;
    };
    const api = await create("/api", 100);
    const doomed = await create("/doomed", 0);
    const ids = Array.from({ length: 50 }, (_, i) => `restore-${i}`);
    expect((await publish(gw1.url, ids)).status).toBe(202);
    const deadCount = async (url: string) => {
      const res = await fetch(`${url}/subscriptions/${doomed}/dead?limit=1000`);
      return ((await res.json()) as { items: unknown[] }).items.length;
    };
    await waitUntil(async () => (await deadCount(gw1.url)) === 50, {
      what: "the doomed deliveries to die",
    });

    const second = await tempDir("herald-backup-second-");
    await mkdir(join(second, ".herald"));
    const backup = await runBackup(
      ["--url", gw1.url, "--out", join(second, ".herald", "herald.db")],
      second,
    );
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(backup.stdout).toMatch(
      /herald\.db: \d+ bytes, a backup of http:\/\/127\.0\.0\.1:\d+\n$/,
    );
    // The first gateway is gone for good, its file with it: only the backup remains.
    await gw1.kill();
    await rm(first, { recursive: true, force: true });
    expect(sink.taken.size).toBe(0);

    sink.down = false;
    await writeFile(join(second, "herald.yaml"), config);
    const gw2 = await spawnHerald({ config: "herald.yaml", cwd: second, children, stderr: quiet });
    const all = (path: string) => ids.every((id) => sink.taken.get(path)?.has(id) === true);
    await waitUntil(() => all("/orders") && all("/api"), {
      what: "the queued events to be delivered from the restored file",
    });
    const listed = (await (await fetch(`${gw2.url}/subscriptions`)).json()) as { id: string }[];
    expect(listed.map((s) => s.id).sort()).toEqual([api, doomed, "orders"].sort());
    expect(await deadCount(gw2.url)).toBe(50);
    const redrive = await fetch(`${gw2.url}/subscriptions/${doomed}/redrive`, { method: "POST" });
    expect(await redrive.json()).toEqual({ redriven: 50 });
    await waitUntil(() => all("/doomed"), { what: "the redriven dead deliveries" });
    await gw2.kill();
  }, 60_000);
});

describe("a backup taken while publishers keep publishing", () => {
  it("passes integrity_check and holds every event accepted before it started", async () => {
    const dir = await tempDir("herald-backup-load-");
    await writeFile(
      join(dir, "herald.yaml"),
      [
        "store: { kind: sqlite, path: .herald/herald.db }",
        "subscriptions:",
        "  - id: a",
        // Down, and retried in an hour: every job stays queued in the file.
        "    sink: http://127.0.0.1:9/down",
        "    delivery: { retry: 5, backoffDelay: 1h, backoffMax: 1h }",
      ].join("\n"),
    );
    const gw = await spawnHerald({ config: "herald.yaml", cwd: dir, children, stderr: quiet });
    // About 3 MB before the load: the copy takes many steps, with commits between them.
    const pad = "x".repeat(1_000);
    for (let from = 0; from < 3_000; from += 100) {
      const batch = Array.from({ length: 100 }, (_, i) => `pre-${from + i}`);
      expect((await publish(gw.url, batch, pad)).status).toBe(202);
    }
    const acked = new Set<string>();
    let next = 0;
    let loading = true;
    const loop = async () => {
      while (loading) {
        const batch = Array.from({ length: 10 }, () => `load-${next++}`);
        const res = await publish(gw.url, batch, pad);
        expect(res.status).toBe(202);
        for (const id of batch) acked.add(id);
      }
    };
    const load = Array.from({ length: 8 }, loop);
    await waitUntil(() => acked.size >= 200, { everyMs: 10, what: "the load to start" });
    const before = new Set(acked);
    const out = join(dir, "copy.db");
    const backup = await runBackup(["--url", gw.url, "--out", out], dir);
    const during = acked.size - before.size;
    loading = false;
    await Promise.all(load);
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    // The load went on while the copy was taken and downloaded.
    expect(during).toBeGreaterThan(0);

    const db = new Database(out, { readonly: true });
    try {
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      const inCopy = new Set(
        (
          db
            .prepare("SELECT e.body FROM jobs j JOIN events e ON e.id = j.event_id")
            .pluck()
            .all() as string[]
        ).map((body) => String(decodeEvent(body).attributes.id)),
      );
      for (let i = 0; i < 3_000; i++) expect(inCopy.has(`pre-${i}`), `pre-${i}`).toBe(true);
      for (const id of before) expect(inCopy.has(id), id).toBe(true);
    } finally {
      db.close();
    }
    // Nothing of the copy is left beside the store.
    expect((await readdir(join(dir, ".herald"))).filter((n) => n.includes(".backup-"))).toEqual([]);
    await gw.kill();
  }, 60_000);
});
