#!/usr/bin/env node
// Loading the gateway's modules takes most of a second. A SIGTERM or SIGINT in that time (a
// rollout that stops a replica as it starts, a quick Ctrl-C) would end the process with the
// signal's default action, exit 143 or 130, instead of the clean stop and exit 0 that `serve`
// promises; a SIGHUP would end it too. So the signals are held until the command has installed
// its own handlers (runCli does so before its first await), then the first of each is raised again.
const held = new Set();
const hold = (signal) => held.add(signal);
const SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"];
for (const signal of SIGNALS) process.on(signal, hold);

// Logs go to stderr. A reader of it that goes away (a closed pipe: `herald serve 2>&1 | tee`
// stopped, a log shipper restarted) makes the next write fail with EPIPE, an 'error' event that,
// unhandled, ended the gateway at once: no drain, deliveries in flight cut off. Losing log lines
// is the lesser harm, so such errors are dropped and the gateway goes on.
process.stderr.on("error", () => {});
// A reader of stdout that goes away (`herald tail | head -1`) ends what prints there: `tail`
// stops as on Ctrl-C (deleting its subscription), exit 0, like any Unix filter whose reader left.
const stdoutGone = new AbortController();
process.stdout.on("error", () => stdoutGone.abort());

const { runCli } = await import("../dist/adapters/node/cli.js");
const running = runCli({
  argv: process.argv.slice(2),
  cwd: process.cwd(),
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stdoutGone: stdoutGone.signal,
});
for (const signal of SIGNALS) process.off(signal, hold);
// A command without handlers (validate, token, send) ends as the signal's default action ends it.
for (const signal of held) process.kill(process.pid, signal);
const code = await running;
// Exit explicitly: keep-alive sockets of the delivery client must not hold the process open.
process.exit(code);
