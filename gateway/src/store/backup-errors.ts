import { HeraldError } from "../errors/herald-error.js";

/**
 * This gateway's store has no copy to give (501): the memory store keeps nothing, NATS JetStream
 * and Cloudflare D1 have backups of their own. The detail says what to use instead.
 *
 * @example
 * throw new BackupUnsupported("the memory store keeps nothing on disk: there is nothing to back up");
 */
export class BackupUnsupported extends HeraldError {
  static override readonly code = "backup_unsupported";
  readonly code = BackupUnsupported.code;
  readonly status = 501;
  readonly title = "Backup not supported by this store";
  constructor(detail: string) {
    super(detail);
    this.name = "BackupUnsupported";
  }
}

/**
 * Another backup is being taken or downloaded (409): one at a time, since each holds a copy of
 * the whole store on the store's disk. `Retry-After` says when to ask again.
 *
 * @example
 * throw new BackupInProgress();
 */
export class BackupInProgress extends HeraldError {
  static override readonly code = "backup_in_progress";
  readonly code = BackupInProgress.code;
  readonly status = 409;
  readonly title = "A backup is already in progress";
  override readonly headers: Readonly<Record<string, string>> = { "retry-after": "5" };
  constructor() {
    super(
      "another backup of the store is being taken or downloaded; one runs at a time: try again when it is done",
    );
    this.name = "BackupInProgress";
  }
}

/**
 * The store's disk has no room for the temporary copy (503). Nothing was written (or what was
 * is removed); the gateway goes on serving, its store untouched.
 *
 * @example
 * throw new BackupNoRoom("the copy needs about 120 MB beside the store; 40 MB are free");
 */
export class BackupNoRoom extends HeraldError {
  static override readonly code = "backup_no_room";
  readonly code = BackupNoRoom.code;
  readonly status = 503;
  readonly title = "No room for the backup";
  override readonly headers: Readonly<Record<string, string>> = { "retry-after": "60" };
  constructor(detail: string) {
    super(detail);
    this.name = "BackupNoRoom";
  }
}

/** The codes of the backup refusals, to `switch (err.code)` on. */
export type BackupErrorCode =
  | typeof BackupUnsupported.code
  | typeof BackupInProgress.code
  | typeof BackupNoRoom.code;
