import { beforeEach, describe, expect, inject, it, vi } from "vitest";
import type { D1Database } from "../src/adapters/workers/cloudflare-bindings.js";
import type { DeliveryMessage } from "../src/adapters/workers/delivery-message.js";
import { decodeEvent } from "../src/store/event-codec.js";
import { binaryEvent, bindings, resetDatabase, scriptedSink, testWorker } from "./harness.js";

beforeEach(resetDatabase);

const SINK = "http://sink.test/events";
const DLS = "http://dead.test/letters";
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/** A worker whose subscription `s` has `delivery`, over a scripted sink. */
function setup(delivery: Record<string, unknown>, answer?: (request: Request) => Response) {
  const sink = scriptedSink(answer);
  const gw = testWorker(
    { subscriptions: [{ id: "s", sink: SINK, delivery }] },
    { fetch: sink.fetch },
  );
  return { gw, sink };
}

/** Publishes one event and returns its queue message. */
async function publish(gw: ReturnType<typeof testWorker>, id: string): Promise<DeliveryMessage> {
  expect((await gw.request("/events", binaryEvent(id))).status).toBe(202);
  const message = gw.queue.sent.find((m) => decodeEvent(m.event).attributes.id === id);
  expect(message).toBeDefined();
  return message!;
}

/** The message of event `id` queued for an API subscription that is deleted before it is consumed. */
async function queuedForDeleted(
  gw: ReturnType<typeof testWorker>,
  id: string,
): Promise<DeliveryMessage> {
  const created = await gw.request("/subscriptions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sink: SINK }),
  });
  const { id: subscription } = (await created.json()) as { id: string };
  const message = await publish(gw, id);
  expect((await gw.request(`/subscriptions/${subscription}`, { method: "DELETE" })).status).toBe(
    200,
  );
  return message;
}

describe("delivery from the queue consumer inside workerd", () => {
  it("delivers with the Node deliverer (binary mode, ce- headers, signed) and acks", async () => {
    const { gw, sink } = setup({ mode: "binary", signingSecret: SECRET });
    const message = await publish(gw, "d-1");
    const result = await gw.consume([message]);
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    expect(result.retryMessages).toStrictEqual([]);
    expect(sink.requests).toHaveLength(1);
    const [request] = sink.requests;
    expect(request!.url).toBe(SINK);
    expect(request!.headers.get("ce-id")).toBe("d-1");
    // A digest of the message, the same one Node computes (not the queue's job id).
    expect(request!.headers.get("webhook-id")).toMatch(/^msg_[A-Za-z0-9_-]{24}$/);
    expect(request!.headers.get("webhook-signature")).toMatch(/^v1,/);
    expect(request!.headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(JSON.parse(request!.body)).toStrictEqual({ orderId: "d-1" });
  });

  it("a message handed over again after it was acknowledged is acknowledged again, not delivered again", async () => {
    // wrangler dev's queue hands back a whole batch, acknowledged messages included, when workerd
    // counts the invocation as failed (a sink's TLS handshake failed under a request with a body).
    const { gw, sink } = setup({ mode: "binary" });
    const message = await publish(gw, "d-again");
    expect((await gw.consume([message], { attempts: 1 })).explicitAcks).toStrictEqual(["m0"]);
    const again = await gw.consume([message], { attempts: 2 });
    expect(again.explicitAcks).toStrictEqual(["m0"]);
    expect(again.retryMessages).toStrictEqual([]);
    expect(sink.requests).toHaveLength(1);
  });

  it("a message that was retried is delivered when it comes back", async () => {
    let answer = 503;
    const { gw, sink } = setup({ retry: 3, backoffDelay: "1s" }, () => {
      const response = new Response(null, { status: answer });
      answer = 204;
      return response;
    });
    const message = await publish(gw, "d-retried");
    expect((await gw.consume([message], { attempts: 1 })).retryMessages).toHaveLength(1);
    expect((await gw.consume([message], { attempts: 2 })).explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests).toHaveLength(2);
  });

  it("a binary-mode event goes out structured with its members in the order Node writes them", async () => {
    const { gw, sink } = setup({ mode: "structured" });
    const headers = { "ce-zext": "z", "ce-subject": "s" };
    expect((await gw.request("/events", binaryEvent("o-1", headers))).status).toBe(202);
    await gw.consume(gw.queue.sent);
    // The runtime's Headers are sorted by name (id, source, specversion, ...); Node's are as sent.
    expect(Object.keys(JSON.parse(sink.requests[0]!.body)).slice(0, 7)).toStrictEqual([
      "specversion",
      "id",
      "source",
      "type",
      "subject",
      "zext",
      "datacontenttype",
    ]);
  });

  it("a transient failure retries on the subscription's backoff (full jitter, random 0.5)", async () => {
    const { gw } = setup(
      { retry: 3, backoffDelay: "4s" },
      () => new Response("busy", { status: 503 }),
    );
    const message = await publish(gw, "d-2");
    // attempt 1 (message.attempts 1): up to 4 s, jitter 0.5 -> 2 s
    expect((await gw.consume([message], { attempts: 1 })).retryMessages).toStrictEqual([
      { msgId: "m0", delaySeconds: 2 },
    ]);
    // attempt 3: up to 16 s -> 8 s
    expect((await gw.consume([message], { attempts: 3 })).retryMessages).toStrictEqual([
      { msgId: "m0", delaySeconds: 8 },
    ]);
  });

  it("Retry-After is obeyed", async () => {
    const { gw } = setup(
      { retry: 3, backoffDelay: "1s" },
      () => new Response(null, { status: 429, headers: { "retry-after": "120" } }),
    );
    const message = await publish(gw, "d-3");
    expect((await gw.consume([message])).retryMessages).toStrictEqual([
      { msgId: "m0", delaySeconds: 120 },
    ]);
  });

  it("a retry the queue would drop first (Retry-After past its retention) ends the job now, never lost", async () => {
    const sink = scriptedSink((request) =>
      request.url === DLS
        ? new Response(null, { status: 202 })
        : new Response("maintenance", { status: 503, headers: { "retry-after": "120" } }),
    );
    const gw = testWorker(
      {
        subscriptions: [
          {
            id: "s",
            sink: SINK,
            delivery: { mode: "structured", retry: 3, backoffDelay: "1s", deadLetterSink: DLS },
          },
          { id: "kept", sink: `${SINK}/kept`, delivery: { retry: 3, backoffDelay: "1s" } },
        ],
      },
      // A queue that keeps messages a minute: the 120 s wait would outlive the message.
      { fetch: sink.fetch, vars: { HERALD_QUEUE_RETENTION_SECONDS: "60" } },
    );
    expect((await gw.request("/events", binaryEvent("r-1"))).status).toBe(202);
    const result = await gw.consume(gw.queue.sent);
    expect(result.retryMessages).toStrictEqual([]);
    expect(result.explicitAcks.sort()).toStrictEqual(["m0", "m1"]);
    const dead = sink.requests.find((r) => r.url === DLS);
    expect(JSON.parse(dead!.body)).toMatchObject({
      id: "r-1",
      heralderrorcode: 503,
      heraldattempts: 1,
      heralderrordata: expect.stringContaining("the delivery queue would drop the message"),
    });
    const kept = (await (await gw.request("/subscriptions/kept/dead")).json()) as {
      items: { failure: { status: number; error: string } }[];
    };
    expect(kept.items).toMatchObject([
      { failure: { status: 503, error: expect.stringMatching(/^maintenance \(not retried/) } },
    ]);
  });

  it("after the last retry: to the dead-letter sink with heralderror* attributes, then ack", async () => {
    const { gw, sink } = setup(
      { retry: 2, deadLetterSink: DLS, mode: "structured", signingSecret: SECRET },
      (request) =>
        request.url === DLS
          ? new Response(null, { status: 202 })
          : new Response("down", { status: 500 }),
    );
    const message = await publish(gw, "d-4");
    const result = await gw.consume([message], { attempts: 3 });
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    expect(result.retryMessages).toStrictEqual([]);
    const dead = sink.requests.find((r) => r.url === DLS);
    expect(JSON.parse(dead!.body)).toMatchObject({
      id: "d-4",
      heralderrordest: SINK,
      heralderrorcode: 500,
      heralderrordata: expect.stringContaining("down"),
      heraldattempts: 3,
    });
    // The dead letter is another message than the one that failed: its own webhook-id.
    const failed = sink.requests.find((r) => r.url === SINK);
    expect(dead!.headers.get("webhook-id")).toMatch(/^msg_/);
    expect(dead!.headers.get("webhook-id")).not.toBe(failed!.headers.get("webhook-id"));
  });

  it("without a dead-letter sink: kept as dead in D1, listed by the API, redriven to the queue", async () => {
    const { gw } = setup({ retry: 0 }, () => new Response("nope", { status: 400 }));
    const message = await publish(gw, "d-5");
    expect((await gw.consume([message])).explicitAcks).toStrictEqual(["m0"]);
    const page = (await (await gw.request("/subscriptions/s/dead")).json()) as {
      items: {
        jobId: string;
        attempts: number;
        failure: { status: number };
        event: { id: string };
      }[];
    };
    expect(page.items).toMatchObject([
      { jobId: message.job, attempts: 1, failure: { status: 400 }, event: { id: "d-5" } },
    ]);
    const redrive = await gw.request("/subscriptions/s/redrive", { method: "POST" });
    expect(await redrive.json()).toStrictEqual({ redriven: 1 });
    const again = gw.queue.sent.at(-1)!;
    expect(again).toMatchObject({ job: message.job, subscription: "s", attempts: 0 });
    expect(again.acceptance).toBeUndefined();
    expect(await (await gw.request("/subscriptions/s/dead")).json()).toStrictEqual({ items: [] });
  });

  it("a job redriven that dies again is dead in its old place: a walk whose after is that job goes on, and none is listed twice", async () => {
    // It came back in a new row at the end of the set: a reader whose `next` named it went on
    // from the end (the jobs between were never shown), and one past its old place saw it again.
    const { gw } = setup({ retry: 0 }, () => new Response("nope", { status: 400 }));
    const messages = [];
    for (const id of ["w-1", "w-2", "w-3", "w-4"]) messages.push(await publish(gw, id));
    await gw.consume(messages);
    type Page = { items: { jobId: string; event: { id: string } }[]; next?: string };
    const page = async (query: string) => {
      const res = await gw.request(`/subscriptions/s/dead?${query}`);
      expect(res.status).toBe(200);
      return (await res.json()) as Page;
    };
    const ids = (p: Page) => p.items.map((item) => item.event.id);
    const first = await page("limit=1");
    expect(ids(first)).toStrictEqual(["w-1"]);
    expect(first.next).toBe(messages[0]!.job);
    const second = await page(`limit=1&after=${first.next}`);
    expect(ids(second)).toStrictEqual(["w-2"]);
    // w-1 (the first page's next) and w-2 are redriven, and fail again.
    const sent = gw.queue.sent.length;
    const redrive = await gw.request("/subscriptions/s/redrive", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jobIds: [messages[0]!.job, messages[1]!.job] }),
    });
    expect(await redrive.json()).toStrictEqual({ redriven: 2 });
    expect((await gw.consume(gw.queue.sent.slice(sent))).explicitAcks).toHaveLength(2);
    // A reader past w-2 goes on at w-3 and does not see w-1 or w-2 again.
    expect(ids(await page(`after=${second.next}`))).toStrictEqual(["w-3", "w-4"]);
    // A reader whose next was w-1 goes on at w-2, not past the end.
    expect(ids(await page(`after=${first.next}`))).toStrictEqual(["w-2", "w-3", "w-4"]);
    // From the start, the set is in its order, each job once.
    expect(ids(await page(""))).toStrictEqual(["w-1", "w-2", "w-3", "w-4"]);
    expect((await page("")).items[0]!.jobId).toBe(messages[0]!.job);
  });

  it("GET .../dead/{jobId}: one dead delivery from D1 as the page lists it; 404 problem+json for none", async () => {
    const { gw } = setup({ retry: 0 }, () => new Response("nope", { status: 400 }));
    const messages = [await publish(gw, "g-1"), await publish(gw, "g-2")];
    await gw.consume(messages);
    const page = (await (await gw.request("/subscriptions/s/dead")).json()) as {
      items: { jobId: string }[];
    };
    const one = await gw.request(`/subscriptions/s/dead/${messages[1]!.job}`);
    expect(one.status).toBe(200);
    expect(one.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await one.json()).toStrictEqual(page.items[1]);
    const head = await gw.request(`/subscriptions/s/dead/${messages[1]!.job}`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    await gw.request(`/subscriptions/s/dead/${messages[1]!.job}`, { method: "DELETE" });
    for (const path of [
      `/subscriptions/s/dead/${messages[1]!.job}`,
      `/subscriptions/s/dead/${crypto.randomUUID()}`,
      "/subscriptions/s/dead/1",
      `/subscriptions/s/dead/${"x".repeat(5_000)}`,
      `/subscriptions/nope/dead/${messages[0]!.job}`,
    ]) {
      const res = await gw.request(path);
      expect(res.status, path.slice(0, 60)).toBe(404);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(((await res.json()) as { code: string }).code).toBe("not_found");
    }
  });

  it("DELETE .../dead/{jobId} and .../dead remove dead deliveries from D1 for good", async () => {
    const { gw } = setup({ retry: 0 }, () => new Response("nope", { status: 400 }));
    const messages = [await publish(gw, "x-1"), await publish(gw, "x-2"), await publish(gw, "x-3")];
    await gw.consume(messages);
    const one = await gw.request(`/subscriptions/s/dead/${messages[1]!.job}`, { method: "DELETE" });
    expect(one.status).toBe(200);
    expect(await one.json()).toStrictEqual({ deleted: 1 });
    const gone = await gw.request(`/subscriptions/s/dead/${messages[1]!.job}`, {
      method: "DELETE",
    });
    expect(gone.status).toBe(404);
    expect(gone.headers.get("content-type")).toBe("application/problem+json");
    const listed = (await (await gw.request("/subscriptions/s/dead")).json()) as {
      items: { jobId: string }[];
    };
    expect(listed.items.map((i) => i.jobId)).toStrictEqual([messages[0]!.job, messages[2]!.job]);
    const all = await gw.request("/subscriptions/s/dead", { method: "DELETE" });
    expect(await all.json()).toStrictEqual({ deleted: 2 });
    expect(await (await gw.request("/subscriptions/s/dead")).json()).toStrictEqual({ items: [] });
    const sentBefore = gw.queue.sent.length;
    const redrive = await gw.request("/subscriptions/s/redrive", { method: "POST" });
    expect(await redrive.json()).toStrictEqual({ redriven: 0 });
    expect(gw.queue.sent).toHaveLength(sentBefore);
    expect((await gw.request("/subscriptions/nope/dead", { method: "DELETE" })).status).toBe(404);
  });

  it("GET .../dead?after= a job that is not in the dead set is 400 problem+json, not the first page again", async () => {
    const { gw } = setup({ retry: 0 }, () => new Response("nope", { status: 400 }));
    const messages = [await publish(gw, "p-1"), await publish(gw, "p-2")];
    await gw.consume(messages);
    const first = (await (await gw.request("/subscriptions/s/dead?limit=1")).json()) as {
      items: { jobId: string }[];
      next: string;
    };
    const second = (await (
      await gw.request(`/subscriptions/s/dead?limit=1&after=${first.next}`)
    ).json()) as { items: { event: { id: string } }[] };
    expect(second.items.map((i) => i.event.id)).toStrictEqual(["p-2"]);
    for (const after of ["zzz", crypto.randomUUID()]) {
      const res = await gw.request(`/subscriptions/s/dead?after=${after}`);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      expect(await res.json()).toMatchObject({
        code: "malformed_request",
        detail: expect.stringMatching(
          /^after must be the jobId of one of this subscription's dead jobs/,
        ),
      });
    }
  });

  it("a redriven message is delivered without an acceptance", async () => {
    const { gw, sink } = setup({});
    const message = await publish(gw, "d-6");
    const { acceptance: _, ...redriven } = message;
    expect((await gw.consume([redriven])).explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests).toHaveLength(1);
  });

  it("410 Gone dead-letters and disables the subscription (in D1)", async () => {
    const { gw } = setup({}, () => new Response(null, { status: 410 }));
    const message = await publish(gw, "d-7");
    await gw.consume([message]);
    const found = (await (await gw.request("/subscriptions/s")).json()) as { disabled?: unknown };
    expect(found.disabled).toMatchObject({ reason: expect.stringContaining("410") });
    await gw.request("/events", binaryEvent("d-7-after"));
    expect(gw.queue.sent.map((m) => decodeEvent(m.event).attributes.id)).not.toContain("d-7-after");
  });

  it("a config subscription disabled by 410 is enabled again by a deploy that changes its definition", async () => {
    let gone = true;
    const sink = scriptedSink(() => new Response(null, { status: gone ? 410 : 204 }));
    const deploy = (delivery: Record<string, unknown>) =>
      testWorker({ subscriptions: [{ id: "s", sink: SINK, delivery }] }, { fetch: sink.fetch });
    const disabledOf = async (gw: ReturnType<typeof testWorker>) =>
      ((await (await gw.request("/subscriptions/s")).json()) as { disabled?: unknown }).disabled;

    const first = deploy({ retry: 1 });
    await first.consume([await publish(first, "g-1")]);
    expect(await disabledOf(first)).toBeDefined();
    // A deploy with the same definition (new isolates) keeps it disabled.
    const same = deploy({ retry: 1 });
    expect(await disabledOf(same)).toBeDefined();
    expect((await same.request("/events", binaryEvent("g-2"))).status).toBe(202);
    expect(same.queue.sent).toHaveLength(0);

    gone = false;
    const changed = deploy({ retry: 2 });
    expect(await disabledOf(changed)).toBeUndefined();
    const message = await publish(changed, "g-3");
    expect((await changed.consume([message])).explicitAcks).toStrictEqual(["m0"]);
    // The delivery the 410 dead-lettered is redriven and delivered.
    expect(
      await (await changed.request("/subscriptions/s/redrive", { method: "POST" })).json(),
    ).toStrictEqual({ redriven: 1 });
    const redriven = changed.queue.sent.at(-1)!;
    expect((await changed.consume([redriven])).explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests.map((r) => r.headers.get("ce-id"))).toStrictEqual(["g-1", "g-3", "g-1"]);
    // The state is gone, not only hidden: going back to the first definition does not bring it back.
    expect(await disabledOf(deploy({ retry: 1 }))).toBeUndefined();
  });

  it("a message whose acceptance is not recorded yet waits, without spending an attempt", async () => {
    const { gw, sink } = setup({});
    const message = await publish(gw, "d-8");
    const pending: DeliveryMessage = { ...message, acceptance: "not-recorded-yet" };
    const sentBefore = gw.queue.sent.length;
    expect((await gw.consume([pending], { attempts: 2 })).explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests).toHaveLength(0);
    expect(gw.queue.sent.slice(sentBefore)).toStrictEqual([pending]);
  });

  it("a message of a request that was never accepted is dropped once stale", async () => {
    const { gw, sink } = setup({});
    const message = await publish(gw, "d-9");
    const stale: DeliveryMessage = { ...message, acceptance: "failed-request", sentAt: 0 };
    const sentBefore = gw.queue.sent.length;
    expect((await gw.consume([stale])).explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests).toHaveLength(0);
    expect(gw.queue.sent).toHaveLength(sentBefore);
  });

  it("a delivery queued for a deleted subscription is dropped", async () => {
    const sink = scriptedSink();
    const gw = testWorker({ subscriptions: [] }, { fetch: sink.fetch });
    const message = await queuedForDeleted(gw, "d-10");
    expect((await gw.consume([message])).explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests).toHaveLength(0);
  });

  it("batch mode: the batch's jobs of a subscription go out in requests of maxBatchSize", async () => {
    const { gw, sink } = setup({ mode: "batch", maxBatchSize: 2 });
    const messages = [];
    for (const id of ["b-1", "b-2", "b-3"]) messages.push(await publish(gw, id));
    const result = await gw.consume(messages);
    expect(result.explicitAcks.sort()).toStrictEqual(["m0", "m1", "m2"]);
    const sizes = sink.requests.map((r) => (JSON.parse(r.body) as unknown[]).length).sort();
    expect(sizes).toStrictEqual([1, 2]);
    expect(sink.requests[0]!.headers.get("content-type")).toMatch(/cloudevents-batch\+json/);
  });

  it("the queue's dead-letter queue keeps what reaches it as dead", async () => {
    const { gw, sink } = setup({});
    const message = await publish(gw, "d-11");
    const result = await gw.consume([message], { queueName: "herald-deliveries-dlq" });
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests).toHaveLength(0);
    const page = (await (await gw.request("/subscriptions/s/dead")).json()) as {
      items: { failure: { error: string } }[];
    };
    expect(page.items[0]!.failure.error).toMatch(/dead-letter queue/);
  });

  it("what reaches the queue's dead-letter queue goes to the deadLetterSink, as a last retry's failure does", async () => {
    const { gw, sink } = setup({ deadLetterSink: DLS });
    const message = await publish(gw, "d-12");
    const result = await gw.consume([message], { queueName: "herald-deliveries-dlq" });
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests.map((r) => r.url)).toStrictEqual([DLS]);
    const letter = sink.requests[0]!.headers;
    expect(letter.get("ce-id")).toBe("d-12");
    expect(letter.get("ce-heralderrorcode")).toBe("0");
    expect(decodeURIComponent(letter.get("ce-heralderrordata")!)).toMatch(/dead-letter queue/);
    const page = (await (await gw.request("/subscriptions/s/dead")).json()) as { items: [] };
    expect(page.items).toStrictEqual([]);
  });

  it("what reaches the queue's dead-letter queue emits the failed receipt of a subscription with receipts", async () => {
    const sink = scriptedSink();
    const gw = testWorker(
      {
        subscriptions: [
          { id: "s", source: "/orders", sink: SINK, delivery: { receipts: true } },
          { id: "alerts", types: ["dev.herald.delivery.failed"], sink: "http://alerts.test/" },
        ],
      },
      { fetch: sink.fetch },
    );
    const message = await publish(gw, "d-13");
    const result = await gw.consume([message], { queueName: "herald-deliveries-dlq" });
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    const receipt = gw.queue.sent.find((m) => m.subscription === "alerts");
    expect(receipt && decodeEvent(receipt.event).attributes).toMatchObject({
      type: "dev.herald.delivery.failed",
      source: "/herald/subscriptions/s",
      causationid: "d-13",
    });
  });

  it("what reaches the queue's dead-letter queue for a deleted subscription is dropped, as its queued deliveries are", async () => {
    const sink = scriptedSink();
    const gw = testWorker({ subscriptions: [] }, { fetch: sink.fetch });
    const message = await queuedForDeleted(gw, "d-14");
    const result = await gw.consume([message], { queueName: "herald-deliveries-dlq" });
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    const rows = await bindings.HERALD_DB.prepare("SELECT job_id FROM dead").all();
    expect(rows.results).toStrictEqual([]);
  });

  it("what reaches the queue's dead-letter queue from a request never accepted is dropped (the publisher was answered 503)", async () => {
    const { gw, sink } = setup({ deadLetterSink: DLS });
    const published = await publish(gw, "d-15");
    // A D1 outage: the messages went out, the acceptance was never recorded, the request got 503.
    const unaccepted = { ...published, acceptance: "never-recorded" };
    const result = await gw.consume([unaccepted], { queueName: "herald-deliveries-dlq" });
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests).toHaveLength(0);
    const rows = await bindings.HERALD_DB.prepare("SELECT job_id FROM dead").all();
    expect(rows.results).toStrictEqual([]);

    // Older than the queue keeps messages, its acceptance row may be gone legitimately: it is
    // dead-lettered, as nothing proves it was not accepted.
    const old = { ...unaccepted, sentAt: Date.now() - 5 * 86_400_000 };
    const later = await gw.consume([old], { queueName: "herald-deliveries-dlq" });
    expect(later.explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests.map((r) => r.url)).toStrictEqual([DLS]);
  });

  it("a reply too large for a queue message is refused: the delivery is dead-lettered, not retried", async () => {
    const reply = () =>
      new Response(JSON.stringify({ pad: "x".repeat(127_000) }), {
        headers: {
          "ce-specversion": "1.0",
          "ce-id": "reply-1",
          "ce-source": "/billing",
          "ce-type": "com.example.billed",
          "content-type": "application/json",
        },
      });
    const { gw } = setup({ reply: true, retry: 3 }, reply);
    const message = await publish(gw, "big-reply");
    const sentBefore = gw.queue.sent.length;
    const result = await gw.consume([message]);
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    expect(result.retryMessages).toStrictEqual([]);
    expect(gw.queue.sent).toHaveLength(sentBefore);
    const page = (await (await gw.request("/subscriptions/s/dead")).json()) as {
      items: { failure: { status: number; error: string } }[];
    };
    expect(page.items).toHaveLength(1);
    expect(page.items[0]!.failure.status).toBe(200);
    expect(page.items[0]!.failure.error).toMatch(
      /^delivered \(HTTP 200\), but its reply was not ingested: invalid reply \(payload_too_large\): the event is too large for a Cloudflare Queues message/,
    );
  });

  it("the reply and the receipt count as accepted events in GET /metrics", async () => {
    const reply = () =>
      new Response(null, {
        headers: {
          "ce-specversion": "1.0",
          "ce-id": "invoice-1",
          "ce-source": "/billing",
          "ce-type": "com.example.billed",
        },
      });
    const { gw } = setup({ reply: true, receipts: true }, reply);
    const message = await publish(gw, "counted");
    expect((await gw.consume([message])).explicitAcks).toStrictEqual(["m0"]);
    const text = await (await gw.request("/metrics")).text();
    // The published event, its reply and its receipt.
    expect(text).toMatch(/^herald_events_accepted_total 3$/m);
  });

  it("a receipt too large for a queue message is dropped; the delivery settles as delivered", async () => {
    const { gw, sink } = setup({ receipts: true, retry: 3 });
    // A receipt repeats the event's id twice (data.event.id, correlationid): 70 KB fits one
    // message, the receipt does not.
    const id = `r-${"i".repeat(70_000)}`;
    expect((await gw.request("/events", { ...binaryEvent(id), body: "{}" })).status).toBe(202);
    const message = gw.queue.sent.at(-1)!;
    const sentBefore = gw.queue.sent.length;
    const result = await gw.consume([message]);
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    expect(result.retryMessages).toStrictEqual([]);
    expect(sink.requests).toHaveLength(1);
    expect(gw.queue.sent).toHaveLength(sentBefore);
    expect(await (await gw.request("/subscriptions/s/dead")).json()).toStrictEqual({ items: [] });
  });

  it("a settle that fails is retried on the subscription's backoff, not at once", async () => {
    const reply = () =>
      new Response("{}", {
        headers: {
          "ce-specversion": "1.0",
          "ce-id": "reply-2",
          "ce-source": "/billing",
          "ce-type": "com.example.billed",
          "content-type": "application/json",
        },
      });
    const { gw } = setup({ reply: true, retry: 3, backoffDelay: "4s" }, reply);
    const message = await publish(gw, "settle-fails");
    // The queue is down when the reply is ingested: the settle rejects.
    gw.queue.sendBatch = () => Promise.reject(new Error("queue down"));
    // attempt 3 (two before this message's): up to 16 s, jitter 0.5 -> 8 s
    expect((await gw.consume([message], { attempts: 3 })).retryMessages).toStrictEqual([
      { msgId: "m0", delaySeconds: 8 },
    ]);
  });

  it("a batch the Worker cannot handle (config refused) is retried later, longer each time, not at once", async () => {
    const { gw } = setup({ retry: 3 });
    const message = await publish(gw, "broken-1");
    // Each batch logs why the config is refused (at any HERALD_LOG_LEVEL).
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    // A deploy whose config the Worker refuses: the queue's 100 immediate retries, then its
    // dead-letter queue's, would be spent in moments and the delivery lost.
    const broken = testWorker({
      subscriptions: [{ id: "s", sink: SINK, delivery: { rate: "5/s" } }],
    });
    for (const [attempts, delaySeconds] of [
      [1, 30],
      [2, 60],
      [5, 480],
      [99, 3600],
    ] as const) {
      expect(await broken.consume([message], { attempts })).toStrictEqual({
        explicitAcks: [],
        retryMessages: [{ msgId: "m0", delaySeconds }],
      });
    }
    expect(logged).toHaveBeenCalledTimes(4);
    logged.mockRestore();
  });

  it("a batch that fails outside a delivery (D1 down while checking acceptances) is retried later too", async () => {
    const { gw } = setup({ retry: 3 });
    const message = await publish(gw, "flaky-1");
    const real = bindings.HERALD_DB;
    const flakyDb: D1Database = {
      prepare(sql) {
        if (sql.startsWith("SELECT id FROM accepted WHERE id IN")) throw new Error("D1 is down");
        return real.prepare(sql);
      },
      batch: (statements) => real.batch(statements),
    };
    const flaky = testWorker({ subscriptions: [{ id: "s", sink: SINK, delivery: { retry: 3 } }] });
    Object.assign(flaky.env, { HERALD_DB: flakyDb });
    const result = await flaky.consume([message], { attempts: 3 });
    expect(result.explicitAcks).toStrictEqual([]);
    expect(result.retryMessages).toStrictEqual([{ msgId: "m0", delaySeconds: 120 }]);
  });

  it("a message that is not Herald's is acknowledged and dropped", async () => {
    const { gw, sink } = setup({});
    const result = await gw.consume([{ hello: "world" } as unknown as DeliveryMessage]);
    expect(result.explicitAcks).toStrictEqual(["m0"]);
    expect(sink.requests).toHaveLength(0);
  });
});

describe("delivery over the network from workerd", () => {
  it("reaches a sink on 127.0.0.1 in the Node process", async () => {
    const sinkUrl = inject("sinkUrl");
    const path = `/net-${crypto.randomUUID()}`;
    const gw = testWorker({
      subscriptions: [{ id: "net", sink: `${sinkUrl}${path}`, delivery: { mode: "structured" } }],
    });
    const message = await publish(gw, "net-1");
    expect((await gw.consume([message])).explicitAcks).toStrictEqual(["m0"]);
    const received = await fetch(`${sinkUrl}/received${path}`);
    expect(received.status).toBe(200);
    const { body } = (await received.json()) as { body: string };
    expect(JSON.parse(body)).toMatchObject({ id: "net-1", data: { orderId: "net-1" } });
  });
});
