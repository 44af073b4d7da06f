// Reads the sink's delivery counter (bench/sink.js, GET /_count) and, with --record, its receipts.
import { get } from "node:http";

/**
 * @typedef {object} SinkCount
 * @property {number} deliveries
 * @property {number} invalid
 * @property {number} [events]      --record: event ids received, duplicates included
 * @property {number} [unique]      --record: distinct event ids received
 * @property {number} [duplicates]
 * @property {number} [firstUs]     --record: receipt of the first event (monotonic µs; 0: none yet)
 * @property {number} [lastNewUs]   --record: receipt of the last event not seen before
 */

/**
 * @param {string} sinkUrl base URL of the sink
 * @returns {Promise<SinkCount>}
 */
export function readCount(sinkUrl) {
  return getJson(`${sinkUrl}/_count`);
}

/**
 * --record: every event id starting with `prefix` and when it first arrived (monotonic µs).
 * @param {string} sinkUrl
 * @param {string} prefix
 * @returns {Promise<{ ids: string[], us: number[] }>}
 */
export function readReceipts(sinkUrl, prefix) {
  return getJson(`${sinkUrl}/_receipts?prefix=${encodeURIComponent(prefix)}`);
}

/**
 * @param {string} url
 * @returns {Promise<any>}
 */
function getJson(url) {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.setTimeout(5_000, () => req.destroy(new Error(`sink ${new URL(url).pathname} timed out`)));
    req.on("error", reject);
  });
}

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls the sink until its count stops growing: `quietMs` without a new delivery, or `quietMs / 5`
 * once `expected` deliveries have arrived; gives up after `maxMs`.
 * @param {string} sinkUrl
 * @param {object} o
 * @param {number} [o.expected]  count at which everything accepted has been delivered
 * @param {number} [o.quietMs]
 * @param {number} [o.maxMs]
 * @returns {Promise<{ deliveries: number, invalid: number, waitedMs: number, timedOut: boolean }>}
 */
export async function waitUntilSettled(sinkUrl, o = {}) {
  const quietMs = o.quietMs ?? 1_000;
  const maxMs = o.maxMs ?? 60_000;
  const start = performance.now();
  let last = await readCount(sinkUrl);
  let lastChange = start;
  let lastChangeCount = last;
  for (;;) {
    const now = performance.now();
    const enough = o.expected !== undefined && last.deliveries >= o.expected;
    if (now - lastChange >= (enough ? quietMs / 5 : quietMs)) {
      return { ...lastChangeCount, waitedMs: lastChange - start, timedOut: false };
    }
    if (now - start >= maxMs) return { ...last, waitedMs: now - start, timedOut: true };
    await sleep(50);
    const next = await readCount(sinkUrl);
    if (next.deliveries !== last.deliveries) {
      lastChange = performance.now();
      lastChangeCount = next;
    }
    last = next;
  }
}
