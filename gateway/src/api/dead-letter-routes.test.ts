import { afterEach, describe, expect, it } from "vitest";
import { recordingLogger } from "../../test/support/dispatcher-kit.js";
import { type ScriptedSink, startScriptedSink } from "../../test/support/scripted-sink.js";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  signToken,
} from "../../test/support/test-issuer.js";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseConfig } from "../config/load-config.js";
import { MAX_PAGE_CHARS } from "./dead-letter-routes.js";

// The dead set lists stored events as the JSON event format: it must show them as they were
// accepted, whatever their data, against a real sink on 127.0.0.1 that refuses every delivery.

let gateway: Gateway | undefined;
let sink: ScriptedSink | undefined;
afterEach(async () => {
  // This test's resources are taken before the first await: a hook that outlives its timeout
  // must not stop or close what the next test has started meanwhile.
  const [held, heldSink] = [gateway, sink];
  gateway = sink = undefined;
  await held?.stop();
  await heldSink?.close();
});

async function refusingGateway(
  extra: Record<string, unknown> = {},
  logger = recordingLogger(),
): Promise<Gateway> {
  sink = await startScriptedSink([{ status: 400 }]);
  const config = {
    store: { kind: "memory" },
    subscriptions: [
      { id: "orders", sink: sink.url, delivery: { retry: 0 } },
      { id: "audit", sink: sink.url, delivery: { retry: 0 } },
    ],
    ...extra,
  };
  gateway = createGateway({ config: parseConfig(JSON.stringify(config), "t.json"), logger });
  gateway.start();
  return gateway;
}

async function publish(gw: Gateway, headers: Record<string, string>, body: string) {
  const res = await gw.fetch(new Request("http://gw/events", { method: "POST", headers, body }));
  expect(res.status).toBe(202);
}

const binary = (id: string) => ({
  "ce-specversion": "1.0",
  "ce-id": id,
  "ce-source": "/shop",
  "ce-type": "com.example.order",
});

describe("GET /subscriptions/{id}/dead", () => {
  it("shows JSON data as received: a number past 2^53 keeps its digits", async () => {
    const gw = await refusingGateway();
    const event =
      '{"specversion":"1.0","id":"big","source":"/shop","type":"t","data":{"n":12345678901234567890}}';
    await publish(gw, { "content-type": "application/cloudevents+json" }, event);
    await sink?.waitFor(1);
    await gw.idle();
    const res = await gw.fetch(new Request("http://gw/subscriptions/orders/dead"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const text = await res.text();
    expect(text).toContain('"data":{"n":12345678901234567890}');
    expect(JSON.parse(text).items[0].event).toMatchObject({ id: "big", source: "/shop" });
  });

  it("lists an event whose binary-mode JSON body nests 100,000 levels deep (was 500)", async () => {
    const gw = await refusingGateway();
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;
    await publish(gw, { ...binary("deep"), "content-type": "application/json" }, deep);
    await sink?.waitFor(1);
    await gw.idle();
    const res = await gw.fetch(new Request("http://gw/subscriptions/orders/dead"));
    expect(res.status).toBe(200);
    const listed = JSON.parse(await res.text()) as { items: { event: { id: string } }[] };
    expect(listed.items.map((item) => item.event.id)).toStrictEqual(["deep"]);
  });

  it("cuts a page of large events short by size, and next goes on from there (1,000 was a 500)", async () => {
    const gw = await refusingGateway();
    // 250,000 control characters: JSON writes each as `\u0001`, 1.5 MB of page per event; a
    // page of 1,000 such events was past V8's longest string and answered 500.
    const body = "\u0001".repeat(250_000);
    const count = 25;
    for (let i = 0; i < count; i++) {
      await publish(gw, { ...binary(`big-${i}`), "content-type": "text/plain" }, body);
    }
    await sink?.waitFor(count);
    await gw.idle();
    const seen: string[] = [];
    let after = "";
    let pages = 0;
    for (;;) {
      const res = await gw.fetch(
        new Request(`http://gw/subscriptions/orders/dead?limit=1000${after && `&after=${after}`}`),
      );
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text.length).toBeLessThanOrEqual(MAX_PAGE_CHARS + 100);
      const page = JSON.parse(text) as {
        items: { event: { id: string; data: string } }[];
        next?: string;
      };
      pages++;
      for (const item of page.items) {
        expect(item.event.data).toBe(body);
        seen.push(item.event.id);
      }
      if (page.next === undefined) break;
      after = page.next;
    }
    expect(pages).toBeGreaterThan(1);
    expect(seen).toStrictEqual(Array.from({ length: count }, (_, i) => `big-${i}`));
  }, 60_000);

  it("pages as before: next names the last job of a full page", async () => {
    const gw = await refusingGateway();
    await publish(gw, binary("a"), "");
    await publish(gw, binary("b"), "");
    await sink?.waitFor(2);
    await gw.idle();
    const res = await gw.fetch(new Request("http://gw/subscriptions/orders/dead?limit=1"));
    const page = (await res.json()) as { items: { jobId: string }[]; next?: string };
    expect(page.items).toHaveLength(1);
    expect(page.next).toBe(page.items[0]?.jobId);
  });
});

/** The job ids of a subscription's dead set. */
async function deadIds(gw: Gateway, id: string, headers: Record<string, string> = {}) {
  const res = await gw.fetch(new Request(`http://gw/subscriptions/${id}/dead`, { headers }));
  expect(res.status).toBe(200);
  const page = (await res.json()) as { items: { jobId: string; event: { id: string } }[] };
  return page.items.map((item) => ({ jobId: item.jobId, eventId: item.event.id }));
}

/** A gateway whose every delivery dies at once, with `n` dead events in each subscription. */
async function withDead(n: number, logger = recordingLogger()) {
  const gw = await refusingGateway({}, logger);
  for (let i = 0; i < n; i++) await publish(gw, binary(`d-${i}`), "");
  await sink?.waitFor(n * 2);
  await gw.idle();
  return gw;
}

const call = (gw: Gateway, method: string, path: string, headers: Record<string, string> = {}) =>
  gw.fetch(new Request(`http://gw${path}`, { method, headers }));

async function expectProblem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(((await res.json()) as { code: string }).code).toBe(code);
}

describe("DELETE /subscriptions/{id}/dead", () => {
  it("deletes every dead event of a config-file subscription, and no other's, then 0", async () => {
    const logger = recordingLogger();
    const gw = await withDead(3, logger);
    expect(await deadIds(gw, "orders")).toHaveLength(3);
    const res = await call(gw, "DELETE", "/subscriptions/orders/dead");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 3 });
    expect(await deadIds(gw, "orders")).toEqual([]);
    expect(await deadIds(gw, "audit")).toHaveLength(3);
    expect(logger.lines).toContainEqual({
      level: "info",
      message: "deleted dead deliveries",
      fields: { subscriptionId: "orders", deleted: 3 },
    });
    const again = await call(gw, "DELETE", "/subscriptions/orders/dead");
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ deleted: 0 });
    // A redrive finds nothing left to send.
    const redrive = await call(gw, "POST", "/subscriptions/orders/redrive");
    expect(await redrive.json()).toEqual({ redriven: 0 });
  });

  it("answers 404 problem+json for an unknown subscription", async () => {
    const gw = await refusingGateway();
    await expectProblem(await call(gw, "DELETE", "/subscriptions/nobody/dead"), 404, "not_found");
    await expectProblem(await call(gw, "DELETE", "/subscriptions/nobody/dead/1"), 404, "not_found");
  });

  it("names DELETE in Allow, and answers 405 to methods it does not take", () =>
    expectAllow("/subscriptions/orders/dead", "GET, HEAD, DELETE, OPTIONS", [
      "PUT",
      "POST",
      "PATCH",
    ]));
});

/** OPTIONS on `path` names `allow`; each of `refused` gets a 405 problem naming it too. */
async function expectAllow(path: string, allow: string, refused: readonly string[]) {
  const gw = await refusingGateway();
  const options = await call(gw, "OPTIONS", path);
  expect(options.status).toBe(200);
  expect(options.headers.get("allow")).toBe(allow);
  for (const method of refused) {
    const res = await call(gw, method, path);
    await expectProblem(res.clone(), 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe(allow);
  }
}

describe("DELETE /subscriptions/{id}/dead/{jobId}", () => {
  it("deletes that dead event only; 404 once gone, redriven, unknown, or another subscription's", async () => {
    const gw = await withDead(3);
    const [first, second, third] = await deadIds(gw, "orders");
    const [theirs] = await deadIds(gw, "audit");
    const res = await call(gw, "DELETE", `/subscriptions/orders/dead/${second?.jobId}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 1 });
    expect(await deadIds(gw, "orders")).toEqual([first, third]);
    await expectProblem(
      await call(gw, "DELETE", `/subscriptions/orders/dead/${second?.jobId}`),
      404,
      "not_found",
    );
    for (const unknown of ["999999", "zzz", theirs?.jobId]) {
      await expectProblem(
        await call(gw, "DELETE", `/subscriptions/orders/dead/${unknown}`),
        404,
        "not_found",
      );
    }
    expect(await deadIds(gw, "audit")).toHaveLength(3);
    const body = JSON.stringify({ jobIds: [first?.jobId] });
    const redrive = await gw.fetch(
      new Request("http://gw/subscriptions/orders/redrive", {
        method: "POST",
        headers: { "content-type": "application/json", "content-length": String(body.length) },
        body,
      }),
    );
    expect(await redrive.json()).toEqual({ redriven: 1 });
    // Dead again (the sink still refuses it), under the same jobId: deleted as any dead job.
    await sink?.waitFor(7);
    await gw.idle();
    expect(await deadIds(gw, "orders")).toEqual([first, third]);
    const again = await call(gw, "DELETE", `/subscriptions/orders/dead/${first?.jobId}`);
    expect(await again.json()).toEqual({ deleted: 1 });
    expect(await deadIds(gw, "orders")).toEqual([third]);
  });

  it("404 for text that is no job id, without asking the store or logging a delete", async () => {
    const logger = recordingLogger();
    const gw = await withDead(1, logger);
    for (const text of ["1.5", "a%20b", "x".repeat(65), "%00"]) {
      await expectProblem(
        await call(gw, "DELETE", `/subscriptions/orders/dead/${text}`),
        404,
        "not_found",
      );
    }
    expect(logger.lines.filter((l) => l.message === "deleted dead deliveries")).toEqual([]);
    expect(await deadIds(gw, "orders")).toHaveLength(1);
  });

  it("names GET, HEAD and DELETE in Allow, and answers 405 to methods it does not take", () =>
    expectAllow("/subscriptions/orders/dead/1", "GET, HEAD, DELETE, OPTIONS", [
      "PUT",
      "POST",
      "PATCH",
    ]));
});

describe("GET /subscriptions/{id}/dead/{jobId}", () => {
  /** The items of a subscription's dead page, as JSON text cut from the page's own. */
  async function pageItems(gw: Gateway, id: string) {
    const res = await call(gw, "GET", `/subscriptions/${id}/dead`);
    return ((await res.json()) as { items: { jobId: string }[] }).items;
  }

  it("answers one dead event as its item of the page shows it (was 405)", async () => {
    const gw = await withDead(2);
    const items = await pageItems(gw, "orders");
    expect(items).toHaveLength(2);
    for (const item of items) {
      const res = await call(gw, "GET", `/subscriptions/orders/dead/${item.jobId}`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(await res.json()).toStrictEqual(item);
    }
    expect(items[0]).toMatchObject({
      attempts: 1,
      failure: { status: 400 },
      event: { specversion: "1.0", id: "d-0", source: "/shop", type: "com.example.order" },
    });
  });

  it("shows JSON data as received, as the page does: a number past 2^53 keeps its digits", async () => {
    const gw = await refusingGateway();
    const event =
      '{"specversion":"1.0","id":"big","source":"/shop","type":"t","data":{"n":12345678901234567890}}';
    await publish(gw, { "content-type": "application/cloudevents+json" }, event);
    await sink?.waitFor(2);
    await gw.idle();
    const [item] = await pageItems(gw, "orders");
    const res = await call(gw, "GET", `/subscriptions/orders/dead/${item?.jobId}`);
    expect(await res.text()).toContain('"data":{"n":12345678901234567890}');
  });

  it("answers 404 not_found once deleted, for another subscription's, unknown or garbage ids", async () => {
    const gw = await withDead(2);
    const [deleted, kept] = await deadIds(gw, "orders");
    const [theirs] = await deadIds(gw, "audit");
    expect((await call(gw, "DELETE", `/subscriptions/orders/dead/${deleted?.jobId}`)).status).toBe(
      200,
    );
    const garbage = [
      deleted?.jobId,
      theirs?.jobId,
      "999999",
      "99999999999999999999999",
      "00000000-0000-4000-8000-000000000000",
      "zzz",
      "-1",
      "%20",
      "%00",
      "a%2Fb",
      "%ZZ",
      "'%20OR%20'1'='1",
      "x".repeat(10_000),
    ];
    for (const jobId of garbage) {
      const res = await call(gw, "GET", `/subscriptions/orders/dead/${jobId}`);
      await expectProblem(res.clone(), 404, "not_found");
      const detail = ((await res.json()) as { detail: string }).detail;
      expect(detail.length).toBeLessThan(200);
    }
    // The one left is still there, and the other subscription's is found under its own.
    expect((await call(gw, "GET", `/subscriptions/orders/dead/${kept?.jobId}`)).status).toBe(200);
    expect((await call(gw, "GET", `/subscriptions/audit/dead/${theirs?.jobId}`)).status).toBe(200);
  });

  it("answers 404 not_found for an unknown subscription", async () => {
    const gw = await withDead(1);
    const [dead] = await deadIds(gw, "orders");
    await expectProblem(
      await call(gw, "GET", `/subscriptions/nobody/dead/${dead?.jobId}`),
      404,
      "not_found",
    );
  });

  it("answers HEAD as GET without a body: 200 with the same headers, 404 for none", async () => {
    const gw = await withDead(1);
    const [dead] = await deadIds(gw, "orders");
    const path = `/subscriptions/orders/dead/${dead?.jobId}`;
    const get = await call(gw, "GET", path);
    const head = await call(gw, "HEAD", path);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
    expect(await head.text()).toBe("");
    const missing = await call(gw, "HEAD", "/subscriptions/orders/dead/999999");
    expect(missing.status).toBe(404);
    expect(missing.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await missing.text()).toBe("");
  });
});

/** A gateway with authentication on, a dead event in `orders`, and the tokens to call it with. */
async function guardedWithDead(logger = recordingLogger()) {
  const key = await makeKey("ES256", "k1");
  const gw = await refusingGateway(
    {
      auth: {
        issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key), algorithms: ["ES256"] }],
        publishers: [{ claims: { sub: "orders-service" }, sources: ["/shop"] }],
        admins: [{ claims: { scope: "herald:admin" } }],
      },
    },
    logger,
  );
  const now = Math.floor(Date.now() / 1000);
  const publisher = { authorization: `Bearer ${await signToken(key, claimsAt(now))}` };
  const admin = {
    authorization: `Bearer ${await signToken(key, claimsAt(now, { sub: "ops-alice", scope: "herald:admin" }))}`,
  };
  await publish(gw, { ...binary("a"), ...publisher }, "");
  await sink?.waitFor(2);
  await gw.idle();
  const [dead] = await deadIds(gw, "orders", admin);
  return { gw, publisher, admin, dead };
}

describe("POST /subscriptions/{id}/redrive", () => {
  it("redrives only the jobIds of a body sent without Content-Length, as gateway.fetch gets it (was all)", async () => {
    const gw = await withDead(3);
    const [first, , third] = await deadIds(gw, "orders");
    const request = new Request("http://gw/subscriptions/orders/redrive", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jobIds: [first?.jobId, third?.jobId] }),
    });
    expect(request.headers.get("content-length")).toBeNull();
    expect(await (await gw.fetch(request)).json()).toEqual({ redriven: 2 });
    // Dead again (the sink still refuses them): 3 + 3 first deliveries, then the 2 redriven.
    await sink?.waitFor(8);
    await gw.idle();
    expect(await deadIds(gw, "orders")).toHaveLength(3);
  });

  it("redrives all for a body without Content-Length that is empty; refuses one that is no JSON", async () => {
    const gw = await withDead(2);
    const empty = await gw.fetch(
      new Request("http://gw/subscriptions/orders/redrive", { method: "POST", body: "" }),
    );
    expect(await empty.json()).toEqual({ redriven: 2 });
    await sink?.waitFor(6);
    await gw.idle();
    const broken = await gw.fetch(
      new Request("http://gw/subscriptions/orders/redrive", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{",
      }),
    );
    await expectProblem(broken, 400, "malformed_request");
    expect(await deadIds(gw, "orders")).toHaveLength(2);
  });

  it("redrives a jobId named twice once (the memory store answered 500)", async () => {
    const gw = await withDead(2);
    const [first] = await deadIds(gw, "orders");
    const twice = await gw.fetch(
      new Request("http://gw/subscriptions/orders/redrive", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jobIds: [first?.jobId, first?.jobId] }),
      }),
    );
    expect(twice.status).toBe(200);
    expect(await twice.json()).toEqual({ redriven: 1 });
  });
});

describe("reading one dead event takes an admin token", () => {
  it("answers 401 with a Bearer challenge without a token, 403 to a publisher's, 200 to an admin's", async () => {
    const { gw, publisher, admin, dead } = await guardedWithDead();
    const path = `/subscriptions/orders/dead/${dead?.jobId}`;
    for (const method of ["GET", "HEAD"]) {
      const anonymous = await call(gw, method, path);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);
      const refused = await call(gw, method, path, publisher);
      expect(refused.status).toBe(403);
    }
    await expectProblem(await call(gw, "GET", path), 401, "missing_token");
    await expectProblem(await call(gw, "GET", path, publisher), 403, "forbidden");
    // Refused before the job is looked up: an unknown job or subscription answers the same.
    await expectProblem(
      await call(gw, "GET", "/subscriptions/nobody/dead/1"),
      401,
      "missing_token",
    );
    await expectProblem(
      await call(gw, "GET", "/subscriptions/orders/dead/999999", publisher),
      403,
      "forbidden",
    );
    const res = await call(gw, "GET", path, admin);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { jobId: string }).jobId).toBe(dead?.jobId);
  });
});

describe("admin actions on the dead set are logged at info level", () => {
  it("a redrive: the subscription, how many, how many were asked for, and the admin's sub", async () => {
    const logger = recordingLogger();
    const { gw, admin, dead } = await guardedWithDead(logger);
    const body = JSON.stringify({ jobIds: [dead?.jobId, "999999"] });
    const chosen = await gw.fetch(
      new Request("http://gw/subscriptions/orders/redrive", {
        method: "POST",
        headers: {
          ...admin,
          "content-type": "application/json",
          "content-length": String(body.length),
        },
        body,
      }),
    );
    expect(await chosen.json()).toEqual({ redriven: 1 });
    const all = await call(gw, "POST", "/subscriptions/audit/redrive", admin);
    expect(await all.json()).toEqual({ redriven: 1 });
    const redrives = logger.lines.filter((l) => l.message === "redrove dead deliveries");
    expect(redrives).toStrictEqual([
      {
        level: "info",
        message: "redrove dead deliveries",
        fields: { subscriptionId: "orders", redriven: 1, requested: 2, admin: "ops-alice" },
      },
      {
        level: "info",
        message: "redrove dead deliveries",
        fields: { subscriptionId: "audit", redriven: 1, admin: "ops-alice" },
      },
    ]);
  });

  it("a delete, of all or of one: the subscription, how many and the admin's sub", async () => {
    const logger = recordingLogger();
    const { gw, admin, dead } = await guardedWithDead(logger);
    const one = await call(gw, "DELETE", `/subscriptions/orders/dead/${dead?.jobId}`, admin);
    expect(await one.json()).toEqual({ deleted: 1 });
    const all = await call(gw, "DELETE", "/subscriptions/audit/dead", admin);
    expect(await all.json()).toEqual({ deleted: 1 });
    expect(logger.lines.filter((l) => l.message === "deleted dead deliveries")).toStrictEqual([
      {
        level: "info",
        message: "deleted dead deliveries",
        fields: { subscriptionId: "orders", deleted: 1, admin: "ops-alice" },
      },
      {
        level: "info",
        message: "deleted dead deliveries",
        fields: { subscriptionId: "audit", deleted: 1, admin: "ops-alice" },
      },
    ]);
  });

  it("a redrive without authentication: no admin field, nothing made up", async () => {
    const logger = recordingLogger();
    const gw = await withDead(1, logger);
    expect(await (await call(gw, "POST", "/subscriptions/orders/redrive")).json()).toEqual({
      redriven: 1,
    });
    expect(logger.lines).toContainEqual({
      level: "info",
      message: "redrove dead deliveries",
      fields: { subscriptionId: "orders", redriven: 1 },
    });
  });
});

describe("deleting dead events takes an admin token", () => {
  it("answers 401 without a token and 403 to a publisher's, and deletes nothing", async () => {
    const key = await makeKey("ES256", "k1");
    const gw = await refusingGateway({
      auth: {
        issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key), algorithms: ["ES256"] }],
        publishers: [{ claims: { sub: "orders-service" }, sources: ["/shop"] }],
        admins: [{ claims: { scope: "herald:admin" } }],
      },
    });
    const now = Math.floor(Date.now() / 1000);
    const publisher = { authorization: `Bearer ${await signToken(key, claimsAt(now))}` };
    const admin = {
      authorization: `Bearer ${await signToken(key, claimsAt(now, { scope: "herald:admin" }))}`,
    };
    await publish(gw, { ...binary("a"), ...publisher }, "");
    await sink?.waitFor(2);
    await gw.idle();
    const [dead] = await deadIds(gw, "orders", admin);
    for (const path of [
      "/subscriptions/orders/dead",
      `/subscriptions/orders/dead/${dead?.jobId}`,
    ]) {
      const anonymous = await call(gw, "DELETE", path);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      await expectProblem(await call(gw, "DELETE", path, publisher), 403, "forbidden");
    }
    expect(await deadIds(gw, "orders", admin)).toEqual([dead]);
    const res = await call(gw, "DELETE", `/subscriptions/orders/dead/${dead?.jobId}`, admin);
    expect(await res.json()).toEqual({ deleted: 1 });
  });
});
