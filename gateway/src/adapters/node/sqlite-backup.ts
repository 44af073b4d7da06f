import { randomUUID } from "node:crypto";
import { type FileHandle, open, readdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type Database from "better-sqlite3";
import { Unavailable } from "../../errors/errors.js";
import { type Logger, silentLogger } from "../../ports/logger.js";
import { BackupInProgress, BackupNoRoom } from "../../store/backup-errors.js";
import type { StoreBackup, StoreCopy } from "../../store/store-backup.js";
import { freeBytes as statfsFreeBytes } from "./free-bytes.js";

export interface SqliteBackupOptions {
  /** The store's file: the temporary copy is made beside it, on the same disk. */
  readonly path: string;
  readonly logger?: Logger;
  /** The bytes free on the disk of a folder (default `statfs`); tests pass a small one. */
  readonly freeBytes?: (dir: string) => number;
  /**
   * How long a download may take no bytes before it is cut and its copy freed (default 60 s): a
   * client that stops reading would otherwise hold the one backup slot, and the copy's disk
   * space, for as long as its connection stays open.
   */
  readonly stallMs?: number;
}

/** A backup that can be stopped: `close` ends a copy being taken, before the connection closes. */
export interface SqliteBackup extends StoreBackup {
  close(): Promise<void>;
}

/** How long a download may take no bytes before it is cut (`stallMs`'s default). */
export const BACKUP_STALL_MS = 60_000;

/** Pages copied per step: 100 pages (400 KB) per turn of the event loop, as better-sqlite3 does. */
const PAGES_PER_STEP = 100;
/**
 * Room left free on the store's disk after the copy: the gateway keeps writing (its WAL grows to
 * about 4 MB between checkpoints) while the copy is taken and downloaded.
 */
export const BACKUP_RESERVE_BYTES = 8 * 1024 * 1024;
/** Bytes read from the copy per chunk of the answer. */
const CHUNK_BYTES = 256 * 1024;

/**
 * The SQLite store's `StoreBackup`: SQLite's online backup API (better-sqlite3 `db.backup`) copies
 * the file into a temporary one beside it, `PAGES_PER_STEP` pages per turn of the event loop, so
 * publishers and deliveries go on meanwhile. The copy runs on the store's own connection, and
 * SQLite then keeps it up to date with every write of that connection (sqlite.org/backup.html:
 * "automatically updated at the same time"): the copy is the store as it was when the copy
 * finished, one consistent state, holding every event accepted before it. The temporary file is
 * unlinked as soon as it is opened for reading (on POSIX; elsewhere when the download ends), so a
 * download cut short, or a gateway killed mid-download, leaves nothing behind; one left by a
 * gateway killed while copying is removed by the next backup.
 *
 * @example
 * const backup = createSqliteBackup(db, { path: "/var/lib/herald/herald.db", logger });
 * const copy = await backup.take(); // copy.body streams it
 */
export function createSqliteBackup(
  db: Database.Database,
  options: SqliteBackupOptions,
): SqliteBackup {
  const {
    path,
    logger = silentLogger,
    freeBytes = statfsFreeBytes,
    stallMs = BACKUP_STALL_MS,
  } = options;
  const dir = dirname(path);
  const prefix = `${basename(path)}.backup-`;
  let busy = false;
  let closed = false;
  let copying: Promise<unknown> | undefined;

  function check(): void {
    if (closed) throw new Unavailable("the gateway is shutting down; back it up once it runs");
    if (busy) throw new BackupInProgress();
  }

  /** Throws `BackupNoRoom` when the copy would not fit beside the store with room to spare. */
  function checkRoom(): void {
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    const pages = db.pragma("page_count", { simple: true }) as number;
    const needed = pageSize * pages;
    const free = freeBytes(dir);
    if (free < needed + BACKUP_RESERVE_BYTES) {
      throw new BackupNoRoom(
        `the copy needs about ${megabytes(needed)} beside the store (${dir}) and ${megabytes(BACKUP_RESERVE_BYTES)} more kept free for the gateway; ${megabytes(free)} are free. Free some room and try again`,
      );
    }
  }

  function take(): Promise<StoreCopy> {
    check();
    busy = true;
    const attempt = copy();
    // `close` waits for it: the copy reads through the connection it is about to close.
    copying = attempt.catch(() => undefined);
    return attempt;
  }

  async function copy(): Promise<StoreCopy> {
    const temp = join(dir, `${prefix}${randomUUID()}.tmp`);
    const stopped = () =>
      new Unavailable(
        "the gateway is shutting down; the backup was stopped, try again once it runs",
      );
    try {
      await removeLeftovers(dir, prefix);
      if (closed) throw stopped();
      checkRoom();
      await db.backup(temp, {
        progress: () => {
          // Thrown here, better-sqlite3 ends the backup and rejects with it.
          if (closed) throw stopped();
          return PAGES_PER_STEP;
        },
      });
      const file = await open(temp, "r");
      const { size } = await file.stat();
      // Unlinked now: the open handle keeps its bytes until the download ends, however it ends.
      const unlinked = await rm(temp).then(
        () => true,
        () => false,
      );
      return {
        size,
        body: fileStream(file, size, stallMs, () => {
          busy = false;
          // Where an open file cannot be unlinked: once closed (a moment after this).
          if (!unlinked) setTimeout(() => void removeCopy(temp), 1_000);
        }),
      };
    } catch (err) {
      busy = false;
      await removeCopy(temp);
      if (isNoRoom(err)) {
        logger.warn("the store backup ran out of disk room; the copy was removed", { dir });
        throw new BackupNoRoom(
          `the disk of the store (${dir}) ran out of room for the copy; it was removed and the store is untouched. Free some room and try again`,
        );
      }
      throw err;
    }
  }

  return {
    mediaType: "application/vnd.sqlite3",
    extension: ".db",
    check,
    take,
    async close() {
      closed = true;
      await copying;
    },
  };
}

/**
 * The copy's `size` bytes as a Web stream over its open file: closed once the last chunk is read
 * (before it is even sent: the next backup may start as soon as this client has it all), when
 * cancelled (the client went away: `@hono/node-server` cancels the body), when a read of the file
 * fails (the stream errors with it: the Node listener logs it and cuts the answer), or after
 * `stallMs` without a read; `release` runs once, however it ends, before the file is closed.
 */
function fileStream(
  file: FileHandle,
  size: number,
  stallMs: number,
  release: () => void,
): ReadableStream<Uint8Array> {
  let finished = false;
  let position = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const finish = async () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    release();
    await file.close().catch(() => undefined);
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        timer = setTimeout(() => {
          controller.error(new Error("the backup download stalled"));
          void finish();
        }, stallMs);
        // A download left behind never keeps a stopping gateway's process alive.
        timer.unref();
      },
      async pull(controller) {
        timer?.refresh();
        try {
          const buffer = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(1, size - position)));
          const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
          position += bytesRead;
          if (bytesRead > 0) controller.enqueue(buffer.subarray(0, bytesRead));
          if (bytesRead === 0 || position >= size) {
            controller.close();
            await finish();
          }
        } catch (err) {
          // A read that fails errors the stream, and an errored stream's `cancel` (the client
          // going away, the socket closed on the error) never reaches this source: without this
          // the slot stayed taken, and the file open, until the stall timer, a minute later.
          await finish();
          throw err;
        }
      },
      cancel: finish,
      // Nothing is read ahead: a client that reads nothing is a stalled one.
    },
    { highWaterMark: 0 },
  );
}

/** Copies a killed gateway left beside the store (`<file>.backup-<uuid>.tmp` and its journal). */
async function removeLeftovers(dir: string, prefix: string): Promise<void> {
  const names = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((name) => name.startsWith(prefix) && /\.tmp(?:-journal)?$/.test(name))
      .map((name) => rm(join(dir, name), { force: true }).catch(() => undefined)),
  );
}

async function removeCopy(temp: string): Promise<void> {
  await rm(temp, { force: true }).catch(() => undefined);
  await rm(`${temp}-journal`, { force: true }).catch(() => undefined);
}

function isNoRoom(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === "SQLITE_FULL" || code === "ENOSPC";
}

const megabytes = (bytes: number) => `${Math.ceil(bytes / 1_048_576)} MB`;
