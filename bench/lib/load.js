// Runs bench/load.js (constant-rate or batch load; see that file) as a pinned child process and
// returns the numbers its `LOAD_JSON` line reports.
import { fileURLToPath } from "node:url";
import { pinned, run } from "./processes.js";

const SCRIPT = fileURLToPath(new URL("../load.js", import.meta.url));

/**
 * @typedef {object} LoadResult
 * @property {"paced" | "batch"} mode
 * @property {number} connections
 * @property {number} sent         requests written (batch: including the retried 503s)
 * @property {number} ok           2xx answers
 * @property {number} status4xx
 * @property {number} status5xx
 * @property {number} errors       socket errors and timeouts
 * @property {number} retried503   batch: 503 answers that were retried
 * @property {number} unanswered
 * @property {Record<string, number>} statuses
 * @property {number} elapsedS
 * @property {number} [rate]          paced: the schedule's rate, events/s
 * @property {number} [total]         paced: events scheduled
 * @property {number} [achievedRate]  paced: events sent per second of the schedule's duration
 * @property {{ p50: number, p99: number, max: number }} [lagUs]  paced: send time - scheduled time
 * @property {number} [events]        batch: events sent
 * @property {number} [batchEvents]
 * @property {number} [eventsPerSec]  batch: events answered per second
 */

/**
 * @param {object} o
 * @param {string} o.url          e.g. http://127.0.0.1:40123/events
 * @param {"paced" | "batch"} o.mode
 * @param {string} o.nonce        event ids are <nonce>-<k>
 * @param {string} o.type
 * @param {number | undefined} o.core
 * @param {number} [o.connections]
 * @param {number} [o.rate]        paced: events/s
 * @param {number} [o.durationS]   paced
 * @param {string} [o.out]         paced: where the send and schedule times go
 * @param {number} [o.events]      batch
 * @param {number} [o.batch]       batch: events per request
 * @returns {Promise<LoadResult>}
 */
export async function runLoad(o) {
  /** @type {string[]} */
  const flags = [];
  const add = (/** @type {string} */ name, /** @type {unknown} */ value) => {
    if (value !== undefined) flags.push(`--${name}`, String(value));
  };
  add("url", o.url);
  add("mode", o.mode);
  add("nonce", o.nonce);
  add("type", o.type);
  add("connections", o.connections);
  add("rate", o.rate);
  add("duration", o.durationS);
  add("out", o.out);
  add("events", o.events);
  add("batch", o.batch);
  const [command, args] = pinned(o.core, process.execPath, [SCRIPT, ...flags]);
  const { code, stdout, stderr } = await run(command, args);
  const line = stdout.split("\n").find((l) => l.startsWith("LOAD_JSON "));
  if (code !== 0 || line === undefined) {
    throw new Error(`bench/load.js failed (exit ${code}):\n${stdout}${stderr}`.trimEnd());
  }
  return JSON.parse(line.slice("LOAD_JSON ".length));
}
