import { statfsSync } from "node:fs";

/**
 * The bytes free for this process on the disk of `dir` (`statfs`'s `bavail`); `Infinity` when it
 * cannot tell.
 *
 * @example
 * if (freeBytes(dirname(path)) < 64 * 1024 * 1024) db.pragma("wal_autocheckpoint = 250");
 */
export function freeBytes(dir: string): number {
  try {
    const { bavail, bsize } = statfsSync(dir);
    return bavail * bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}
