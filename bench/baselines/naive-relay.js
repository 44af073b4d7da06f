// Baseline (b): the relay a user would write instead of running Herald. Hono on @hono/node-server,
// the official `cloudevents` SDK to parse (`HTTP.toEvent`) and validate (`event.validate()`) each
// event, and `HTTP.binary` + the global fetch to forward it to the sink; 202 once the sink answered.
// Written the obvious way on purpose: no tuning beyond what its documentation shows.
//
//   node bench/baselines/naive-relay.js --sink http://127.0.0.1:9000/naive [--port 0] [--host 127.0.0.1]
//
// Prints exactly one line `naive listening on http://H:N` on stdout when ready.
import { serve } from "@hono/node-server";
import { HTTP, ValidationError } from "cloudevents";
import { Hono } from "hono";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const sink = option("--sink", "");
const hostname = option("--host", "127.0.0.1");
const port = Number(option("--port", "0"));

const app = new Hono();

/** @param {import("hono").Context} c */
async function relay(c) {
  const headers = c.req.header();
  const body = await c.req.text();
  let events;
  try {
    const parsed = HTTP.toEvent({ headers, body });
    events = Array.isArray(parsed) ? parsed : [parsed];
    for (const event of events) event.validate();
  } catch (err) {
    if (err instanceof ValidationError || err instanceof TypeError) {
      return c.json({ error: String(err.message) }, 400);
    }
    throw err;
  }
  for (const event of events) {
    const message = HTTP.binary(event);
    const response = await fetch(sink, {
      method: "POST",
      headers: /** @type {Record<string, string>} */ (message.headers),
      body: /** @type {string} */ (message.body),
    });
    await response.arrayBuffer();
    if (!response.ok) return c.json({ error: `sink answered ${response.status}` }, 502);
  }
  return c.body(null, 202);
}

app.post("/", relay);
app.post("/events", relay);

const server = serve({ fetch: app.fetch, port, hostname }, (info) => {
  process.stdout.write(`naive listening on http://${hostname}:${info.port}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  if ("closeAllConnections" in server) server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
