import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { hasNatsServer, startNatsServer } from "../../../test/support/nats-server.js";
import {
  type Received,
  type RecordingSink,
  startRecordingSink,
} from "../../../test/support/recording-sink.js";
import { type ServedInTempDir, serveInTempDir } from "../../../test/support/serve-in-temp-dir.js";
import { waitUntil } from "../../../test/support/wait-until.js";

// A sink that refuses the webhook handshake (http-webhook.md 4.2) with a 200 said "OK" in
// heralderrorcode and the dead set: a refusal has no failure status to show there, so it is 0
// (DESIGN.md: "HTTP status, 0 for network or timeout") and heralderrordata says why; a refusal
// with a failure status (405: no OPTIONS) keeps it. Over HTTP, `herald serve` on each store (NATS
// when nats-server is installed): the dispatcher decides the code, the stores keep it.

let nats: Awaited<ReturnType<typeof startNatsServer>> | undefined;
beforeAll(async () => {
  if (hasNatsServer()) nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.close();
});
let streams = 0;

function storeConfig(store: string): Record<string, unknown> {
  if (store === "sqlite") return { kind: "sqlite", path: "h.db" };
  // A stream per gateway: each test's dead set starts empty.
  if (store === "nats") return { kind: "nats", url: nats?.url, stream: `handshake${++streams}` };
  return { kind: "memory" };
}

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

/** A real sink on 127.0.0.1 answering OPTIONS with `onOptions`; POSTs (never sent) get 204. */
async function refusingSink(onOptions: (res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => (req.method === "OPTIONS" ? onOptions(res) : res.writeHead(204).end()));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  cleanup.push(
    () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

async function start(
  store: string,
  sink: string,
  dlq: RecordingSink,
  timeout = "5s",
): Promise<ServedInTempDir> {
  const delivery = { handshake: true, retry: 0, timeout };
  const config = {
    store: storeConfig(store),
    subscriptions: [
      { id: "lettered", sink, delivery: { ...delivery, deadLetterSink: `${dlq.url}/dlq` } },
      { id: "kept", sink, delivery },
    ],
  };
  const served = await serveInTempDir(JSON.stringify(config), "herald-handshake-");
  cleanup.push(() => served.close());
  return served;
}

async function publish(url: string, id: string) {
  const res = await fetch(`${url}/events`, {
    method: "POST",
    headers: { "ce-specversion": "1.0", "ce-id": id, "ce-source": "/t", "ce-type": "t" },
  });
  expect(res.status).toBe(202);
}

/** The dead-letter event's attributes, from its binary-mode headers (values percent-decoded). */
function attributes(letter: Received | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(letter?.headers ?? {})) {
    if (name.startsWith("ce-")) out[name.slice(3)] = decodeURIComponent(String(value));
  }
  return out;
}

interface DeadItem {
  readonly attempts: number;
  readonly failure: { readonly status: number; readonly error: string };
}

async function deadItems(url: string): Promise<DeadItem[]> {
  let items: DeadItem[] = [];
  await waitUntil(async () => {
    const res = await fetch(`${url}/subscriptions/kept/dead`);
    items = ((await res.json()) as { items: DeadItem[] }).items;
    return items.length > 0;
  });
  return items;
}

describe.each(["memory", "sqlite", ...(hasNatsServer() ? ["nats"] : [])])(
  "a refused webhook handshake, %s store",
  (store) => {
    it("200 without WebHook-Allowed-Origin: heralderrorcode 0 and the dead set's status 0, the text says why", async () => {
      const dlq = await startRecordingSink(204);
      cleanup.push(() => dlq.close());
      const sink = await refusingSink((res) => res.writeHead(200, { allow: "POST" }).end());
      const { server } = await start(store, sink, dlq);
      await publish(server.url, "e1");
      const [letter] = await dlq.waitFor(1);
      const why = "webhook handshake refused: status 200 without WebHook-Allowed-Origin";
      expect(attributes(letter)).toMatchObject({
        id: "e1",
        heralderrordest: sink,
        heralderrorcode: "0",
        heralderrordata: why,
        heraldattempts: "1",
      });
      const [item] = await deadItems(server.url);
      expect(item).toMatchObject({ attempts: 1, failure: { status: 0, error: why } });
    });

    it("200 naming another origin: 0, and the text names it", async () => {
      const dlq = await startRecordingSink(204);
      cleanup.push(() => dlq.close());
      const sink = await refusingSink((res) =>
        res.writeHead(200, { "webhook-allowed-origin": "someone.else" }).end(),
      );
      const { server } = await start(store, sink, dlq);
      await publish(server.url, "e2");
      const [letter] = await dlq.waitFor(1);
      expect(attributes(letter).heralderrorcode).toBe("0");
      expect(attributes(letter).heralderrordata).toMatch(
        /^webhook handshake refused: status 200 with WebHook-Allowed-Origin "someone\.else", which does not allow /,
      );
      const [item] = await deadItems(server.url);
      expect(item?.failure.status).toBe(0);
    });

    it("200 with an odd WebHook-Allowed-Rate: 0, and the text names the value", async () => {
      const dlq = await startRecordingSink(204);
      cleanup.push(() => dlq.close());
      const sink = await refusingSink((res) =>
        res.writeHead(200, { "webhook-allowed-origin": "*", "webhook-allowed-rate": "1.5" }).end(),
      );
      const { server } = await start(store, sink, dlq);
      await publish(server.url, "e3");
      const [letter] = await dlq.waitFor(1);
      expect(attributes(letter).heralderrorcode).toBe("0");
      expect(attributes(letter).heralderrordata).toBe(
        'webhook handshake refused: status 200 with an invalid WebHook-Allowed-Rate "1.5" (a positive integer or *)',
      );
      expect((await deadItems(server.url))[0]?.failure.status).toBe(0);
    });

    it("405 (the sink takes no OPTIONS): the 405 is kept", async () => {
      const dlq = await startRecordingSink(204);
      cleanup.push(() => dlq.close());
      const sink = await refusingSink((res) => res.writeHead(405, { allow: "POST" }).end());
      const { server } = await start(store, sink, dlq);
      await publish(server.url, "e4");
      const [letter] = await dlq.waitFor(1);
      expect(attributes(letter)).toMatchObject({
        heralderrorcode: "405",
        heralderrordata: "webhook handshake refused: status 405 without WebHook-Allowed-Origin",
      });
      expect((await deadItems(server.url))[0]?.failure.status).toBe(405);
    });

    it("no answer within the timeout: 0, and the text says it timed out", async () => {
      const dlq = await startRecordingSink(204);
      cleanup.push(() => dlq.close());
      const sink = await refusingSink(() => {});
      const { server } = await start(store, sink, dlq, "300ms");
      await publish(server.url, "e5");
      const [letter] = await dlq.waitFor(1);
      expect(attributes(letter)).toMatchObject({
        heralderrorcode: "0",
        heralderrordata: "webhook handshake failed: timeout after 300ms",
      });
      expect((await deadItems(server.url))[0]?.failure.status).toBe(0);
    });
  },
);
