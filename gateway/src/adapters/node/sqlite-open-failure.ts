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
  const shape = sqlitePathProblem(path);
  if (shape !== undefined) return shape;
  const file = kindOf(path);
  const dir = dirname(path);
  const fileAccess = file === "other" ? access(path, constants.R_OK | constants.W_OK) : "ok";
  const dirAccess = access(dir, constants.W_OK);
  // A read-only mount refuses root too, and no owner or mode change helps: say so.
  if (fileAccess === "read-only" || dirAccess === "read-only") {
    return `it is on a read-only file system (${dir}); give store.path a place that can be written, or remount it read-write`;
  }
  if (fileAccess === "denied") {
    return "this user may not read and write it (check its owner and permissions)";
  }
  if (dirAccess === "denied") {
    return file === "missing"
      ? `this user may not create files in ${dir} (check its owner and permissions)`
      : `this user may not create files in ${dir}, where SQLite keeps the -wal and -shm files beside the store (check its owner and permissions)`;
  }
  return undefined;
}

/**
 * What better-sqlite3's own failure to load says, for an operator who installed Herald: its native
 * module was never built (the install script did not run: `npm install --ignore-scripts`, or npm
 * 11's `allowScripts` left it out) or was built for another Node. Its message is a list of a
 * dozen paths it tried, which says neither. `undefined` for any other message.
 *
 * @example
 * nativeModuleProblem("Could not locate the bindings file. Tried: ...");
 * // "better-sqlite3's native module is not built (...)"
 */
export function nativeModuleProblem(message: string): string | undefined {
  const remedy = `: run \`npm rebuild better-sqlite3\` where Herald is installed (it compiles where no prebuilt binary downloads: python3, make and g++), or use \`store: { kind: memory }\``;
  if (message.startsWith("Could not locate the bindings file")) {
    return `better-sqlite3's native module is not built (its install script did not run)${remedy}`;
  }
  if (/NODE_MODULE_VERSION|was compiled against a different Node\.js version/.test(message)) {
    return `better-sqlite3's native module was built for another Node.js version than ${process.version}${remedy}`;
  }
  return undefined;
}

/**
 * What makes `path` (absolute) unusable as a store file whoever opens it, or `undefined`: it is a
 * folder, or a file stands where one of its folders should be. `herald validate` asks this too
 * (permissions it leaves to `serve`: validation often runs as another user, on another machine).
 *
 * @example
 * sqlitePathProblem("/etc/passwd/herald.db"); // "/etc/passwd is a file, not a folder"
 */
export function sqlitePathProblem(path: string): string | undefined {
  if (kindOf(path) === "folder") {
    return `it is a folder; give store.path a file name in it, such as ${path.replace(/\/$/, "")}/herald.db`;
  }
  const blocker = nearestExisting(dirname(path));
  return kindOf(blocker) === "other" ? `${blocker} is a file, not a folder` : undefined;
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

/** Whether this user may access `path` with `mode`: `read-only` when a read-only mount refuses. */
function access(path: string, mode: number): "ok" | "denied" | "read-only" {
  try {
    accessSync(path, mode);
    return "ok";
  } catch (err) {
    return (err as { code?: unknown } | null)?.code === "EROFS" ? "read-only" : "denied";
  }
}
