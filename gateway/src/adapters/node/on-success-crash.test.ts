import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordingSink, startRecordingSink } from "../../../test/support/recording-sink.js";
import { spawnHerald } from "../../../test/support/spawn-herald.js";
import { waitUntil } from "../../../test/support/wait-until.js";

// Replies and receipts are at-least-once like deliveries: a gateway killed (SIGKILL) after the
// sink took the event but before the reply was ingested delivers again after a restart, and the
// reply and the receipt then arrive. The built CLI on the SQLite store, as users run it.

let dir: string;
let accounting: RecordingSink;
let receipts: RecordingSink;
let billing: Server;
let billingUrl: string;
/** Requests to the billing sink; the first is held (never answered) until the gateway is dead. */
const billed: { req: IncomingMessage; res: ServerResponse }[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-on-success-"));
  accounting = await startRecordingSink();
  receipts = await startRecordingSink();
  billing = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      billed.push({ req, res });
      if (billed.length === 1) return; // held: the gateway dies waiting for the answer
      res
        .writeHead(200, {
          "ce-specversion": "1.0",
          "ce-id": "invoice-1",
          "ce-source": "/billing",
          "ce-type": "com.example.invoice",
        })
        .end();
    });
  });
  billing.listen(0, "127.0.0.1");
  await once(billing, "listening");
  billingUrl = `http://127.0.0.1:${(billing.address() as AddressInfo).port}/bill`;
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  billing.closeAllConnections();
  billing.close();
  await accounting.close();
  await receipts.close();
  await rm(dir, { recursive: true, force: true });
});

const start = () => spawnHerald({ config: "herald.yaml", cwd: dir, children });

describe("replies and receipts across a SIGKILL (SQLite store)", () => {
  it("delivers again after the restart, and the reply and the receipt arrive", async () => {
    await writeFile(
      join(dir, "herald.yaml"),
      [
        "store: { kind: sqlite, path: .herald/herald.db }",
        "subscriptions:",
        "  - id: billing",
        "    types: [com.example.order]",
        `    sink: ${billingUrl}`,
        "    delivery: { reply: { sources: [/billing] }, receipts: true, timeout: 30s }",
        "  - id: accounting",
        "    types: [com.example.invoice]",
        `    sink: ${accounting.url}/invoices`,
        "  - id: billing-receipts",
        "    source: /herald/subscriptions/billing",
        `    sink: ${receipts.url}/receipts`,
      ].join("\n"),
    );
    const first = await start();
    const res = await fetch(`${first.url}/events`, {
      method: "POST",
      headers: {
        "ce-specversion": "1.0",
        "ce-id": "order-1",
        "ce-source": "/shop",
        "ce-type": "com.example.order",
      },
    });
    expect(res.status).toBe(202);
    // The sink has the order; the gateway is killed before it hears the answer.
    await waitUntil(() => billed.length === 1, {
      what: "the first delivery",
      timeoutMs: 15_000,
      everyMs: 20,
    });
    first.child.kill("SIGKILL");
    await once(first.child, "exit");
    billed[0]?.res.destroy();
    expect(accounting.received).toHaveLength(0);
    expect(receipts.received).toHaveLength(0);

    const second = await start();
    await waitUntil(() => accounting.received.length >= 1, {
      what: "the reply at accounting",
      timeoutMs: 15_000,
      everyMs: 20,
    });
    await waitUntil(() => receipts.received.length >= 1, {
      what: "the receipt",
      timeoutMs: 15_000,
      everyMs: 20,
    });
    second.child.kill("SIGTERM");
    await once(second.child, "exit");

    expect(billed.map((b) => b.req.headers["ce-id"])).toStrictEqual(["order-1", "order-1"]);
    expect(billed[1]?.req.headers.prefer).toBe("reply");
    expect(accounting.received).toHaveLength(1);
    expect(accounting.received[0]?.headers).toMatchObject({
      "ce-id": "invoice-1",
      "ce-causationid": "order-1",
      "ce-authid": "subscription:billing",
    });
    expect(receipts.received).toHaveLength(1);
    expect(receipts.received[0]?.headers["ce-type"]).toBe("dev.herald.delivery.succeeded");
    expect(JSON.parse(String(receipts.received[0]?.body))).toMatchObject({
      event: { id: "order-1" },
      status: 200,
    });
  });
});
