import type { Hono } from "hono";
import { adminSubject } from "../auth/admin-subject.js";
import { MethodNotAllowed } from "../errors/errors.js";
import { type Clock, systemClock } from "../ports/clock.js";
import { type Logger, silentLogger } from "../ports/logger.js";
import type { StoreBackup } from "../store/store-backup.js";
import { answerAllow } from "./answer-allow.js";

/** Where the store's backup is downloaded (admin only: `ADMIN_PATHS`). */
export const STORE_BACKUP_PATH = "/store/backup";

const BACKUP_ALLOW = ["GET", "HEAD", "OPTIONS"] as const;

export interface StoreBackupRoutesOptions {
  readonly backup: StoreBackup;
  /** Names the file (`herald-backup-20270115T080000Z.db`). */
  readonly clock?: Clock;
  /** Where each backup taken is noted, with its size and the admin token's `sub`. */
  readonly logger?: Logger;
}

/**
 * `GET /store/backup` (admin only): a consistent copy of the whole store, taken while the
 * gateway keeps serving, as an attachment (`Content-Disposition`) of the store's media type with
 * its `Content-Length`. One backup runs at a time (a second is 409 `backup_in_progress`); a store
 * that has none to give is 501 `backup_unsupported` saying what to use instead; no room on the
 * store's disk for the copy is 503 `backup_no_room`.
 * - `HEAD` answers the headers a `GET` would (without `Content-Length`), or its refusal, and
 *   takes no copy: a copy costs the whole store's size in reads and disk.
 * - `Range` is ignored (RFC 9110 14.2 lets a server): the answer is always the whole copy, and
 *   says `Accept-Ranges: none`; a copy taken again would not be the bytes a range continues.
 * `OPTIONS` answers 200 with `Allow`; other methods 405.
 *
 * @example
 * mountStoreBackup(app, { backup: store.backup, clock, logger });
 */
export function mountStoreBackup(app: Hono, options: StoreBackupRoutesOptions): void {
  const { backup, clock = systemClock, logger = silentLogger } = options;
  app.get(STORE_BACKUP_PATH, async (c) => {
    const headers = {
      "content-type": backup.mediaType,
      "content-disposition": `attachment; filename="${backupFileName(clock.now(), backup.extension)}"`,
      // A copy of every event and subscription: never kept by a cache on the way.
      "cache-control": "no-store",
      "accept-ranges": "none",
      "x-content-type-options": "nosniff",
    };
    if (c.req.method === "HEAD") {
      backup.check();
      return c.body(null, 200, headers);
    }
    const startedAt = clock.now();
    const copy = await backup.take();
    logger.info("store backup taken", {
      bytes: copy.size,
      ms: clock.now() - startedAt,
      ...adminSubject(c),
    });
    return c.body(copy.body, 200, { ...headers, "content-length": String(copy.size) });
  });
  app.options(STORE_BACKUP_PATH, (c) => answerAllow(c, BACKUP_ALLOW));
  app.all(STORE_BACKUP_PATH, (c) => {
    throw new MethodNotAllowed(c.req.method, BACKUP_ALLOW);
  });
}

/**
 * `herald-backup-<UTC time>.<ext>`, e.g. `herald-backup-20270115T080000Z.db`: sorts by time, and
 * holds no character a file system or a `Content-Disposition` would need to escape.
 *
 * @example
 * backupFileName(Date.UTC(2027, 0, 15, 8), ".db"); // "herald-backup-20270115T080000Z.db"
 */
export function backupFileName(now: number, extension: string): string {
  const stamp = new Date(now)
    .toISOString()
    .replace(/\.\d+Z$/, "Z")
    .replace(/[-:]/g, "");
  return `herald-backup-${stamp}${extension}`;
}
