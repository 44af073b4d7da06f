import { execFileSync } from "node:child_process";
import {
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from "node:fs";
import { type IncomingMessage, request, type ServerResponse } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  type GatewayOverHttp,
  startGatewayOverHttp,
} from "../../../test/support/gateway-over-http.js";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  signToken,
} from "../../../test/support/test-issuer.js";
import { waitUntil } from "../../../test/support/wait-until.js";
import { Unavailable } from "../../errors/errors.js";
import type { CloudEvent } from "../../event/cloud-event.js";
import { BackupInProgress, BackupNoRoom } from "../../store/backup-errors.js";
import { decodeEvent } from "../../store/event-codec.js";
import { createJsonLogger } from "./json-logger.js";
import { createSqliteBackup } from "./sqlite-backup.js";
import { createSqliteStore, openSqliteStore, type SqliteStore } from "./sqlite-store.js";

// GET /store/backup over a real SQLite file, behind the Node listener on 127.0.0.1, with auth.

const pad = "x".repeat(2_000);
const event = (id: string): CloudEvent => ({
  attributes: { specversion: "1.0", id, source: "/backup", type: "com.example.backup" },
  data: { kind: "json", value: { pad }, text: JSON.stringify({ pad }) },
});

/** Accepts `count` events of 2 KB for subscription `a` (about 2 KB of file each). */
async function fill(store: SqliteStore, count: number, prefix = "e"): Promise<void> {
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, (_, j) => ({
      event: event(`${prefix}-${i + j}`),
      subscriptionIds: ["a"],
    }));
    await store.queue.accept(batch);
  }
}

/** The ids of the events of every job in a store file (its schema read directly, read-only). */
function queuedIds(path: string): Set<string> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT e.body FROM jobs j JOIN events e ON e.id = j.event_id")
      .pluck()
      .all() as string[];
    return new Set(rows.map((body) => String(decodeEvent(body).attributes.id)));
  } finally {
    db.close();
  }
}

const leftovers = (dir: string) => readdirSync(dir).filter((name) => name.includes(".backup-"));

let dir: string;
let store: SqliteStore;
let http: GatewayOverHttp;
let admin: string;
let publisher: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "herald-backup-"));
  store = openSqliteStore({ path: join(dir, "herald.db") });
  // About 2 MB: the copy takes a few turns of the event loop, and the answer more than one chunk.
  await fill(store, 1_000);
  const key = await makeKey("ES256", "k1");
  const now = Math.floor(Date.now() / 1000);
  admin = await signToken(key, claimsAt(now, { sub: "ops" }));
  publisher = await signToken(key, claimsAt(now, { sub: "orders-service" }));
  const config = {
    store: { kind: "sqlite", path: join(dir, "herald.db") },
    auth: {
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key), algorithms: ["ES256"] }],
      publishers: [{ claims: { sub: "orders-service" } }],
      admins: [{ claims: { sub: "ops" } }],
    },
    // A sink that is down, retried in an hour: every job stays queued in the file.
    subscriptions: [
      {
        id: "a",
        sink: "http://127.0.0.1:9/down",
        delivery: { retry: 5, backoffDelay: "1h", backoffMax: "1h" },
      },
    ],
  };
  http = await startGatewayOverHttp(config, "backup.json", {
    queue: store.queue,
    backup: store.backup,
  });
});
afterAll(async () => {
  await http.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const backupUrl = () => `${http.base}/store/backup`;
const asAdmin = (more: Record<string, string> = {}) => ({
  headers: { authorization: `Bearer ${admin}`, ...more },
});

describe("GET /store/backup", () => {
  it("answers a SQLite file that opens, passes integrity_check and holds every queued event", async () => {
    const res = await fetch(backupUrl(), asAdmin());
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/vnd.sqlite3");
    expect(res.headers.get("content-disposition")).toMatch(
      /^attachment; filename="herald-backup-\d{8}T\d{6}Z\.db"$/,
    );
    expect(res.headers.get("cache-control")).toBe("no-store");
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(Number(res.headers.get("content-length"))).toBe(bytes.length);
    const copy = join(dir, "copy.db");
    writeFileSync(copy, bytes);
    const db = new Database(copy, { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
    const ids = queuedIds(copy);
    expect(ids.size).toBe(1_000);
    expect(ids.has("e-0") && ids.has("e-999")).toBe(true);
    // The temporary copy beside the store is gone once downloaded.
    expect(leftovers(dir)).toEqual([]);
    rmSync(copy);
  });

  it("is refused without a token (401), with a publisher's (403), and with a bad one (401)", async () => {
    const none = await fetch(backupUrl());
    expect(none.status).toBe(401);
    expect(none.headers.get("content-type")).toBe("application/problem+json");
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const notAdmin = await fetch(backupUrl(), {
      headers: { authorization: `Bearer ${publisher}` },
    });
    expect(notAdmin.status).toBe(403);
    expect(((await notAdmin.json()) as { code: string }).code).toBe("forbidden");
    const forged = await fetch(backupUrl(), {
      headers: { authorization: `Bearer ${admin.slice(0, -4)}AAAA` },
    });
    expect(forged.status).toBe(401);
    // HEAD says the same, without a body.
    expect((await fetch(backupUrl(), { method: "HEAD" })).status).toBe(401);
  });

  it("ignores Range and always answers the whole copy, saying Accept-Ranges: none", async () => {
    const res = await fetch(backupUrl(), asAdmin({ range: "bytes=0-99" }));
    expect(res.status).toBe(200);
    expect(res.headers.get("accept-ranges")).toBe("none");
    expect(res.headers.has("content-range")).toBe(false);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(1_000_000);
    expect(bytes.length).toBe(Number(res.headers.get("content-length")));
  });

  it("answers HEAD with the headers of a copy and takes none; OPTIONS with Allow; other methods 405", async () => {
    const head = await fetch(backupUrl(), { method: "HEAD", ...asAdmin() });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe("application/vnd.sqlite3");
    expect(head.headers.get("content-disposition")).toMatch(/^attachment; filename=/);
    // No copy was taken: there is no length to announce.
    expect(head.headers.has("content-length")).toBe(false);
    expect(await head.text()).toBe("");
    const options = await fetch(backupUrl(), { method: "OPTIONS", ...asAdmin() });
    expect(options.status).toBe(200);
    expect(options.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const res = await fetch(backupUrl(), { method, ...asAdmin() });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
      expect(((await res.json()) as { code: string }).code).toBe("method_not_allowed");
    }
    // Without a token, another method is refused by auth first, as on every admin path.
    expect((await fetch(backupUrl(), { method: "DELETE" })).status).toBe(401);
  });

  // The router resolves dot segments and %XX escapes, and takes an absolute-form target: each
  // names /store/backup, and its HEAD took (and threw away) a copy of the whole store.
  it.each(["/store/./backup", "/x/../store/backup", "/store/%62ackup", "/store/backup?x=1"])(
    "answers HEAD %s without taking a copy",
    async (target) => {
      for (const path of [target, `${http.base}${target}`]) {
        const head = await new Promise<IncomingMessage>((resolve, reject) => {
          const req = request(backupUrl(), { method: "HEAD", path, ...asAdmin() }, (res) => {
            res.resume();
            resolve(res);
          });
          req.on("error", reject);
          req.end();
        });
        expect(head.statusCode, path).toBe(200);
        expect(head.headers["content-disposition"], path).toMatch(/^attachment; filename=/);
        expect(head.headers["content-length"], path).toBeUndefined();
      }
    },
  );

  it("takes one backup at a time: a second while one downloads is 409, and HEAD says so too", async () => {
    const first = await fetch(backupUrl(), asAdmin());
    expect(first.status).toBe(200);
    const second = await fetch(backupUrl(), asAdmin());
    expect(second.status).toBe(409);
    expect(second.headers.get("retry-after")).toBe("5");
    expect(((await second.json()) as { code: string }).code).toBe("backup_in_progress");
    expect((await fetch(backupUrl(), { method: "HEAD", ...asAdmin() })).status).toBe(409);
    await first.arrayBuffer();
    const third = await fetch(backupUrl(), asAdmin());
    expect(third.status).toBe(200);
    await third.arrayBuffer();
  });

  it("frees the copy and the slot when the client goes away mid-download", async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(backupUrl(), asAdmin(), (res) => {
        expect(res.statusCode).toBe(200);
        // One chunk of a 2 MB answer, then the connection is cut.
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", (err) => {
        if (!req.destroyed) reject(err);
      });
      req.end();
    });
    // The server notices the closed socket on its own time: the next backup gets through then.
    await waitUntil(
      async () => {
        const res = await fetch(backupUrl(), asAdmin());
        await res.arrayBuffer();
        return res.status === 200;
      },
      { what: "the backup slot to be freed" },
    );
    expect(leftovers(dir)).toEqual([]);
  });

  it("keeps serving while the copy is taken: events accepted meanwhile get 202", async () => {
    const publish = (id: string) =>
      fetch(`${http.base}/events`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${publisher}`,
          "ce-specversion": "1.0",
          "ce-id": id,
          "ce-source": "/backup",
          "ce-type": "com.example.backup",
        },
      });
    const [backup, ...published] = await Promise.all([
      fetch(backupUrl(), asAdmin()),
      ...Array.from({ length: 20 }, (_, i) => publish(`during-${i}`)),
    ]);
    expect(published.map((res) => res.status)).toEqual(Array(20).fill(202));
    expect(backup?.status).toBe(200);
    await backup?.arrayBuffer();
  });
});

describe("createSqliteBackup", () => {
  it("refuses with backup_no_room when the disk cannot hold the copy and room for the gateway", async () => {
    const own = mkdtempSync(join(tmpdir(), "herald-backup-room-"));
    const db = new Database(join(own, "herald.db"));
    const small = createSqliteStore(db, { path: join(own, "herald.db") });
    const backup = createSqliteBackup(db, { path: join(own, "herald.db"), freeBytes: () => 1 });
    try {
      const refused = await backup.take().catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(BackupNoRoom);
      expect((refused as BackupNoRoom).status).toBe(503);
      expect((refused as BackupNoRoom).message).toMatch(/needs about \d+ MB beside the store/);
      // Nothing was left, and the slot is free for the next try.
      expect(leftovers(own)).toEqual([]);
      expect(() => backup.check()).not.toThrow();
    } finally {
      await small.close();
      rmSync(own, { recursive: true, force: true });
    }
  });

  it("cuts a download nobody reads after stallMs and frees the slot", async () => {
    const own = mkdtempSync(join(tmpdir(), "herald-backup-stall-"));
    const db = new Database(join(own, "herald.db"));
    const small = createSqliteStore(db, { path: join(own, "herald.db") });
    const backup = createSqliteBackup(db, { path: join(own, "herald.db"), stallMs: 50 });
    try {
      const copy = await backup.take();
      expect(() => backup.check()).toThrow(BackupInProgress);
      await waitUntil(
        () => {
          try {
            backup.check();
            return true;
          } catch {
            return false;
          }
        },
        { everyMs: 10, what: "the stalled download to be cut" },
      );
      await expect(copy.body.getReader().read()).rejects.toThrow(/stalled/);
      expect(leftovers(own)).toEqual([]);
    } finally {
      await small.close();
      rmSync(own, { recursive: true, force: true });
    }
  });

  it("stops a copy being taken when the store closes: 503 unavailable, nothing left", async () => {
    const own = mkdtempSync(join(tmpdir(), "herald-backup-close-"));
    const closing = openSqliteStore({ path: join(own, "herald.db") });
    try {
      await fill(closing, 1_000);
      const taking = closing.backup.take().catch((err: unknown) => err);
      await closing.close();
      const refused = await taking;
      expect(refused).toBeInstanceOf(Unavailable);
      expect((refused as Unavailable).message).toMatch(/shutting down/);
      expect(leftovers(own)).toEqual([]);
      expect(() => closing.backup.check()).toThrow(Unavailable);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  it("removes copies a killed gateway left beside the store", async () => {
    const own = mkdtempSync(join(tmpdir(), "herald-backup-left-"));
    const db = new Database(join(own, "herald.db"));
    const small = createSqliteStore(db, { path: join(own, "herald.db") });
    const backup = createSqliteBackup(db, { path: join(own, "herald.db") });
    try {
      writeFileSync(join(own, "herald.db.backup-1234.tmp"), "half a copy");
      writeFileSync(join(own, "herald.db.backup-1234.tmp-journal"), "its journal");
      // Not Herald's: kept.
      writeFileSync(join(own, "notes.backup-1.tmp"), "mine");
      const copy = await backup.take();
      await new Response(copy.body).arrayBuffer();
      expect(leftovers(own)).toEqual(["notes.backup-1.tmp"]);
    } finally {
      await small.close();
      rmSync(own, { recursive: true, force: true });
    }
  });
});

describe("a download nobody reads, behind the Node listener", () => {
  // The copy's own stall timer (60 s here) frees the slot; the listener closes the connection,
  // which was left open, its writer waiting for a drain that never came.
  it("has its connection closed, and the slot and the copy freed", async () => {
    const own = mkdtempSync(join(tmpdir(), "herald-backup-unread-"));
    const path = join(own, "herald.db");
    const small = openSqliteStore({ path });
    const gw = await startGatewayOverHttp(
      { subscriptions: [{ id: "a", sink: "http://127.0.0.1:9/down" }] },
      "unread.json",
      { queue: small.queue, backup: small.backup },
      { backupStallMs: 100 },
    );
    try {
      // About 3 MB: far more than the sockets' buffers hold.
      await fill(small, 1_500);
      const socket = connect(Number(new URL(gw.base).port), "127.0.0.1");
      socket.on("error", () => undefined);
      socket.write("GET /store/backup HTTP/1.1\r\nHost: gw\r\n\r\n");
      // The answer begins, then the client reads no more.
      const begun = new Promise<void>((resolve) =>
        socket.once("data", () => {
          socket.pause();
          resolve();
        }),
      );
      await begun;
      // Freed long before the copy's own 60 s: the listener closed the connection, and the
      // closed connection cancelled the download.
      await waitUntil(
        () => {
          try {
            small.backup.check();
            return true;
          } catch {
            return false;
          }
        },
        { everyMs: 10, timeoutMs: 20_000, what: "the stalled connection to be closed" },
      );
      // What the sockets held arrives, then the end: the server closed its side.
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      socket.resume();
      await closed;
      expect(leftovers(own)).toEqual([]);
    } finally {
      await gw.close();
      await small.close();
      rmSync(own, { recursive: true, force: true });
    }
  }, 30_000);
});

/** This process's open descriptors that name `target` (`/proc/self/fd`, Linux). */
function descriptorsOf(target: (link: string) => boolean): number[] {
  return readdirSync("/proc/self/fd").flatMap((name) => {
    try {
      return target(readlinkSync(`/proc/self/fd/${name}`)) ? [Number(name)] : [];
    } catch {
      return [];
    }
  });
}

describe("a download whose copy can no longer be read, behind the Node listener", () => {
  // A real read error mid-download: the copy's descriptor (its file already unlinked) is closed
  // under the gateway and its number given to the store's folder, which read(2) refuses
  // (EISDIR). The stall cut is the default 60 s: the slot must not wait for it.
  it.skipIf(process.platform !== "linux")(
    "cuts the answer, logs why in one JSON line (nothing raw on the console), and frees the slot and the file at once",
    async () => {
      const own = mkdtempSync(join(tmpdir(), "herald-backup-readerr-"));
      const path = join(own, "herald.db");
      const small = openSqliteStore({ path });
      const lines: string[] = [];
      const logger = createJsonLogger({ level: "info", write: (line) => lines.push(line) });
      const gw = await startGatewayOverHttp(
        { subscriptions: [{ id: "a", sink: "http://127.0.0.1:9/down" }] },
        "readerr.json",
        { queue: small.queue, backup: small.backup, logger },
      );
      const answers: ServerResponse[] = [];
      gw.server.on("request", (_req, res: ServerResponse) => answers.push(res));
      // What `@hono/node-server` prints of an error it meets (`console.error`, `console.info`).
      const printed = (["error", "warn", "info", "log"] as const).map((level) =>
        vi.spyOn(console, level).mockImplementation(() => undefined),
      );
      const isCopy = (link: string) => link.startsWith(`${path}.backup-`);
      try {
        // About 3 MB: far more than the sockets' buffers hold.
        await fill(small, 1_500);
        const res = await new Promise<IncomingMessage>((resolve, reject) => {
          const req = request(`${gw.base}/store/backup`, resolve);
          req.on("error", reject);
          req.end();
        });
        expect(res.statusCode).toBe(200);
        let received = 0;
        const begun = new Promise<void>((resolve) =>
          res.once("data", () => {
            res.pause();
            resolve();
          }),
        );
        res.on("data", (chunk: Buffer) => {
          received += chunk.length;
        });
        const cut = new Promise<boolean>((resolve) => {
          res.on("end", () => resolve(false));
          res.on("error", () => resolve(true));
          res.on("aborted", () => resolve(true));
        });
        await begun;
        // The gateway's writer waits for a drain: no read of the copy is under way.
        await waitUntil(() => answers[0]?.writableNeedDrain === true, {
          everyMs: 10,
          timeoutMs: 10_000,
          what: "the gateway's writer to wait for the client",
        });
        const [fd, ...more] = descriptorsOf(isCopy);
        if (fd === undefined || more.length > 0) throw new Error("no single copy fd");
        closeSync(fd);
        const folder = openSync(own, "r");
        if (folder !== fd) throw new Error(`the folder got fd ${folder}, not ${fd}`);
        res.resume();
        // The answer was cut short of its Content-Length, not ended as if whole.
        expect(await cut).toBe(true);
        expect(received).toBeLessThan(Number(res.headers["content-length"]));
        // Nothing printed by `@hono/node-server` (a stack on stderr, outside the JSON log).
        expect(printed.flatMap((spy) => spy.mock.calls)).toEqual([]);
        // Why, in the log: one JSON line naming the request and the read error, no stack.
        const failures = lines
          .map((line) => JSON.parse(line) as { level: string })
          .filter((l) => l.level === "warn" || l.level === "error");
        expect(failures).toEqual([
          expect.objectContaining({
            msg: "unexpected error while handling a request",
            method: "GET",
            path: "/store/backup",
            error: expect.stringMatching(/^EISDIR/),
          }),
        ]);
        expect(lines.join("")).not.toMatch(/\bat .+:\d+:\d+/);
        // At once, not after the 60 s stall cut: the slot is free and a new copy comes whole.
        const retry = await fetch(`${gw.base}/store/backup`);
        expect(retry.status).toBe(200);
        const bytes = Buffer.from(await retry.arrayBuffer());
        expect(bytes.length).toBe(Number(retry.headers.get("content-length")));
        const copy = join(own, "copy.db");
        writeFileSync(copy, bytes);
        const db = new Database(copy, { readonly: true });
        expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
        db.close();
        expect(queuedIds(copy).size).toBe(1_500);
        rmSync(copy);
        // Both downloads' descriptors are closed (the failed one's now named the folder).
        expect(descriptorsOf((link) => isCopy(link) || link === own)).toEqual([]);
        expect(leftovers(own)).toEqual([]);
      } finally {
        for (const spy of printed) spy.mockRestore();
        await gw.close();
        await small.close();
        rmSync(own, { recursive: true, force: true });
      }
    },
    30_000,
  );
});

// A real full disk: a tmpfs (mounting needs root; elsewhere the test is skipped).
describe("a backup that runs out of disk room while copying", () => {
  const disk = mkdtempSync(join(tmpdir(), "herald-backup-full-"));
  let mounted = false;
  beforeAll(() => {
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", disk], { stdio: "ignore" });
      mounted = true;
    } catch {
      // Not root, or no mount.
    }
  });
  afterAll(() => {
    if (mounted) execFileSync("umount", ["-l", disk]);
    rmSync(disk, { recursive: true, force: true });
  });

  it("is 503 backup_no_room, removes the partial copy and leaves the store working", async (ctx) => {
    if (!mounted) ctx.skip();
    const path = join(disk, "herald.db");
    const db = new Database(path);
    const small = createSqliteStore(db, { path });
    // The room check is told there is room, so SQLite itself meets the full disk mid-copy.
    const backup = createSqliteBackup(db, { path, freeBytes: () => Number.POSITIVE_INFINITY });
    try {
      await fill(small, 1_000);
      db.pragma("wal_checkpoint(TRUNCATE)");
      // Less room left than the file's 2 MB, more than the WAL needs for a few more writes.
      const { bavail, bsize } = statfsSync(disk);
      writeFileSync(join(disk, "filler"), Buffer.alloc(Math.max(0, bavail * bsize - 1_000_000)));
      const refused = await backup.take().catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(BackupNoRoom);
      expect((refused as BackupNoRoom).message).toMatch(/ran out of room for the copy/);
      expect(leftovers(disk)).toEqual([]);
      // The store is untouched: it takes events and still holds every one.
      await small.queue.accept([{ event: event("after"), subscriptionIds: ["a"] }]);
      expect(await small.queue.size()).toBe(1_001);
      expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
      expect(() => backup.check()).not.toThrow();
    } finally {
      await small.close();
    }
  }, 30_000);
});
