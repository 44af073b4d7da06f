// The producer side of the sdk-emit scenario: sends events to Herald for a fixed time with one of
// two clients, as fast as the gateway takes them, and prints what it managed. Runs as its own
// process, pinned to the load core, so the client's CPU is measured apart from Herald's.
//
//   node bench/sdk-emit-client.js --client sdk|sdk-node|sdk-coalesce|cloudevents --url URL --warmup S --duration S
//                                 [--concurrency 64]
//
// sdk:         @herald/sdk: createProducer(...).stateTransfer({ type, data }) per event (id, time,
//              binary mode, fetch, retries on, default settings): one request per event.
// sdk-node:    the same with createProducer({ fetch: createNodeFetch() }) from @herald/sdk/node:
//              node:http keep-alive connections instead of the global fetch; one request per event.
// sdk-coalesce: the same as sdk with createProducer({ coalesce: true }): at most 4 requests in flight;
//              events that find them busy wait and go together as one batch-mode request.
// cloudevents: the cloudevents package: new CloudEvent({ source, type, data }) per event, sent by
//              emitterFor(transport, { mode: Mode.BINARY }) whose transport is the global fetch.
// Both: the same JSON data, binary mode, Node's global fetch (undici, keep-alive), --concurrency
// sends in flight (closed loop). Prints one line `EMIT_JSON {...}`: events accepted (202), errors,
// seconds, and this process's CPU time in the measured window.
import { createProducer } from "@herald/sdk";
import { createNodeFetch } from "@herald/sdk/node";
import { CloudEvent, emitterFor, Mode } from "cloudevents";

const args = process.argv.slice(2);
/**
 * @param {string} name
 * @param {string} [fallback]
 */
const option = (name, fallback) => {
  const i = args.indexOf(name);
  const value = i >= 0 ? args[i + 1] : fallback;
  if (value === undefined) throw new Error(`sdk-emit-client.js: ${name} is required`);
  return value;
};

const client = option("--client");
const url = option("--url");
const warmupS = Number(option("--warmup", "1"));
const durationS = Number(option("--duration", "2"));
const concurrency = Number(option("--concurrency", "64"));
const source = "/bench/sdk-emit";
const type = "com.example.bench.emit";

/** @returns {(i: number) => Promise<void>} one event per call */
function sender() {
  if (client === "sdk" || client === "sdk-node" || client === "sdk-coalesce") {
    const producer = createProducer({
      endpoint: url,
      source,
      coalesce: client === "sdk-coalesce",
      ...(client === "sdk-node" ? { fetch: createNodeFetch() } : {}),
    });
    return async (i) => {
      await producer.stateTransfer({ type, data: { orderId: i, sku: "HX-2210", quantity: 1 } });
    };
  }
  if (client === "cloudevents") {
    const emit = emitterFor(
      async (message) => {
        const res = await fetch(url, {
          method: "POST",
          headers: /** @type {Record<string, string>} */ (message.headers),
          body: /** @type {string} */ (message.body),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      },
      { mode: Mode.BINARY },
    );
    return async (i) => {
      await emit(
        new CloudEvent({ source, type, data: { orderId: i, sku: "HX-2210", quantity: 1 } }),
      );
    };
  }
  throw new Error(`sdk-emit-client.js: unknown --client ${client}`);
}

/**
 * Runs `concurrency` loops of `send` until `ms` have passed.
 * @param {(i: number) => Promise<void>} send
 * @param {number} ms
 */
async function drive(send, ms) {
  const end = performance.now() + ms;
  let ok = 0;
  let errors = 0;
  let next = 0;
  let firstError;
  const loop = async () => {
    while (performance.now() < end) {
      try {
        await send(next++);
        ok++;
      } catch (err) {
        errors++;
        firstError ??= String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { ok, errors, firstError };
}

const send = sender();
await drive(send, warmupS * 1000);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const r = await drive(send, durationS * 1000);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(
  `EMIT_JSON ${JSON.stringify({
    client,
    events: r.ok,
    errors: r.errors,
    firstError: r.firstError,
    seconds,
    perSec: Math.round(r.ok / seconds),
    cpuS: (cpu.user + cpu.system) / 1e6,
  })}\n`,
);
