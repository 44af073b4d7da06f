#!/usr/bin/env node
import { runCli } from "../dist/adapters/node/cli.js";

const code = await runCli({
  argv: process.argv.slice(2),
  cwd: process.cwd(),
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
// Exit explicitly: keep-alive sockets of the delivery client must not hold the process open.
process.exit(code);
