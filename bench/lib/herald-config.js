// The Herald config for the ingest scenario: 100 subscriptions, one per event type
// com.example.bench.<i>, all delivering to the bench sink. wrk's events all carry the type of
// MATCHED_INDEX, so each event matches exactly one subscription while the matcher still has the
// other 99 to rule out. The ingest-auth scenario adds an `auth` section (lib/auth-tokens.js); the
// match scenario brings its own subscriptions (lib/match-subscriptions.js).
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export const SUBSCRIPTIONS = 100;
export const MATCHED_INDEX = 42;
export const TYPE_PREFIX = "com.example.bench.";
export const MATCHED_TYPE = `${TYPE_PREFIX}${MATCHED_INDEX}`;

/**
 * Writes the config as JSON (DESIGN.md accepts YAML or JSON) into `dir` and returns its path.
 * @param {object} o
 * @param {string} o.sinkUrl     base URL of the sink
 * @param {"memory" | "sqlite"} o.store
 * @param {string} o.dir         a fresh directory; the sqlite store lives there too
 * @param {object} [o.auth]      an `auth` section (ingest-auth scenario); absent: none, and Herald
 *                               must run with --no-auth
 * @param {{ id: string, filters: readonly object[] }[]} [o.subscriptions]  instead of the 100
 *                               above (match scenario); each gets a sink under the bench sink
 * @param {object} [o.delivery]  every subscription's `delivery` settings (backlog scenario; the
 *                               others: `concurrency`, --sink-concurrency)
 * @param {object} [o.limits]    Herald's `limits` section (backlog scenario)
 * @returns {string}
 */
export function writeHeraldConfig(o) {
  const { dir } = o;
  const given =
    o.subscriptions ??
    Array.from({ length: SUBSCRIPTIONS }, (_, i) => ({
      id: `bench-${i}`,
      filters: [{ exact: { type: `${TYPE_PREFIX}${i}` } }],
    }));
  const subscriptions = given.map((s, i) => ({
    ...s,
    sink: `${o.sinkUrl}/herald/${i}`,
    ...(o.delivery === undefined ? {} : { delivery: o.delivery }),
  }));
  const store =
    o.store === "sqlite" ? { kind: "sqlite", path: join(dir, "herald.db") } : { kind: "memory" };
  const config = {
    store,
    ...(o.limits === undefined ? {} : { limits: o.limits }),
    ...(o.auth === undefined ? {} : { auth: o.auth }),
    subscriptions,
  };
  const path = join(dir, "herald.json");
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}
