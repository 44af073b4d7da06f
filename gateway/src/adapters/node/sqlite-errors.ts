import { Unavailable } from "../../errors/errors.js";

/** Why SQLite could not write, for people; the file's path goes to the log, not to publishers. */
function reason(code: string): string {
  if (code === "SQLITE_FULL") return "the event store is full (no space left on its disk)";
  if (code.startsWith("SQLITE_READONLY")) return "the event store is read-only";
  if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
    return "the event store is locked by another process";
  }
  if (code.startsWith("SQLITE_IOERR") || code.startsWith("SQLITE_CANTOPEN")) {
    return "the event store cannot be written (I/O error)";
  }
  return "the event store failed";
}

/**
 * Turns a failed write into `Unavailable` (503): a full disk, a read-only file or a locked database
 * is the store's trouble, not the publisher's, and retrying later may succeed.
 *
 * @example
 * try { write(); } catch (err) { throw storeUnavailable(err); }
 */
export function storeUnavailable(err: unknown): Unavailable {
  if (err instanceof Unavailable) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const unavailable = new Unavailable(reason(typeof code === "string" ? code : ""), 5);
  unavailable.cause = err;
  return unavailable;
}
