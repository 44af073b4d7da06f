import { HTTP } from "cloudevents";
import { afterEach, describe, expect, it } from "vitest";
import { type Received, startRecordingSink } from "../../test/support/recording-sink.js";
import { type Reply, startScriptedSink } from "../../test/support/scripted-sink.js";
import { verifyStandardWebhook } from "../../test/support/verify-standard-webhook.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { decodeHeaderValue } from "../ingest/header-value.js";
import type { Logger } from "../ports/logger.js";
import type { DeliverySettings, Subscription } from "../subscriptions/subscription.js";
import { DISABLED_OUTCOME } from "./delivery-outcome.js";
import type { DeliveryFailure, DeliveryJob } from "./delivery-queue.js";
import { createFetchSinkClient } from "./fetch-sink-client.js";
import { createHttpDeliverer } from "./http-deliverer.js";
import { createMemoryQueue } from "./memory-queue.js";
import { RETRY_AFTER_CAP_MS } from "./retry-policy.js";
import { createSettle, type OnGone } from "./settle.js";

// What settle asks of the queue, recorded (the store's own behaviour has its contract suite).
type QueueCall =
  | { readonly op: "complete"; readonly jobId: string }
  | {
      readonly op: "reschedule";
      readonly jobId: string;
      readonly dueAt: number;
      readonly failure: DeliveryFailure;
    }
  | { readonly op: "bury"; readonly jobId: string; readonly failure: DeliveryFailure };

function queueDouble() {
  const calls: QueueCall[] = [];
  return {
    calls,
    complete: async (jobId: string) => void calls.push({ op: "complete", jobId }),
    reschedule: async (jobId: string, dueAt: number, failure: DeliveryFailure) =>
      void calls.push({ op: "reschedule", jobId, dueAt, failure }),
    bury: async (jobId: string, failure: DeliveryFailure) =>
      void calls.push({ op: "bury", jobId, failure }),
  };
}

function loggerDouble() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, message, fields });
  const logger: Logger = {
    debug: log("debug"),
    info: log("info"),
    warn: log("warn"),
    error: log("error"),
  };
  return { lines, logger };
}

const START = Date.UTC(2030, 0, 1, 0, 0, 0);
const SECRET_A = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SECRET_B = `whsec_${Buffer.from("the next secret, during rotation").toString("base64")}`;

/** Deliverer + settle over a real HTTP client, a fake clock, a fixed random and a queue double. */
function harness(
  options: {
    random?: number;
    onGone?: OnGone;
    retryDeadline?: (job: DeliveryJob) => number | undefined;
    cutShort?: () => boolean;
  } = {},
) {
  const clock = { time: START, now: () => clock.time };
  const queue = queueDouble();
  const { lines, logger } = loggerDouble();
  const deliverer = createHttpDeliverer({
    client: createFetchSinkClient((request) => fetch(request)),
    clock,
  });
  const settle = createSettle({
    queue,
    deliverer,
    logger,
    clock,
    random: () => options.random ?? 0.5,
    ...(options.cutShort ? { cutShort: options.cutShort } : {}),
    ...(options.onGone === undefined ? {} : { onGone: options.onGone }),
    ...(options.retryDeadline === undefined ? {} : { retryDeadline: options.retryDeadline }),
  });

  /**
   * Attempts the jobs as a dispatcher would (one attempt per call: all of them as a batch in batch
   * mode), until settle completes or buries them; after each reschedule the clock moves to the
   * due time and the attempt count goes up, as a lease of the queue would hand them out.
   */
  async function run(jobs: DeliveryJob[], subscription: Subscription) {
    let current = jobs;
    for (let round = 0; round < 20; round++) {
      const batches =
        subscription.delivery.mode === "batch" ? [current] : current.map((job) => [job]);
      for (const batch of batches) {
        const attempt = { id: (batch[0] as DeliveryJob).id, events: batch.map((j) => j.event) };
        await settle(batch, await deliverer.deliver(attempt, subscription), subscription);
      }
      const rescheduled = queue.calls
        .slice(-current.length)
        .filter((call) => call.op === "reschedule");
      if (rescheduled.length === 0) return;
      clock.time = Math.max(...rescheduled.map((call) => call.dueAt));
      current = current.map((job) => ({ ...job, attempts: job.attempts + 1 }));
    }
    throw new Error("still retrying after 20 rounds");
  }
  return { clock, queue, lines, run, settle, deliverer };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function scripted(script: Reply[]) {
  const sink = await startScriptedSink(script);
  closers.push(sink.close);
  return sink;
}
async function recording(status = 204) {
  const sink = await startRecordingSink(status);
  closers.push(sink.close);
  return sink;
}

const subscription = (sink: string, delivery: Partial<DeliverySettings> = {}): Subscription => ({
  id: "sub-1",
  filters: [],
  sink,
  protocol: "HTTP",
  protocolsettings: { headers: {} },
  delivery: {
    mode: "binary",
    timeoutMs: 2_000,
    retry: 3,
    backoffPolicy: "exponential",
    backoffDelayMs: 100,
    backoffMaxMs: 10_000,
    ...delivery,
  },
});

const eventNumber = (n: number): CloudEvent => ({
  attributes: {
    specversion: "1.0",
    id: `evt-${n}`,
    source: "/orders",
    type: "com.example.order.created",
    datacontenttype: "application/json",
  },
  data: { kind: "json", value: { n }, text: `{"n": ${n}}` },
});
const job = (n = 1, attempts = 0): DeliveryJob => ({
  id: `job-${n}`,
  subscriptionId: "sub-1",
  event: eventNumber(n),
  attempts,
});

/** Epoch delays between the failures and the due times settle chose. */
const delays = (calls: readonly QueueCall[]) =>
  calls.flatMap((call) => (call.op === "reschedule" ? [call.dueAt - call.failure.at] : []));

/** The binary-mode ce- headers of a request, decoded, as attributes. */
function binaryAttributes(request: Received): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!name.startsWith("ce-") || typeof value !== "string") continue;
    const decoded = decodeHeaderValue(value);
    if (decoded.ok) attributes[name.slice(3)] = decoded.value;
  }
  return attributes;
}

describe("settle: retries", () => {
  it("delivers to a flaky sink (503, 503, 200) on the third attempt after jittered backoff", async () => {
    const sink = await scripted([
      { status: 503 },
      { status: 503, body: "still down" },
      { status: 200 },
    ]);
    const { queue, lines, run } = harness({ random: 0.5 });
    await run([job()], subscription(sink.url));
    expect(sink.received).toHaveLength(3);
    expect(queue.calls.map((call) => call.op)).toEqual(["reschedule", "reschedule", "complete"]);
    // Full jitter with random 0.5: half of 100 * 2^0, then half of 100 * 2^1.
    expect(delays(queue.calls)).toEqual([50, 100]);
    expect(queue.calls[1]).toMatchObject({ failure: { status: 503, error: "still down" } });
    expect(lines).toEqual([]);
  });

  it("uses the linear policy when asked", async () => {
    const sink = await scripted([
      { status: 500 },
      { status: 500 },
      { status: 500 },
      { status: 204 },
    ]);
    const { queue, run } = harness({ random: 0.5 });
    await run([job()], subscription(sink.url, { backoffPolicy: "linear" }));
    expect(delays(queue.calls)).toEqual([50, 100, 150]);
  });

  it.each([
    ["delta-seconds", "7", 7_000],
    ["an HTTP-date", "Tue, 01 Jan 2030 00:02:00 GMT", 120_000],
    ["a huge value (capped at an hour)", "999999999", RETRY_AFTER_CAP_MS],
  ])("obeys a 429's Retry-After given as %s", async (_, retryAfter, expected) => {
    const sink = await scripted([
      { status: 429, headers: { "retry-after": retryAfter } },
      { status: 200 },
    ]);
    const { queue, run } = harness({ random: 0.5 });
    await run([job()], subscription(sink.url));
    expect(delays(queue.calls)).toEqual([expected]);
    expect(queue.calls.at(-1)).toEqual({ op: "complete", jobId: "job-1" });
  });

  it("retries a sink slower than the timeout with status 0", async () => {
    const sink = await scripted([{ status: 200, hang: true }, { status: 200 }]);
    const { queue, run } = harness();
    // Long enough that the second answer, sent at once, is never late on a busy machine too.
    await run([job()], subscription(sink.url, { timeoutMs: 1_000 }));
    expect(queue.calls).toEqual([
      {
        op: "reschedule",
        jobId: "job-1",
        dueAt: START + 50,
        failure: { status: 0, error: "timeout after 1000ms", at: START },
      },
      { op: "complete", jobId: "job-1" },
    ]);
  });
});

describe("settle: after a shutdown cut the attempts short", () => {
  it("leaves a failed attempt's job leased: no retry counted, nothing dead", async () => {
    const sink = await scripted([{ status: 503 }]);
    const { queue, lines, settle, deliverer } = harness({ cutShort: () => true });
    const sub = subscription(sink.url, { retry: 0 });
    const outcome = await deliverer.deliver({ id: "job-1", events: [job().event] }, sub);
    await settle([job()], outcome, sub);
    expect(queue.calls).toEqual([]);
    expect(lines.map((l) => l.message)).toEqual([
      "the shutdown cut a delivery short; the job stays leased",
    ]);
  });

  it("still settles what the sink answered for good: a 400 is dead-lettered", async () => {
    const sink = await scripted([{ status: 400 }]);
    const { queue, settle, deliverer } = harness({ cutShort: () => true });
    const sub = subscription(sink.url);
    const outcome = await deliverer.deliver({ id: "job-1", events: [job().event] }, sub);
    await settle([job()], outcome, sub);
    expect(queue.calls.map((c) => c.op)).toEqual(["bury"]);
  });
});

describe("settle: dead-lettering", () => {
  it("sends a permanent 400 to the dead-letter sink at once", async () => {
    const sink = await scripted([{ status: 400, body: "schema mismatch" }]);
    const dlq = await recording(202);
    const { queue, lines, run } = harness();
    await run([job()], subscription(sink.url, { deadLetterSink: dlq.url }));
    expect(sink.received).toHaveLength(1);
    expect(dlq.received).toHaveLength(1);
    expect(binaryAttributes(dlq.received[0] as Received)).toMatchObject({
      id: "evt-1",
      heralderrordest: sink.url,
      heralderrorcode: "400",
      heralderrordata: "schema mismatch",
      heraldattempts: "1",
    });
    expect(queue.calls).toEqual([{ op: "complete", jobId: "job-1" }]);
    expect(lines).toEqual([
      {
        level: "warn",
        message: "delivery failed; sent to the dead-letter sink",
        fields: {
          subscriptionId: "sub-1",
          sink: sink.url,
          deadLetterSink: new URL(dlq.url).href,
          source: "/orders",
          id: "evt-1",
          status: 400,
          attempts: 1,
          error: "schema mismatch",
        },
      },
    ]);
  });

  it("names the sink that failed in the log line, without its query", async () => {
    const sink = await scripted([{ status: 404, body: "no such route" }]);
    const { lines, run } = harness();
    await run([job()], subscription(`${sink.url}?code=s3cret-code`, { retry: 0 }));
    expect(lines).toEqual([
      expect.objectContaining({
        level: "error",
        message: "delivery failed; kept as dead",
        fields: expect.objectContaining({ subscriptionId: "sub-1", sink: sink.url, status: 404 }),
      }),
    ]);
    expect(lines[0]?.fields).not.toHaveProperty("deadLetterSink");
    expect(JSON.stringify(lines)).not.toContain("s3cret-code");
  });

  it("dead-letters after retry + 1 attempts of an always-500 sink, in binary mode", async () => {
    const sink = await scripted([{ status: 500, body: "database is down" }]);
    const dlq = await recording(204);
    const { queue, run } = harness();
    await run([job()], subscription(sink.url, { retry: 2, deadLetterSink: dlq.url }));
    expect(sink.received).toHaveLength(3);
    expect(queue.calls.map((call) => call.op)).toEqual(["reschedule", "reschedule", "complete"]);
    const [request] = dlq.received as [Received];
    expect(binaryAttributes(request)).toEqual({
      specversion: "1.0",
      id: "evt-1",
      source: "/orders",
      type: "com.example.order.created",
      heralderrordest: sink.url,
      heralderrorcode: "500",
      heralderrordata: "database is down",
      heraldattempts: "3",
    });
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.body.toString()).toBe('{"n": 1}');
    // The cloudevents SDK reads the extensions back.
    const parsed = HTTP.toEvent({ headers: request.headers, body: request.body.toString() });
    expect(parsed).toMatchObject({ heralderrorcode: "500", heraldattempts: "3" });
  });

  it("dead-letters after retry + 1 attempts in structured mode, Integers as JSON numbers", async () => {
    const sink = await scripted([{ status: 503 }]);
    const dlq = await recording(200);
    const { queue, run } = harness();
    await run(
      [job()],
      subscription(sink.url, { mode: "structured", retry: 1, deadLetterSink: dlq.url }),
    );
    expect(sink.received).toHaveLength(2);
    expect(queue.calls.at(-1)).toEqual({ op: "complete", jobId: "job-1" });
    const [request] = dlq.received as [Received];
    expect(JSON.parse(request.body.toString())).toEqual({
      specversion: "1.0",
      id: "evt-1",
      source: "/orders",
      type: "com.example.order.created",
      datacontenttype: "application/json",
      heralderrordest: sink.url,
      heralderrorcode: 503,
      heralderrordata: "HTTP 503",
      heraldattempts: 2,
      data: { n: 1 },
    });
  });

  it("gives heralderrorcode 0 to a sink that timed out on its last attempt", async () => {
    const sink = await scripted([{ status: 200, hang: true }]);
    const dlq = await recording(200);
    const { run } = harness();
    await run(
      [job()],
      subscription(sink.url, { timeoutMs: 100, retry: 0, deadLetterSink: dlq.url }),
    );
    expect(binaryAttributes(dlq.received[0] as Received)).toMatchObject({
      heralderrorcode: "0",
      heralderrordata: "timeout after 100ms",
      heraldattempts: "1",
    });
  });

  it("keeps heralderrordata within 1024 bytes of UTF-8", async () => {
    const sink = await scripted([{ status: 422, body: `x${"é".repeat(3_000)}` }]);
    const dlq = await recording(200);
    const { run } = harness();
    await run([job()], subscription(sink.url, { mode: "structured", deadLetterSink: dlq.url }));
    const data = JSON.parse((dlq.received[0] as Received).body.toString())
      .heralderrordata as string;
    expect(data).toBe(`x${"é".repeat(511)}`);
    expect(Buffer.byteLength(data)).toBe(1023);
  });

  it("ends a job at once when its retry would be due after its retryDeadline (a queue that forgets it)", async () => {
    const sink = await scripted([{ status: 503, body: "busy", headers: { "retry-after": "600" } }]);
    // Due by then: a retry 600 s away is not, so the job is buried now, saying why.
    const { queue, run } = harness({ retryDeadline: () => START + 60_000 });
    await run([job(1, 0)], subscription(sink.url, { retry: 5 }));
    expect(queue.calls).toEqual([
      {
        op: "bury",
        jobId: "job-1",
        failure: {
          status: 503,
          error:
            "busy (not retried: the delivery queue would drop the message before its next attempt)",
          at: START,
        },
      },
    ]);
  });

  it("buries the job with the failure when there is no dead-letter sink", async () => {
    const sink = await scripted([{ status: 404, body: "no such hook" }]);
    const { queue, lines, run } = harness();
    await run([job(1, 2)], subscription(sink.url));
    expect(queue.calls).toEqual([
      { op: "bury", jobId: "job-1", failure: { status: 404, error: "no such hook", at: START } },
    ]);
    expect(lines).toEqual([
      expect.objectContaining({
        level: "error",
        message: "delivery failed; kept as dead",
        fields: expect.objectContaining({ id: "evt-1", status: 404, attempts: 3 }),
      }),
    ]);
  });

  it("buries the job with the sink's failure when the dead-letter sink is down too", async () => {
    const sink = await scripted([{ status: 500, body: "boom" }]);
    const dlq = await scripted([{ status: 503, body: "dlq down" }]);
    const closed = await scripted([{ status: 200 }]);
    await closed.close();
    const { queue, lines, run } = harness();
    await run([job(1)], subscription(sink.url, { retry: 0, deadLetterSink: dlq.url }));
    await run([job(2)], subscription(sink.url, { retry: 0, deadLetterSink: closed.url }));
    expect(dlq.received).toHaveLength(1);
    const [first, second] = queue.calls;
    expect(first).toEqual({
      op: "bury",
      jobId: "job-1",
      failure: { status: 500, error: "boom (dead-letter sink: HTTP 503: dlq down)", at: START },
    });
    expect(second).toMatchObject({ op: "bury", jobId: "job-2", failure: { status: 500 } });
    expect((second as { failure: DeliveryFailure }).failure.error).toMatch(
      /^boom \(dead-letter sink: fetch failed.*ECONNREFUSED/,
    );
    expect(lines.map((line) => line.level)).toEqual(["error", "error"]);
  });

  it("never lets a secret the sink echoes reach the logs, the dead set or the dead-letter event", async () => {
    const token = "Bearer tok-1234567890";
    const sink = await scripted([{ status: 401, body: `bad authorization: ${token}` }]);
    const dlq = await recording(200);
    const { queue, lines, run } = harness();
    const sub = subscription(sink.url, { retry: 0, deadLetterSink: dlq.url });
    await run([job()], { ...sub, protocolsettings: { headers: { authorization: token } } });
    // The dead-letter sink has another origin: the sink's own headers stay with the sink.
    expect(dlq.received[0]?.headers.authorization).toBeUndefined();
    const seen = JSON.stringify({ calls: queue.calls, lines, dlq: dlq.received });
    expect(seen).not.toContain("tok-1234567890");
    expect(binaryAttributes(dlq.received[0] as Received).heralderrordata).toBe(
      "bad authorization: [redacted]",
    );
  });

  it("sends the sink's protocolsettings headers to a dead-letter sink of the same origin only", async () => {
    const token = "Bearer tok-1234567890";
    const sink = await scripted([{ status: 400 }, { status: 200 }]);
    const { queue, run } = harness();
    const sub = subscription(sink.url, { deadLetterSink: `${sink.url}/dead` });
    await run([job()], { ...sub, protocolsettings: { headers: { authorization: token } } });
    expect(sink.received.map((r) => [r.path, r.headers.authorization])).toEqual([
      ["/hook", token],
      ["/hook/dead", token],
    ]);
    expect(queue.calls).toEqual([{ op: "complete", jobId: "job-1" }]);
  });
});

describe("settle: 410 Gone", () => {
  it("dead-letters at once and reports the subscription gone", async () => {
    const sink = await scripted([{ status: 410, body: "hook removed" }]);
    const dlq = await recording(200);
    const gone: [string, string, string][] = [];
    const { queue, run } = harness({
      onGone: (attempted, reason) => void gone.push([attempted.id, reason, attempted.sink]),
    });
    await run([job()], subscription(sink.url, { deadLetterSink: dlq.url }));
    expect(sink.received).toHaveLength(1);
    expect(dlq.received).toHaveLength(1);
    expect(queue.calls).toEqual([{ op: "complete", jobId: "job-1" }]);
    // With the sink that answered: an update may have given the subscription another meanwhile.
    expect(gone).toEqual([["sub-1", "sink answered 410 Gone: hook removed", sink.url]]);
  });

  it("reports the subscription gone before the dead-letter sink has answered", async () => {
    // Dead-lettering may take up to the timeout; deliveries queued meanwhile must find the
    // subscription disabled, not go on to the gone sink.
    const sink = await scripted([{ status: 410, body: "hook removed" }]);
    const dlq = await scripted([{ status: 200, hang: true }]);
    const gone: string[] = [];
    const { queue, settle, deliverer } = harness({ onGone: ({ id }) => void gone.push(id) });
    const sub = subscription(sink.url, { deadLetterSink: dlq.url, timeoutMs: 400 });
    const outcome = await deliverer.deliver({ id: "job-1", events: [job().event] }, sub);
    const settled = settle([job()], outcome, sub);
    await dlq.waitFor(1);
    expect(gone).toEqual(["sub-1"]);
    await settled;
    expect(queue.calls.map((call) => call.op)).toEqual(["bury"]);
  });

  it("does not report a job that was not sent because its subscription was disabled", async () => {
    const gone: string[] = [];
    const { queue, settle } = harness({ onGone: ({ id }) => void gone.push(id) });
    // An update may have enabled the subscription while this job was ending: only a sink's own
    // 410 may disable it again.
    await settle([job()], DISABLED_OUTCOME, subscription("http://127.0.0.1:9/never"));
    expect(gone).toEqual([]);
    expect(queue.calls.map((call) => call.op)).toEqual(["bury"]);
  });

  it("does not report a 410 from the dead-letter sink", async () => {
    const sink = await scripted([{ status: 400 }]);
    const dlq = await scripted([{ status: 410 }]);
    const gone: string[] = [];
    const { queue, run } = harness({ onGone: ({ id }) => void gone.push(id) });
    await run([job()], subscription(sink.url, { deadLetterSink: dlq.url }));
    expect(gone).toEqual([]);
    expect(queue.calls.map((call) => call.op)).toEqual(["bury"]);
  });
});

describe("settle: batch mode", () => {
  it("sends the batch as application/cloudevents-batch+json, in order, and completes every job", async () => {
    const sink = await scripted([{ status: 503 }, { status: 200 }]);
    const { queue, run } = harness();
    await run([job(1), job(2), job(3)], subscription(sink.url, { mode: "batch" }));
    expect(sink.received).toHaveLength(2);
    const request = sink.received[1] as Received;
    expect(request.headers["content-type"]).toBe(
      "application/cloudevents-batch+json; charset=utf-8",
    );
    expect(request.body.toString()).toContain('"data":{"n": 2}');
    const parsed = HTTP.toEvent({ headers: request.headers, body: request.body.toString() });
    expect(Array.isArray(parsed)).toBe(true);
    expect((parsed as { id: string; data: unknown }[]).map((e) => [e.id, e.data])).toEqual([
      ["evt-1", { n: 1 }],
      ["evt-2", { n: 2 }],
      ["evt-3", { n: 3 }],
    ]);
    // One draw for the whole attempt: the jobs stay due together.
    const rescheduled = queue.calls.filter((call) => call.op === "reschedule");
    expect(new Set(rescheduled.map((call) => call.dueAt)).size).toBe(1);
    expect(queue.calls.slice(3).map((call) => [call.op, call.jobId])).toEqual([
      ["complete", "job-1"],
      ["complete", "job-2"],
      ["complete", "job-3"],
    ]);
  });

  it("dead-letters a failed batch as one batch carrying each job's attempts", async () => {
    const sink = await scripted([{ status: 400, body: "bad batch" }]);
    const dlq = await recording(200);
    const { queue, run } = harness();
    await run(
      [job(1, 0), job(2, 3)],
      subscription(sink.url, { mode: "batch", deadLetterSink: dlq.url, signingSecret: SECRET_A }),
    );
    expect(dlq.received).toHaveLength(1);
    const request = dlq.received[0] as Received;
    // Another message than the one that failed: its own webhook-id.
    expect(request.headers["webhook-id"]).toMatch(/^msg_[A-Za-z0-9_-]{24}$/);
    expect(request.headers["webhook-id"]).not.toBe(sink.received[0]?.headers["webhook-id"]);
    expect(verifyStandardWebhook(request.headers, request.body, SECRET_A, START / 1000)).toBe(true);
    const events = JSON.parse(request.body.toString()) as Record<string, unknown>[];
    expect(
      events.map((e) => [e.id, e.heralderrorcode, e.heraldattempts, e.heralderrordata]),
    ).toEqual([
      ["evt-1", 400, 1, "bad batch"],
      ["evt-2", 400, 4, "bad batch"],
    ]);
    expect(queue.calls.map((call) => call.op)).toEqual(["complete", "complete"]);
  });
});

describe("signing (Standard Webhooks)", () => {
  it.each(["binary", "structured", "batch"] as const)(
    "signs every %s attempt so a reference receiver verifies it with either rotated secret, same webhook-id on retries",
    async (mode) => {
      const sink = await scripted([{ status: 503 }, { status: 500 }, { status: 204 }]);
      const { clock, run } = harness();
      await run(
        [job(7)],
        subscription(sink.url, { mode, signingSecret: `${SECRET_A} ${SECRET_B}` }),
      );
      expect(sink.received).toHaveLength(3);
      const [first] = sink.received;
      expect(first?.headers["webhook-id"]).toMatch(/^msg_/);
      expect(sink.received.map((r) => r.headers["webhook-id"])).toEqual([
        first?.headers["webhook-id"],
        first?.headers["webhook-id"],
        first?.headers["webhook-id"],
      ]);
      const stamps = sink.received.map((r) => Number(r.headers["webhook-timestamp"]));
      // The injected clock: each retry is signed when it is sent.
      expect(stamps[0]).toBe(START / 1000);
      expect(stamps[2]).toBe(Math.floor(clock.time / 1000));
      for (const [index, request] of sink.received.entries()) {
        const now = stamps[index] as number;
        expect(request.headers["webhook-signature"]).toMatch(/^v1,\S+ v1,\S+$/);
        expect(verifyStandardWebhook(request.headers, request.body, SECRET_A, now)).toBe(true);
        expect(verifyStandardWebhook(request.headers, request.body, SECRET_B, now)).toBe(true);
        const other = `whsec_${Buffer.from("some other secret").toString("base64")}`;
        expect(verifyStandardWebhook(request.headers, request.body, other, now)).toBe(false);
        const tampered = Buffer.concat([request.body, Buffer.from(" ")]);
        expect(verifyStandardWebhook(request.headers, tampered, SECRET_A, now)).toBe(false);
      }
    },
  );

  it("turns a malformed signing secret into a dead outcome that never reaches the sink", async () => {
    const sink = await scripted([{ status: 200 }]);
    const { queue, lines, run } = harness();
    await run([job()], subscription(sink.url, { signingSecret: "whsec_not*base64" }));
    expect(sink.received).toHaveLength(0);
    expect(queue.calls).toEqual([
      {
        op: "bury",
        jobId: "job-1",
        failure: {
          status: 0,
          error: "cannot build the request: signingSecret 1 of 1 is not whsec_ followed by base64",
          at: START,
        },
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain("not*base64");
  });
});

describe("settle with the memory queue", () => {
  it("retries through the queue, then keeps the job as dead with its failure for redrive", async () => {
    const sink = await scripted([
      { status: 503, body: "busy" },
      { status: 500, body: "broken" },
    ]);
    const clock = { time: START, now: () => clock.time };
    const queue = createMemoryQueue({ clock });
    const deliverer = createHttpDeliverer({
      client: createFetchSinkClient((r) => fetch(r)),
      clock,
    });
    const { logger } = loggerDouble();
    const settle = createSettle({ queue, deliverer, logger, clock, random: () => 0.5 });
    const sub = subscription(sink.url, { retry: 1 });
    await queue.accept([{ event: eventNumber(1), subscriptionIds: ["sub-1"] }]);
    const signal = new AbortController().signal;

    const [first] = await queue.lease(10, 30_000, signal);
    expect(first?.attempts).toBe(0);
    await settle(
      [first as DeliveryJob],
      await deliverer.deliver({ id: "a", events: [eventNumber(1)] }, sub),
      sub,
    );
    // Due again after the jittered backoff (half of 100 ms): move the clock there.
    clock.time += 50;
    const [second] = await queue.lease(10, 30_000, signal);
    expect(second).toMatchObject({
      id: first?.id,
      attempts: 1,
      lastFailure: { status: 503, error: "busy" },
    });
    await settle(
      [second as DeliveryJob],
      await deliverer.deliver({ id: "a", events: [eventNumber(1)] }, sub),
      sub,
    );

    expect(await queue.size()).toBe(0);
    const dead = await queue.dead("sub-1", { limit: 10 });
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      id: first?.id,
      attempts: 2,
      failure: { status: 500, error: "broken", at: START + 50 },
    });
  });
});
