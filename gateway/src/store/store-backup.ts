import { BackupUnsupported } from "./backup-errors.js";

/** A consistent copy of a store, taken and ready to stream. */
export interface StoreCopy {
  /** Its length in bytes (the answer's `Content-Length`). */
  readonly size: number;
  /**
   * Its bytes. Read to the end or cancelled (the client went away), it frees what the copy holds
   * (a temporary file) and lets the next backup run.
   */
  readonly body: ReadableStream<Uint8Array>;
}

/**
 * The backup port: a store that can copy itself while the gateway keeps serving (`GET
 * /store/backup`). The SQLite store implements it with SQLite's online backup API
 * (`createSqliteBackup`); stores that cannot say so with `unsupportedBackup`.
 */
export interface StoreBackup {
  /** The media type of a copy, e.g. `application/vnd.sqlite3`. */
  readonly mediaType: string;
  /** The file name extension a copy is saved with, e.g. `.db`. */
  readonly extension: string;
  /**
   * Throws the coded refusal (`BackupUnsupported`, `BackupInProgress`, `Unavailable`) a `take`
   * would meet now, without taking anything (`HEAD`).
   */
  check(): void;
  /** Takes a consistent copy; rejects with a coded error (see `check`, and `BackupNoRoom`). */
  take(): Promise<StoreCopy>;
}

/**
 * The backup of a store that has none to give: every request is refused with
 * `BackupUnsupported` and `detail`, which says what to use instead.
 *
 * @example
 * const backup = unsupportedBackup("the memory store keeps nothing on disk: there is nothing to back up");
 */
export function unsupportedBackup(detail: string): StoreBackup {
  if (detail.trim() === "") throw new TypeError("unsupportedBackup: detail must say why");
  const refuse = (): never => {
    throw new BackupUnsupported(detail);
  };
  return {
    mediaType: "application/octet-stream",
    extension: "",
    check: refuse,
    take: async () => refuse(),
  };
}
