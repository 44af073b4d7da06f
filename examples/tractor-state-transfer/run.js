// Event-carried state transfer, end to end: a tractor's wear sensor orders a spare part with
// everything the ordering service needs in the event's data; the ordering service acts on the
// payload alone: it has no way to call the tractor back, and needs none.
// Run: npm start -w @herald/example-tractor-state-transfer   (after `npm run build` at the root)
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createProducer, defineEvent } from "@herald/sdk";
import { createNodeFetch } from "@herald/sdk/node";
import { receive } from "@herald/sdk/receive";

const here = dirname(fileURLToPath(import.meta.url));
const herald = join(here, "..", "..", "gateway", "bin", "herald.js");

/**
 * The catalog entry: a state transfer whose data is the whole order.
 * @type {import("@herald/sdk").StateDefinition<{
 *   tractorId: string, part: { sku: string, name: string }, quantity: number,
 *   deliverTo: { farm: string, lat: number, lon: number }, reading: { wear: number, at: string } }>}
 */
export const partOrdered = defineEvent({
  type: "com.example.tractor.part.ordered",
  kind: "state",
  dataschema: "https://schemas.example.com/tractor/part-order.v1.json",
});

/** Wear above this orders a replacement. */
const WEAR_LIMIT = 0.8;

/**
 * The sensor's decision: a reading above the limit becomes a part order carrying the state the
 * ordering service needs (which part, how many, where to deliver, the reading that triggered it).
 */
export async function onReading(producer, tractor, reading) {
  if (reading.wear <= WEAR_LIMIT) return undefined;
  return producer.emit(partOrdered, {
    subject: tractor.id,
    data: {
      tractorId: tractor.id,
      part: reading.part,
      quantity: 1,
      deliverTo: tractor.location,
      reading: { wear: reading.wear, at: reading.at },
    },
  });
}

/** The ordering service: turns each part-order event into a purchase order, from its data only. */
function startOrdering(onOrder) {
  const orders = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const request = new Request(`http://ordering${req.url}`, {
        method: req.method,
        headers: Object.entries(req.headers).filter(([, v]) => typeof v === "string"),
        body: Buffer.concat(chunks),
      });
      try {
        const event = await receive(request);
        const { tractorId, part, quantity, deliverTo } = event.data;
        const order = {
          orderNo: `PO-${orders.length + 1}`,
          eventId: event.id,
          sku: part.sku,
          description: part.name,
          quantity,
          shipTo: `${deliverTo.farm} (${deliverTo.lat}, ${deliverTo.lon})`,
          forTractor: tractorId,
        };
        orders.push(order);
        res.writeHead(204).end();
        onOrder(order);
      } catch (err) {
        res.writeHead(err.status ?? 500, { "content-type": "text/plain" }).end(String(err.message));
      }
    });
  });
  return { server, orders };
}

/** Runs the example: two readings, one over the limit. Resolves with what was sent and ordered. */
export async function runExample() {
  let ordered;
  const firstOrder = new Promise((resolve) => {
    ordered = resolve;
  });
  const ordering = startOrdering((order) => ordered(order));
  await new Promise((ok) => ordering.server.listen(0, "127.0.0.1", ok));
  const orderingUrl = `http://127.0.0.1:${ordering.server.address().port}`;

  const gateway = spawn(
    process.execPath,
    [herald, "serve", "--config", "herald.yaml", "--no-auth"],
    {
      cwd: here,
      env: { ...process.env, ORDERING_URL: orderingUrl, HERALD_LOG_LEVEL: "error" },
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
    const tractor = { id: "tractor-7", location: { farm: "Hof Lindenau", lat: 52.41, lon: 9.73 } };
    const producer = createProducer({
      endpoint: `${url}/events`,
      source: `/tractors/${tractor.id}`,
      // Node's keep-alive transport: a sensor fleet sends many small events.
      fetch: createNodeFetch(),
    });
    const part = { sku: "HX-2210", name: "hydraulic filter" };
    const fine = await onReading(producer, tractor, {
      part,
      wear: 0.42,
      at: "2026-05-01T08:00:00Z",
    });
    const worn = await onReading(producer, tractor, {
      part,
      wear: 0.91,
      at: "2026-05-01T09:00:00Z",
    });
    const order = await firstOrder;
    return { fine, worn, order, orders: ordering.orders };
  } finally {
    gateway.kill("SIGTERM");
    await new Promise((ok) => gateway.once("exit", ok));
    ordering.server.closeAllConnections();
    await new Promise((ok) => ordering.server.close(ok));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { worn, order } = await runExample();
  console.log(`sensor: wear 0.42 -> nothing sent; wear 0.91 -> ${partOrdered.type} ${worn.id}`);
  console.log(`ordering service, from the event alone: ${JSON.stringify(order)}`);
}
