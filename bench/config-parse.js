// How long `parseConfig` takes on a big YAML config, and where the time goes: in process, CPU time
// of this thread (less sensitive than wall time to a busy machine), median of the rounds. The
// stages' ratios are what compare across machines.
//
//   node bench/config-parse.js [--subscriptions 20000] [--rounds 5]
//
// Then a reload of that file through the Node adapter's reloader (SIGHUP), timing the reload and
// the longest the event loop went without a turn meanwhile (ingest waits that long).
//
// Run after building the gateway (npm run build). The config is the match scenario's mix of
// filters (lib/match-subscriptions.js) with a sink and delivery settings each, in block-style YAML
// the way a person writes it (one key a line).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { createConfigReloader } from "../gateway/dist/adapters/node/config-reloader.js";
import { readConfigSource } from "../gateway/dist/config/config-source.js";
import { parseConfig } from "../gateway/dist/config/load-config.js";
import { parseHeraldConfig } from "../gateway/dist/config/parse-herald-config.js";
import { matchSubscriptions } from "./lib/match-subscriptions.js";

function argOf(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

/** `value` as block-style YAML, two spaces an indent. */
export function yamlOf(value, indent = "") {
  if (Array.isArray(value)) {
    return value.map((item) => `${indent}- ${yamlOf(item, `${indent}  `).trimStart()}`).join("\n");
  }
  if (typeof value === "object" && value !== null) {
    return Object.entries(value)
      .map(([key, v]) =>
        typeof v === "object" && v !== null
          ? `${indent}${key}:\n${yamlOf(v, `${indent}  `)}`
          : `${indent}${key}: ${JSON.stringify(v)}`,
      )
      .join("\n");
  }
  return JSON.stringify(value);
}

/** A config of `count` subscriptions as YAML text. */
export function bigConfigText(count) {
  const subscriptions = matchSubscriptions(count, { sql: true }).map((s, i) => ({
    ...s,
    sink: `http://127.0.0.1:9/sink/${i}`,
    delivery: { mode: i % 2 === 0 ? "binary" : "structured", timeout: "5s" },
  }));
  return `${yamlOf({ store: { kind: "memory" }, subscriptions })}\n`;
}

/** Milliseconds of this thread's CPU that `fn` took, and its result. */
function cpu(fn) {
  const start = process.cpuUsage();
  const result = fn();
  const { user, system } = process.cpuUsage(start);
  return { ms: (user + system) / 1000, result };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

if (import.meta.url === `file://${process.argv[1]}`) {
  const count = argOf("subscriptions", 20_000);
  const rounds = argOf("rounds", 5);
  const text = bigConfigText(count);
  const mb = Buffer.byteLength(text) / 1e6;
  const stages = {
    "yaml parseDocument alone": () =>
      parseDocument(text, { lineCounter: new LineCounter(), resolveKnownTags: false }),
    "readConfigSource (parse, checks)": () => readConfigSource(text, "herald.yaml"),
    "document.toJS": (source) => source.document.toJS(),
    "parseHeraldConfig (validation)": (source) =>
      parseHeraldConfig(source.document.toJS(), () => {}),
    "parseConfig (everything)": () => parseConfig(text, "herald.yaml"),
  };
  const times = Object.fromEntries(Object.keys(stages).map((name) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    const source = readConfigSource(text, "herald.yaml");
    for (const [name, run] of Object.entries(stages)) times[name].push(cpu(() => run(source)).ms);
  }
  const all = median(times["parseConfig (everything)"]);
  console.log(`${count} subscriptions, ${mb.toFixed(2)} MB of YAML; CPU ms, median of ${rounds}`);
  for (const [name, values] of Object.entries(times)) {
    const ms = median(values);
    console.log(
      `${name.padEnd(34)} ${ms.toFixed(0).padStart(6)} ms  ${((100 * ms) / all).toFixed(0).padStart(3)}%`,
    );
  }
  console.log(`parse rate: ${(mb / (all / 1000)).toFixed(2)} MB/s of CPU`);
  await reload(text);
}

/** Reloads from an empty config to `text` (SIGHUP) and says how long the event loop stood still. */
async function reload(text) {
  const dir = mkdtempSync(join(tmpdir(), "herald-bench-reload-"));
  const path = join(dir, "herald.yaml");
  const empty = "store: { kind: memory }\nsubscriptions: []\n";
  const quiet = () => {};
  const logger = { debug: quiet, info: quiet, warn: quiet, error: (m) => console.error(m) };
  const reloader = createConfigReloader({
    path,
    env: {},
    logger,
    running: parseConfig(empty, path),
    apply: quiet,
    watch: false,
  });
  writeFileSync(path, text);
  let last = performance.now();
  let longest = 0;
  let ticking = true;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const start = performance.now();
  const applied = await reloader.reload("SIGHUP");
  ticking = false;
  const ms = performance.now() - start;
  console.log(
    `reload: ${applied ? "applied" : "REFUSED"} in ${ms.toFixed(0)} ms (wall); longest event-loop gap ${Math.max(longest, performance.now() - last).toFixed(0)} ms`,
  );
  reloader.close();
  rmSync(dir, { recursive: true, force: true });
}
