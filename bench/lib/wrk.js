// Runs wrk with bench/scripts/binary-event.lua and returns the numbers its `done` hook prints.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { pinned, run } from "./processes.js";

const SCRIPT = fileURLToPath(new URL("../scripts/binary-event.lua", import.meta.url));

/** wrk's version line, or undefined when wrk is not installed. */
export function wrkVersion() {
  const probe = spawnSync("wrk", ["-v"], { encoding: "utf8" });
  if (probe.error) return undefined;
  const line = `${probe.stdout}${probe.stderr}`.split("\n")[0]?.trim();
  return line || "wrk (unknown version)";
}

/**
 * @typedef {object} WrkResult
 * @property {number} requests       completed requests (any status)
 * @property {number} sent           requests written, answered or not (counted by the script)
 * @property {number} durationUs
 * @property {number} bytes
 * @property {{ connect: number, read: number, write: number, status: number, timeout: number }} errors
 *   `status` counts responses with status >= 400 (wrk's definition); the others are socket errors
 * @property {{ p50: number, p90: number, p99: number, p999: number, max: number, mean: number, stdev: number }} latencyUs
 */

/**
 * @param {object} o
 * @param {string} o.url            target, e.g. http://127.0.0.1:40123/events
 * @param {number} o.durationS
 * @param {number} o.connections
 * @param {number} o.threads
 * @param {number | undefined} o.core
 * @param {string} o.nonce          makes this run's ce-id values unique
 * @param {string} o.type           ce-type of every event
 * @param {string} [o.source]       ce-source of every event
 * @param {string} [o.tokenFile]    bearer tokens, one per line: every request then carries
 *                                  `Authorization: Bearer <token>`, cycling through them
 * @returns {Promise<WrkResult>}
 */
export async function runWrk(o) {
  const wrkArgs = [
    "-t",
    String(o.threads),
    "-c",
    String(o.connections),
    "-d",
    `${o.durationS}s`,
    // Well above any latency we expect, so slow answers are measured rather than dropped.
    "--timeout",
    "10s",
    "-s",
    SCRIPT,
    o.url,
    "--",
    o.nonce,
    o.type,
    o.source ?? "/bench/wrk",
    ...(o.tokenFile === undefined ? [] : [o.tokenFile]),
  ];
  const [command, args] = pinned(o.core, "wrk", wrkArgs);
  const { code, stdout, stderr } = await run(command, args);
  const line = stdout.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (code !== 0 || line === undefined) {
    throw new Error(`wrk failed (exit ${code}):\n${stdout}${stderr}`.trimEnd());
  }
  return JSON.parse(line.slice("WRK_JSON ".length));
}
