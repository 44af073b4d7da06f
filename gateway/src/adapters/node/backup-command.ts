import { randomUUID } from "node:crypto";
import { type FileHandle, link, open, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import { parseDuration } from "../../config/parse-duration.js";
import { callGateway, problemText } from "./call-gateway.js";
import { parseFlags } from "./parse-flags.js";
import { ServeError, UsageError } from "./serve-error.js";

export const BACKUP_USAGE = `  backup      Download a consistent copy of a running gateway's SQLite store to a file
                -o, --out FILE  where to write it (required); written whole or not at all
                --url URL       the gateway (default http://127.0.0.1:8080)
                --token T       an admin token (when the gateway has auth)
                --force         replace FILE if it exists
                --timeout D     how long the whole download may take (default 10m)`;

/** The first bytes of every SQLite database file (sqlite.org/fileformat.html 1.3.1). */
const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

/** The longest `--timeout`: 24 days, within the 2^31-1 ms a Node timer holds. */
const MAX_TIMEOUT_MS = 24 * 86_400_000;

interface BackupIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  /** Ctrl-C: the download stops and nothing is left at `--out` (nor its temporary file). */
  readonly stop?: AbortSignal;
}

/**
 * `herald backup`: downloads `GET /store/backup` of a running gateway into `--out`, atomically:
 * the bytes go to a temporary file beside it (`FILE.<random>.part`, mode 0600: a backup holds
 * every event), which is checked (the length the gateway announced, SQLite's header), flushed to
 * disk and only then renamed to `FILE`. A refusal, a cut connection, a timeout or Ctrl-C leaves
 * no `FILE` and no temporary file. An existing `FILE` is kept unless `--force`.
 *
 * @example
 * herald backup --url http://127.0.0.1:8080 --token "$ADMIN_TOKEN" --out herald-backup.db
 */
export async function backupCommand(args: readonly string[], io: BackupIo): Promise<number> {
  const { values } = parseFlags(args, {
    url: { type: "string", default: "http://127.0.0.1:8080" },
    token: { type: "string" },
    out: { type: "string", short: "o" },
    force: { type: "boolean", default: false },
    timeout: { type: "string", default: "10m" },
  });
  if (!/^https?:\/\//i.test(values.url) || !URL.canParse(values.url)) {
    throw new UsageError(`--url must be an absolute http(s) URL (got "${values.url}")`);
  }
  if (values.out === undefined) throw new UsageError("backup needs --out FILE");
  // Most likely unset variables (`--out "$FILE"`, `--token "$TOKEN"`).
  if (values.out.trim() === "") throw new UsageError("--out must not be empty");
  if (values.token?.trim() === "") throw new UsageError("--token must not be empty");
  const timeoutMs = parseDuration(values.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new UsageError(
      `--timeout must be a duration such as 30s or 10m, at most 24 days (got "${values.timeout}")`,
    );
  }
  const out = resolve(io.cwd, values.out);
  const force = values.force === true;
  const existing = await stat(out).catch(() => undefined);
  if (existing?.isDirectory()) throw new ServeError(`--out ${out} is a folder; name a file`);
  if (existing !== undefined && !force) {
    throw new ServeError(`${out} exists; pass --force to replace it`);
  }
  // The gateway's base URL; its ingest URL (`.../events`) means the same gateway.
  const base = values.url.replace(/\/+$/, "").replace(/\/events$/, "");
  const headers: Record<string, string> = { accept: "application/vnd.sqlite3" };
  if (values.token) headers.authorization = `Bearer ${values.token}`;

  // Made before asking: a folder that cannot be written is said before the gateway copies.
  const temp = resolve(dirname(out), `.${basename(out)}.${randomUUID().slice(0, 8)}.part`);
  const file = await open(temp, "wx", 0o600).catch((err: NodeJS.ErrnoException) => {
    throw new ServeError(`cannot write beside ${out}: ${err.code ?? err.message}`);
  });
  let kept = false;
  try {
    const response = await callGateway(
      `${base}/store/backup`,
      { headers, ...(io.stop ? { signal: io.stop } : {}) },
      { ms: timeoutMs, text: values.timeout },
    );
    if (response.status !== 200 || response.body === null) {
      io.stderr(`herald: the gateway refused the backup: ${await problemText(response)}\n`);
      return 1;
    }
    const announced = response.headers.get("content-length");
    const expected = announced === null ? undefined : Number(announced);
    let written = 0;
    let head = Buffer.alloc(0);
    try {
      const reader = response.body.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        const chunk = read.value;
        if (head.length < SQLITE_HEADER.length) {
          head = Buffer.concat([head, chunk]).subarray(0, SQLITE_HEADER.length);
        }
        await writeAll(file, chunk).catch((err: NodeJS.ErrnoException) => {
          void reader.cancel().catch(() => undefined);
          throw new ServeError(
            `cannot write ${temp} after ${written} bytes: ${err.code ?? err.message}; ${out} was not written`,
          );
        });
        written += chunk.length;
      }
    } catch (err) {
      if (err instanceof ServeError) throw err;
      const name = (err as Error).name;
      const why =
        name === "TimeoutError"
          ? `it took longer than --timeout ${values.timeout}`
          : name === "AbortError"
            ? "it was stopped"
            : "the connection was cut";
      throw new ServeError(
        `the download stopped after ${written}${expected === undefined ? "" : ` of ${expected}`} bytes (${why}); ${out} was not written`,
      );
    }
    if (expected !== undefined && written !== expected) {
      throw new ServeError(
        `the download ended after ${written} of ${expected} bytes; ${out} was not written`,
      );
    }
    if (!head.equals(SQLITE_HEADER)) {
      throw new ServeError(
        `what ${base}/store/backup answered is not a SQLite database; ${out} was not written`,
      );
    }
    // On disk before it takes the name: a crash after the rename never leaves a short file.
    await file.sync();
    await file.close();
    if (force) await rename(temp, out);
    else {
      // link(2) fails when the name exists: a FILE made meanwhile is not replaced.
      await link(temp, out).catch((err: NodeJS.ErrnoException) => {
        throw new ServeError(
          err.code === "EEXIST"
            ? `${out} appeared while downloading; pass --force to replace it`
            : `cannot write ${out}: ${err.code ?? err.message}`,
        );
      });
      await rm(temp, { force: true });
    }
    kept = true;
    await syncFolder(dirname(out));
    io.stdout(`${out}: ${written} bytes, a backup of ${base}\n`);
    return 0;
  } finally {
    if (!kept) {
      await file.close().catch(() => undefined);
      await rm(temp, { force: true });
    }
  }
}

/**
 * Writes all of `chunk`: a write to a file can take only part of it (the disk or the file size
 * limit reached mid-chunk) without an error, which the next write would then report.
 */
async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.length; ) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.length - offset);
    if (bytesWritten === 0) throw new Error("the file takes no more bytes");
    offset += bytesWritten;
  }
}

/** Makes the new name durable (the rename is in the folder's data); not possible everywhere. */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => undefined);
  await handle?.sync().catch(() => undefined);
  await handle?.close();
}
