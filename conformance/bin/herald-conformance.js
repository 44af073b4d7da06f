#!/usr/bin/env node
// Runs the built CLI (`npm run build` in conformance/ first when working from a checkout).
import { main } from "../dist/cli.js";

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
