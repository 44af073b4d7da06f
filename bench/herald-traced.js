// The ingest-traced scenario's `herald-traced` system: `herald serve` with tracing on, exporting to
// a local OTLP stub (otlp-stub.js). This process IS Herald (it runs Herald's CLI in process, so
// the harness's CPU figures are Herald's); the stub is its child, pinned to the load core.
//
//   node bench/herald-traced.js [--stub-core N] <herald bin> serve <herald args...>
//
// Tracing is configured only through the standard variables, as a user would: the OTLP endpoint
// (the stub), http/protobuf, OTEL_TRACES_SAMPLER=always_on (every event traced), the SDK's batch
// span processor with its defaults (OTEL_BSP_*), metrics exported by OTLP too (every 60 s).
// On exit it prints what the stub received to stderr. Exit code: Herald's, else 3 when no span
// reached the stub (tracing was not on: the ratio would be meaningless), else 4 when Herald
// dropped spans because its export queue was full (the "on" run then did less work than full
// tracing; the harness notes the code as a warning).
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pinned } from "./lib/processes.js";

const BENCH = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
let stubCore;
if (argv[0] === "--stub-core") {
  stubCore = Number(argv[1]);
  argv.splice(0, 2);
}
const [heraldBin, ...heraldArgs] = argv;
if (heraldBin === undefined || heraldArgs[0] !== "serve") {
  process.stderr.write(
    "usage: node bench/herald-traced.js [--stub-core N] <herald bin> serve ...\n",
  );
  process.exit(2);
}

const [command, args] = pinned(stubCore, process.execPath, [join(BENCH, "otlp-stub.js")]);
// stdin is a pipe the stub watches: it exits when this process is gone, however it ended.
const stub = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
const stubUrl = await new Promise((ok, fail) => {
  stub.once("exit", (code) => fail(new Error(`otlp-stub exited with ${code} before it was ready`)));
  createInterface({ input: stub.stdout }).on("line", (line) => {
    const m = /^otlp-stub listening on (http:\/\/\S+)$/.exec(line);
    if (m) ok(m[1]);
  });
});

Object.assign(process.env, {
  OTEL_EXPORTER_OTLP_ENDPOINT: stubUrl,
  OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
  OTEL_TRACES_SAMPLER: "always_on",
  OTEL_SERVICE_NAME: "herald-bench",
});

// What bin/herald.js does, with an eye on the log: the bounded span processor says when it drops.
const { runCli } = await import(
  pathToFileURL(resolve(dirname(heraldBin), "../dist/adapters/node/cli.js")).href
);
let dropped = 0;
const code = await runCli({
  argv: heraldArgs,
  cwd: process.cwd(),
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => {
    const m = /"msg":"trace export queue full[^\n]*"dropped":(\d+)/.exec(text);
    if (m) dropped += Number(m[1]);
    process.stderr.write(text);
  },
});

// Herald has stopped, its last spans flushed: ask the stub what arrived.
const counts = await fetch(`${stubUrl}/_count`)
  .then((res) => res.json())
  .catch(() => undefined);
stub.stdin.end();
const t = counts?.traces;
process.stderr.write(
  `herald-traced: the OTLP stub received ${t?.spans ?? "?"} spans in ${t?.requests ?? "?"} ` +
    `export requests (${t?.bytes ?? "?"} bytes)` +
    (dropped > 0 ? `; Herald dropped at least ${dropped} spans (export queue full)` : "") +
    "\n",
);
process.exit(code !== 0 ? code : !(t?.spans > 0) ? 3 : dropped > 0 ? 4 : 0);
