import { mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";

/**
 * `mkdir -p` for an absolute path, one level at a time. Node's own `mkdirSync(dir, { recursive:
 * true })` never returns for some paths: under `/proc/self` every `mkdir` fails with ENOENT
 * although the parent exists, and its recursive walk retries forever at full CPU. Here each
 * missing level is created once, from the deepest existing ancestor down, and the first failure
 * is thrown (ENOENT, EACCES, ENOTDIR, EROFS, ...).
 *
 * @example
 * makeDirectories("/var/lib/herald/data");
 */
export function makeDirectories(dir: string): void {
  const missing: string[] = [];
  let current = dir;
  while (!exists(current)) {
    missing.push(current);
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level);
    } catch (err) {
      // Created meanwhile by someone else: fine if it is a directory now.
      if ((err as NodeJS.ErrnoException).code !== "EEXIST" || !statSync(level).isDirectory()) {
        throw err;
      }
    }
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    // Anything but "not there" (ENOTDIR: a file on the way; EACCES) is the answer already.
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
}
