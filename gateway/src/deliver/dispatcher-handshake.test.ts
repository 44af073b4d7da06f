import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  events,
  plainHttpDeliverer,
  recordingLogger,
  recordingSettle,
  subscription,
  turns,
} from "../../test/support/dispatcher-kit.js";
import { createFakeTime } from "../../test/support/fake-time.js";
import { createTestQueue } from "../../test/support/test-queue.js";
import { createNodeSinkClient } from "../adapters/node/node-sink-client.js";
import type { DeliverySettings } from "../subscriptions/subscription.js";
import type { GatewayMetrics } from "../telemetry/gateway-metrics.js";
import { createDispatcher } from "./dispatcher.js";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

interface Seen {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
}

/** A real sink on 127.0.0.1 whose OPTIONS answer is `onOptions`; POSTs get 204. */
async function startSink(onOptions: (res: ServerResponse, n: number) => void) {
  const seen: Seen[] = [];
  let options = 0;
  let waiters: { count: number; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      seen.push({ method: req.method ?? "", headers: req.headers });
      if (req.method === "OPTIONS") onOptions(res, options++);
      else res.writeHead(204).end();
      waiters = waiters.filter((w) => {
        if (seen.length < w.count) return true;
        w.resolve();
        return false;
      });
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  cleanup.push(
    () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    seen,
    methods: () => seen.map((s) => s.method),
    waitFor: (count: number) =>
      seen.length >= count
        ? Promise.resolve()
        : new Promise<void>((resolve) => waiters.push({ count, resolve })),
  };
}

function setup(
  sink: string,
  delivery: Partial<DeliverySettings> = {},
  withClient = true,
  logger = recordingLogger(),
  metrics?: Pick<GatewayMetrics, "attempt">,
) {
  const time = createFakeTime();
  const client = createNodeSinkClient();
  cleanup.push(() => client.close());
  const queue = createTestQueue(time.clock);
  const { settle, settled } = recordingSettle(queue);
  const sub = subscription("hooked", { handshake: true, ...delivery }, sink);
  const dispatcher = createDispatcher({
    queue,
    deliverer: plainHttpDeliverer(client),
    settle,
    subscriptions: (id) => (id === "hooked" ? sub : undefined),
    clock: time.clock,
    timers: time.timers,
    origin: "events.example.com",
    logger,
    ...(metrics ? { metrics } : {}),
    ...(withClient ? { sinkClient: client } : {}),
  });
  cleanup.push(() => dispatcher.stop({ deadlineMs: 1_000 }));
  return { time, queue, dispatcher, settled, logger };
}

describe("dispatcher webhook handshake (http-webhook.md 4)", () => {
  it("asks once with OPTIONS before the first delivery, then delivers", async () => {
    const sink = await startSink((res) =>
      res.writeHead(200, { "webhook-allowed-origin": "events.example.com", allow: "POST" }).end(),
    );
    const { time, queue, dispatcher, settled } = setup(sink.url, {
      rate: { count: 2, perMs: 1_000 },
    });
    await queue.add("hooked", ...events("e", 2));
    dispatcher.start();
    await sink.waitFor(3);
    await dispatcher.idle();
    expect(sink.methods()).toEqual(["OPTIONS", "POST", "POST"]);
    // 4.1.2 origin; 4.1.4 the subscription's own rate, in requests per minute.
    expect(sink.seen[0]?.headers).toMatchObject({
      "webhook-request-origin": "events.example.com",
      "webhook-request-rate": "120",
    });
    expect(settled.map((s) => s.outcome.kind)).toEqual(["delivered", "delivered"]);
    time.advance(1_000);
    await queue.add("hooked", ...events("later", 1));
    await dispatcher.idle();
    expect(sink.methods()).toEqual(["OPTIONS", "POST", "POST", "POST"]);
  });

  it("refused (no WebHook-Allowed-Origin, or another origin): retry with the status (0 for a 2xx), asking again next time", async () => {
    const sink = await startSink((res, n) => {
      if (n === 0) res.writeHead(405).end();
      else if (n === 1) res.writeHead(200, { "webhook-allowed-origin": "someone.else" }).end();
      else res.writeHead(200, { "webhook-allowed-origin": "*" }).end();
    });
    const { queue, dispatcher, settled } = setup(sink.url, { concurrency: 4 });
    // The test's settle completes even a retry; each job stands for the next attempt. Until a
    // grant, one attempt at a time asks (the others wait for its answer).
    await queue.add("hooked", ...events("a", 3));
    dispatcher.start();
    await dispatcher.idle();
    expect(settled.map((s) => [s.outcome.kind, s.outcome.status])).toEqual([
      ["retry", 405],
      // Refused by its header, the 200 is no status to show (heralderrorcode): 0.
      ["retry", 0],
      ["delivered", 204],
    ]);
    expect(settled[0]?.outcome).toMatchObject({
      error: "webhook handshake refused: status 405 without WebHook-Allowed-Origin",
    });
    expect(settled[1]?.outcome).toMatchObject({
      error:
        'webhook handshake refused: status 200 with WebHook-Allowed-Origin "someone.else", which does not allow "events.example.com"',
    });
    expect(sink.methods()).toEqual(["OPTIONS", "OPTIONS", "OPTIONS", "POST"]);
  });

  it("logs a refusal once, not once per attempt, until a handshake is allowed", async () => {
    const sink = await startSink((res, n) => {
      if (n < 3) res.writeHead(405).end();
      else res.writeHead(200, { "webhook-allowed-origin": "*" }).end();
    });
    const { time, queue, dispatcher, logger } = setup(`${sink.url}?code=s3cret`, {
      concurrency: 1,
    });
    // The test's settle completes even a retry: each job is one attempt, asking again.
    await queue.add("hooked", ...events("a", 2));
    dispatcher.start();
    await dispatcher.idle();
    // Quiet in between (as while a retry waits its backoff): the refusal is still not news.
    time.advance(60_000);
    await queue.add("hooked", ...events("b", 2));
    await dispatcher.idle();
    const refusals = () =>
      logger.lines.filter(
        (l) => l.message === "webhook handshake refused; the deliveries are retried",
      );
    expect(refusals()).toEqual([
      {
        level: "warn",
        message: "webhook handshake refused; the deliveries are retried",
        fields: {
          subscriptionId: "hooked",
          sink: sink.url,
          status: 405,
          error: "webhook handshake refused: status 405 without WebHook-Allowed-Origin",
        },
      },
    ]);
    expect(sink.methods()).toEqual(["OPTIONS", "OPTIONS", "OPTIONS", "OPTIONS", "POST"]);
    expect(JSON.stringify(logger.lines)).not.toContain("s3cret");
  });

  it("forgets a quiet lane's refusal once its subscription is gone: one added again logs it again", async () => {
    // A quiet lane that logged a refusal is kept while its subscription exists; one whose
    // subscription went later stayed in the dispatcher for good (a map keyed by id), and a
    // subscription of that id added again (a config reload) never logged its refusal.
    const sink = await startSink((res) => res.writeHead(405).end());
    const time = createFakeTime();
    const client = createNodeSinkClient();
    cleanup.push(() => client.close());
    const queue = createTestQueue(time.clock);
    const { settle } = recordingSettle(queue);
    const logger = recordingLogger();
    const sub = subscription("hooked", { handshake: true, concurrency: 1 }, sink.url);
    let present = true;
    const dispatcher = createDispatcher({
      queue,
      deliverer: plainHttpDeliverer(client),
      settle,
      subscriptions: (id) => (id === "hooked" && present ? sub : undefined),
      clock: time.clock,
      timers: time.timers,
      origin: "events.example.com",
      logger,
      sinkClient: client,
    });
    cleanup.push(() => dispatcher.stop({ deadlineMs: 1_000 }));
    const refusals = () =>
      logger.lines.filter(
        (l) => l.message === "webhook handshake refused; the deliveries are retried",
      );
    await queue.add("hooked", ...events("a", 1));
    dispatcher.start();
    await dispatcher.idle();
    expect(refusals()).toHaveLength(1);
    present = false;
    dispatcher.subscriptionsChanged();
    present = true;
    dispatcher.subscriptionsChanged();
    await queue.add("hooked", ...events("b", 1));
    await dispatcher.idle();
    expect(refusals()).toHaveLength(2);
  });

  it("counts a refused handshake as the job's attempt (herald_deliveries_total), retry or dead", async () => {
    const outcomes = async (retry: number) => {
      const sink = await startSink((res, n) => {
        if (n === 0) res.writeHead(405).end();
        else res.writeHead(200, { "webhook-allowed-origin": "*" }).end();
      });
      const attempts: [string, string, string][] = [];
      const metrics = {
        attempt: (id: string, target: string, outcome: string, seconds: number) => {
          expect(seconds).toBeGreaterThanOrEqual(0);
          attempts.push([id, target, outcome]);
        },
      };
      const { queue, dispatcher } = setup(
        sink.url,
        { concurrency: 1, retry },
        true,
        undefined,
        metrics,
      );
      await queue.add("hooked", ...events("a", 2));
      dispatcher.start();
      await dispatcher.idle();
      expect(sink.methods()).toEqual(["OPTIONS", "OPTIONS", "POST"]);
      return attempts;
    };
    // The POST the handshake then allowed is the deliverer's to count, not the dispatcher's.
    expect(await outcomes(2)).toEqual([["hooked", "sink", "retry"]]);
    // On the last attempt (no retry left) the refusal ends the job.
    expect(await outcomes(0)).toEqual([["hooked", "sink", "dead"]]);
  });

  it("refused with Retry-After (a busy or down sink): the retry and the sink wait as long as it asked", async () => {
    const sink = await startSink((res, n) => {
      if (n === 0) res.writeHead(429, { "retry-after": "120" }).end();
      else if (n === 1)
        res.writeHead(503, { "retry-after": "Thu, 01 Jan 2099 00:00:00 GMT" }).end();
      else res.writeHead(200, { "webhook-allowed-origin": "*" }).end();
    });
    const { time, queue, dispatcher, settled } = setup(sink.url);
    await queue.add("hooked", ...events("a", 3));
    dispatcher.start();
    await vi.waitFor(() => expect(settled).toHaveLength(1));
    expect(settled[0]?.outcome).toEqual({
      kind: "retry",
      status: 429,
      error: "webhook handshake refused: status 429 without WebHook-Allowed-Origin",
      retryAfterMs: 120_000,
    });
    await turns();
    expect(sink.methods()).toEqual(["OPTIONS"]);
    time.advance(120_000);
    await vi.waitFor(() => expect(settled).toHaveLength(2));
    expect(settled[1]?.outcome).toMatchObject({
      status: 503,
      retryAfterMs: Date.UTC(2099, 0, 1) - time.clock.now(),
    });
  });

  it("unreachable: retry with status 0", async () => {
    const sink = await startSink(() => {});
    const { queue, dispatcher, settled } = setup("http://127.0.0.1:1/hook");
    void sink;
    await queue.add("hooked", ...events("e", 1));
    dispatcher.start();
    await dispatcher.idle();
    expect(settled[0]?.outcome).toMatchObject({ kind: "retry", status: 0 });
    expect(String((settled[0]?.outcome as { error?: string } | undefined)?.error)).toMatch(
      /^webhook handshake failed: fetch failed/,
    );
  });

  it("obeys WebHook-Allowed-Rate as requests per minute", async () => {
    const sink = await startSink((res) =>
      res.writeHead(200, { "webhook-allowed-origin": "*", "webhook-allowed-rate": "2" }).end(),
    );
    const { time, queue, dispatcher } = setup(sink.url);
    await queue.add("hooked", ...events("e", 4));
    dispatcher.start();
    await sink.waitFor(3);
    await turns(20);
    // The grant's two a minute: the first attempt (which made the handshake) and one more.
    expect(sink.methods()).toEqual(["OPTIONS", "POST", "POST"]);
    time.advance(59_999);
    await turns(20);
    // Not one at 30 s, as a token bucket would: that made three in a minute.
    expect(sink.methods()).toHaveLength(3);
    time.advance(1);
    await sink.waitFor(5);
    await dispatcher.idle();
    expect(sink.methods()).toEqual(["OPTIONS", "POST", "POST", "POST", "POST"]);
  });

  it("without a sinkClient, a handshake subscription's attempts fail with a clear error", async () => {
    const { queue, dispatcher, settled } = setup("http://127.0.0.1:1/hook", {}, false);
    await queue.add("hooked", ...events("e", 1));
    dispatcher.start();
    await dispatcher.idle();
    expect(settled[0]?.outcome).toEqual({
      kind: "retry",
      status: 0,
      error: "webhook handshake required, but the dispatcher has no sinkClient to send it",
    });
  });
});
