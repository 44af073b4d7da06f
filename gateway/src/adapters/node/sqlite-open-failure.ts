import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Why SQLite could not open or set up the store file at `path` (absolute), for the operator who
 * starts `herald serve`: SQLite itself only says "unable to open database file" (a folder given as
 * the path, a file where a folder should be, a folder this user cannot write) or "disk I/O error"
 * (a file this user may read but not write). Looks at the file system to say which; `undefined`
 * when nothing there explains it (then SQLite's own message is all there is).
 *
 * @example
 * sqliteOpenFailure("/var/lib/herald"); // "it is a folder; give store.path a file name in it, such as /var/lib/herald/herald.db"
 */
export function sqliteOpenFailure(path: string): string | undefined {
  const file = kindOf(path);
  if (file === "folder") {
    return `it is a folder; give store.path a file name in it, such as ${path.replace(/\/$/, "")}/herald.db`;
  }
  const dir = dirname(path);
  const blocker = nearestExisting(dir);
  if (kindOf(blocker) === "other") return `${blocker} is a file, not a folder`;
  if (file === "other" && !allowed(path, constants.R_OK | constants.W_OK)) {
    return "this user may not read and write it (check its owner and permissions)";
  }
  if (!allowed(dir, constants.W_OK)) {
    return file === "missing"
      ? `this user may not create files in ${dir} (check its owner and permissions)`
      : `this user may not create files in ${dir}, where SQLite keeps the -wal and -shm files beside the store (check its owner and permissions)`;
  }
  return undefined;
}

function kindOf(path: string): "missing" | "folder" | "other" {
  try {
    return statSync(path).isDirectory() ? "folder" : "other";
  } catch {
    return "missing";
  }
}

/** `dir` or its deepest ancestor that exists (a file there is in the way). */
function nearestExisting(dir: string): string {
  let current = dir;
  while (kindOf(current) === "missing" && dirname(current) !== current) current = dirname(current);
  return current;
}

function allowed(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
