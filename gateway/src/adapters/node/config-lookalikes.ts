import { existsSync } from "node:fs";
import { resolve } from "node:path";

/** Names people give a config that the default `./herald.yaml` does not find. */
const LOOKALIKES = ["herald.yml", "herald.json"];

/**
 * The config-like files in `cwd` that `herald serve` and `herald validate` without `--config`
 * would pass over (they read `./herald.yaml` only), so they can say so: a newcomer who wrote
 * `herald.json` as the README allows, and got the embedded demo, would not know why.
 *
 * @example
 * configLookalikes(process.cwd()); // ["herald.json"]
 */
export function configLookalikes(cwd: string): string[] {
  return LOOKALIKES.filter((name) => existsSync(resolve(cwd, name)));
}

/**
 * One line saying which look-alike files were not read and how to use one, or `""` when none.
 *
 * @example
 * lookalikeNote(["herald.json"]);
 * // "herald: note: ./herald.json is not read without --config (the default is ./herald.yaml); start with --config herald.json\n"
 */
export function lookalikeNote(found: readonly string[]): string {
  const [first] = found;
  if (first === undefined) return "";
  const names = found.map((name) => `./${name}`).join(", ");
  return `herald: note: ${names} ${found.length === 1 ? "is" : "are"} not read without --config (the default is ./herald.yaml); start with --config ${first}\n`;
}
