// Starts a sink, a gateway on herald.yaml, sends three events and prints what each sink got.
// Run: npm start -w @herald/example-routing   (after `npm run build` at the repo root)
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { sendEvent } from "@herald/sdk";

const here = dirname(fileURLToPath(import.meta.url));
const herald = join(here, "..", "..", "gateway", "bin", "herald.js");

/** Runs the example; resolves with what each sink path received. */
export async function runExample({ expected = 2 } = {}) {
  const received = [];
  let done;
  const allReceived = new Promise((resolve) => {
    done = resolve;
  });
  const sink = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push({ path: req.url, headers: req.headers, body });
      res.writeHead(204).end();
      if (received.length === expected) done();
    });
  });
  await new Promise((ok) => sink.listen(0, "127.0.0.1", ok));
  const sinkUrl = `http://127.0.0.1:${sink.address().port}`;

  const gateway = spawn(
    process.execPath,
    [herald, "serve", "--config", "herald.yaml", "--no-auth"],
    {
      cwd: here,
      env: { ...process.env, SINK_URL: sinkUrl, HERALD_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise((resolve, reject) => {
    gateway.once("exit", (code) => reject(new Error(`herald exited with ${code}`)));
    createInterface({ input: gateway.stdout }).on("line", (line) => {
      const m = /^herald listening on (\S+)$/.exec(line);
      if (m) resolve(m[1]);
    });
  });
  try {
    const events = `${url}/events`;
    await sendEvent(events, {
      id: "order-1",
      source: "/orders",
      type: "com.example.order.created",
      data: { orderId: 1 },
    });
    // Matches no subscription (a temporary file), so nobody receives it. Sent before img-1:
    // thumbnails delivers one event at a time, in order, so had it matched, the sink would
    // have it before img-1 (run.test.js checks that it never arrives).
    await sendEvent(events, {
      id: "img-2",
      source: "/images",
      type: "com.example.image.created",
      subject: "uploads/cat.png.tmp",
    });
    await sendEvent(events, {
      id: "img-1",
      source: "/images",
      type: "com.example.image.created",
      subject: "uploads/cat.png",
      dataref: "https://images.example.com/uploads/cat.png",
    });
    await allReceived;
    return received;
  } finally {
    gateway.kill("SIGTERM");
    await new Promise((ok) => gateway.once("exit", ok));
    await new Promise((ok) => sink.close(ok));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await runExample()) {
    console.log(`${r.path} <- ${r.headers["ce-id"] ?? JSON.parse(r.body).id}`);
    console.log(`   ${r.headers["content-type"]}  ${r.body}`);
  }
}
