import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The suite's source, not the package: @herald/conformance depends on @herald/gateway, so a
// dependency the other way would be a cycle.
import { conformanceConfig } from "../../../conformance/src/config/conformance-config.js";
import { formatReport } from "../../../conformance/src/report.js";
import { runConformance } from "../../../conformance/src/run-conformance.js";
import { type SinkServer, startSink } from "../../../conformance/src/sink/sink-server.js";
import { rawExchange } from "../support/raw-exchange.js";
import { startWranglerDev, type WranglerDev } from "./wrangler-dev.js";

interface Delivery {
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

/** A sink whose paths answer as scripted (`/fail*`: 503, else 204) and can be waited on. */
async function startScriptedSink() {
  const received = new Map<string, Delivery[]>();
  const waiters: { path: string; count: number; wake: () => void }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      const list = received.get(path) ?? [];
      list.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
      received.set(path, list);
      for (const w of waiters.filter((w) => w.path === path && list.length >= w.count)) w.wake();
      res.writeHead(path.startsWith("/fail") ? 503 : 204).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** The first `count` deliveries to `path`, once they arrived (at most 15 s). */
    deliveries(path: string, count = 1): Promise<Delivery[]> {
      const now = received.get(path) ?? [];
      if (now.length >= count) return Promise.resolve(now);
      return new Promise((ok, fail) => {
        const timer = setTimeout(
          () => fail(new Error(`no ${count} deliveries to ${path}`)),
          15_000,
        );
        waiters.push({
          path,
          count,
          wake: () => {
            clearTimeout(timer);
            ok(received.get(path) ?? []);
          },
        });
      });
    },
    count: (path: string) => received.get(path)?.length ?? 0,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

describe("the Worker under wrangler dev (workerd, local Queues and D1)", () => {
  let conformanceSink: SinkServer;
  let sink: Awaited<ReturnType<typeof startScriptedSink>>;
  let dev: WranglerDev;

  beforeAll(async () => {
    conformanceSink = await startSink();
    sink = await startScriptedSink();
    dev = await startWranglerDev(conformanceConfig(conformanceSink.url));
  }, 90_000);
  afterAll(async () => {
    await dev?.stop();
    await sink?.close();
    await conformanceSink?.close();
  });

  it("passes the whole conformance suite", { timeout: 300_000 }, async () => {
    const report = await runConformance({ url: dev.url }, { sink: conformanceSink });
    expect(report.failed, `${formatReport(report)}\n${dev.output()}`).toBe(0);
    expect(report.passed).toBeGreaterThan(100);
  });

  /** Creates an API subscription scoped to `source`. */
  async function subscribe(source: string, body: Record<string, unknown>): Promise<string> {
    const res = await fetch(`${dev.url}/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ source, ...body }),
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { id: string }).id;
  }

  async function publish(source: string, id: string): Promise<number> {
    const res = await fetch(`${dev.url}/events`, {
      method: "POST",
      headers: {
        "ce-specversion": "1.0",
        "ce-id": id,
        "ce-source": source,
        "ce-type": "com.example.e2e",
        "content-type": "application/json",
      },
      body: JSON.stringify({ id }),
    });
    return res.status;
  }

  it("delivers an accepted event to a sink on 127.0.0.1, once per source + id", {
    timeout: 30_000,
  }, async () => {
    await subscribe("/e2e/ok", { sink: `${sink.url}/ok`, delivery: { mode: "structured" } });
    expect(await publish("/e2e/ok", "e2e-1")).toBe(202);
    expect(await publish("/e2e/ok", "e2e-1")).toBe(202);
    expect(await publish("/e2e/ok", "e2e-2")).toBe(202);
    const [first, second] = await sink.deliveries("/ok", 2);
    expect(JSON.parse(first!.body)).toMatchObject({
      id: "e2e-1",
      source: "/e2e/ok",
      data: { id: "e2e-1" },
    });
    expect(JSON.parse(second!.body)).toMatchObject({ id: "e2e-2" });
    expect(first!.headers.traceparent).toMatch(/^00-/);
    expect(sink.count("/ok")).toBe(2);
  });

  it("reads header lines as Node does: whitespace around a value dropped, raw UTF-8 as UTF-8", {
    timeout: 30_000,
  }, async () => {
    await subscribe("/e2e/raw", { sink: `${sink.url}/raw`, delivery: { mode: "structured" } });
    // workerd keeps the trailing whitespace of a header line and decodes its bytes as UTF-8.
    const { hostname, port } = new URL(dev.url);
    const head = [
      "POST /events HTTP/1.1",
      `Host: ${hostname}:${port}`,
      "Connection: close",
      "ce-specversion: 1.0  ",
      "ce-id: e2e-raw ",
      "ce-source: /e2e/raw",
      "ce-type: com.example.e2e\t",
      "ce-subject: café",
      "content-type: application/json   ",
      "content-length: 2",
      "",
      "{}",
    ].join("\r\n");
    // Written as UTF-8, the way a client that does not encode would send `café`.
    const answer = await rawExchange(Number(port), head, { halfClose: true });
    expect(answer).toMatch(/^HTTP\/1\.1 202 /);
    const [delivery] = await sink.deliveries("/raw");
    expect(JSON.parse(delivery!.body)).toMatchObject({
      specversion: "1.0",
      id: "e2e-raw",
      type: "com.example.e2e",
      subject: "café",
      datacontenttype: "application/json",
    });
  });

  it("a body left unread on a request whose headers were normalized costs the next request nothing", {
    timeout: 30_000,
  }, async () => {
    // Found by the HTTP fuzz probe: a header with trailing whitespace (or a raw UTF-8 ce- value)
    // and a body the routes did not read (a 404 here) lost the connection's next request: 503
    // "Your worker restarted mid-request", at times 500 "Network connection lost".
    const { hostname, port } = new URL(dev.url);
    const body = "[".repeat(80_000);
    const send = (head: string, payload: string) =>
      rawExchange(Number(port), `${head}\r\n\r\n${payload}`, { halfClose: true });
    for (let i = 0; i < 4; i++) {
      const unread = await send(
        [
          "POST /nope HTTP/1.1",
          `Host: ${hostname}:${port}`,
          "Connection: close",
          "X-Padded: b ",
          `Content-Length: ${body.length}`,
        ].join("\r\n"),
        body,
      );
      expect(unread).toMatch(/^HTTP\/1\.1 404 /);
      expect(await publish("/e2e/unread", `e2e-unread-${i}`)).toBe(202);
    }
  });

  it("retries through the queue, then dead-letters with heralderror* attributes", {
    timeout: 30_000,
  }, async () => {
    await subscribe("/e2e/fail", {
      sink: `${sink.url}/fail`,
      delivery: { retry: 1, backoffDelay: "1s", deadLetterSink: `${sink.url}/dead` },
    });
    expect(await publish("/e2e/fail", "e2e-3")).toBe(202);
    const [dead] = await sink.deliveries("/dead");
    expect(sink.count("/fail")).toBe(2);
    expect(dead!.headers["ce-id"]).toBe("e2e-3");
    expect(dead!.headers["ce-heralderrorcode"]).toBe("503");
    expect(dead!.headers["ce-heraldattempts"]).toBe("2");
    expect(decodeURIComponent(String(dead!.headers["ce-heralderrordest"]))).toBe(
      `${sink.url}/fail`,
    );
  });

  it("without a dead-letter sink, keeps it as dead for GET /dead and redrive", {
    timeout: 30_000,
  }, async () => {
    const id = await subscribe("/e2e/kept", {
      sink: `${sink.url}/fail-kept`,
      delivery: { retry: 0 },
    });
    expect(await publish("/e2e/kept", "e2e-4")).toBe(202);
    await sink.deliveries("/fail-kept");
    let items: { event: { id: string }; failure: { status: number } }[] = [];
    for (let i = 0; i < 50 && items.length === 0; i++) {
      // The dead row is written right after the sink answered: poll the API, bounded.
      const res = await fetch(`${dev.url}/subscriptions/${id}/dead`);
      items = ((await res.json()) as { items: typeof items }).items;
      if (items.length === 0) await new Promise((ok) => setTimeout(ok, 100));
    }
    expect(items).toMatchObject([{ event: { id: "e2e-4" }, failure: { status: 503 } }]);
    const redrive = await fetch(`${dev.url}/subscriptions/${id}/redrive`, { method: "POST" });
    expect(await redrive.json()).toStrictEqual({ redriven: 1 });
    await sink.deliveries("/fail-kept", 2);
  });

  it("a job redriven through the queue that dies again is dead in its old place", {
    timeout: 30_000,
  }, async () => {
    const id = await subscribe("/e2e/again", {
      sink: `${sink.url}/fail-again`,
      delivery: { retry: 0 },
    });
    type Item = { jobId: string; event: { id: string }; failure: { at: string } };
    /** The dead page once `ready` holds for it (the row is written after the sink answered). */
    const deadWhen = async (ready: (items: Item[]) => boolean) => {
      let items: Item[] = [];
      for (let i = 0; i < 50; i++) {
        const res = await fetch(`${dev.url}/subscriptions/${id}/dead`);
        items = ((await res.json()) as { items: Item[] }).items;
        if (ready(items)) return items;
        await new Promise((ok) => setTimeout(ok, 100));
      }
      throw new Error(`dead set never ready: ${JSON.stringify(items)}`);
    };
    expect(await publish("/e2e/again", "e2e-5")).toBe(202);
    await sink.deliveries("/fail-again");
    expect(await publish("/e2e/again", "e2e-6")).toBe(202);
    const [first, second] = await deadWhen((items) => items.length === 2);
    expect([first?.event.id, second?.event.id]).toStrictEqual(["e2e-5", "e2e-6"]);
    const redrive = await fetch(`${dev.url}/subscriptions/${id}/redrive`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jobIds: [first!.jobId] }),
    });
    expect(await redrive.json()).toStrictEqual({ redriven: 1 });
    await sink.deliveries("/fail-again", 3);
    const again = await deadWhen(
      (items) => items.length === 2 && items[0]?.failure.at !== first?.failure.at,
    );
    // Its old place, under its jobId: first, not after e2e-6.
    expect(again.map((item) => item.jobId)).toStrictEqual([first!.jobId, second!.jobId]);
  });
});
