#!/usr/bin/env node
// Runs the built CLI (`npm run build` in conformance/ first when working from a checkout).
import { main } from "../dist/cli.js";

// The reader of the output went away (`herald-conformance ... | head`): stop quietly, as a
// command killed by SIGPIPE does (128 + 13), instead of crashing with a stack trace and sending
// the rest of the run to a target nobody is watching.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code !== "EPIPE") throw err;
    process.exit(141);
  });
}

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
