import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScriptedSink, startScriptedSink } from "../../test/support/scripted-sink.js";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseConfig } from "../config/load-config.js";

// The answers the API really gives, checked against the schemas /openapi.json serves: a client
// generated from the document must accept them, and accept sending them back (GET -> PUT).
let gone: ScriptedSink;
let gateway: Gateway;
let schemas: Ajv2020;
let paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;

const call = (method: string, path: string, body?: unknown) =>
  gateway.fetch(
    new Request(`http://gw${path}`, {
      method,
      headers: { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }),
  );

beforeAll(async () => {
  gone = await startScriptedSink([{ status: 410 }]);
  gateway = createGateway({
    config: parseConfig(JSON.stringify({ subscriptions: [] }), "openapi.json"),
  });
  gateway.start();
  const doc = (await (await call("GET", "/openapi.json")).json()) as {
    components: { schemas: Record<string, object> };
    paths: typeof paths;
  };
  paths = doc.paths;
  schemas = new Ajv2020({ strict: false, validateFormats: false });
  // Register the components under the document's own $ref base.
  schemas.addSchema({ $id: "doc", components: doc.components });
});
afterAll(async () => {
  await gateway.stop();
  await gone.close();
});

function expectValid(
  schema: "Subscription" | "SubscriptionRequest" | "Problem" | "Status" | "CloudEvent",
  value: unknown,
) {
  const validate = schemas.compile({ $ref: `doc#/components/schemas/${schema}` });
  const ok = validate(value);
  expect(validate.errors ?? [], `${schema}: ${JSON.stringify(value)}`).toEqual([]);
  expect(ok).toBe(true);
}

describe("the OpenAPI schemas accept the API's real answers", () => {
  it("a created subscription with a signing secret and headers, and the same sent back", async () => {
    const created = await call("POST", "/subscriptions", {
      sink: "http://127.0.0.1:9/in",
      types: ["com.example.a"],
      protocolsettings: { headers: { authorization: "Bearer abcdefgh123" } },
      delivery: { signingSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", retry: 2 },
    });
    expect(created.status).toBe(201);
    const body = (await created.json()) as Record<string, unknown>;
    expect(body.delivery).toMatchObject({ signingSecret: "<redacted>" });
    expectValid("Subscription", body);
    const listed = (await (await call("GET", "/subscriptions")).json()) as unknown[];
    for (const item of listed) expectValid("Subscription", item);
    // GET -> PUT: what the API shows is a valid request, and the server takes it.
    expectValid("SubscriptionRequest", body);
    const put = await call("PUT", `/subscriptions/${String(body.id)}`, body);
    expect(put.status).toBe(200);
  });

  it("names as defaults the protocol and method a subscription left without them shows (3.2.5.1)", async () => {
    const created = await call("POST", "/subscriptions", { sink: "http://127.0.0.1:9/in" });
    expect(created.status).toBe(201);
    const body = (await created.json()) as {
      protocol: unknown;
      protocolsettings: { method?: unknown };
    };
    type Member = { default?: unknown; properties?: Record<string, Member> };
    const doc = (await (await call("GET", "/openapi.json")).json()) as {
      components: { schemas: { Subscription: { properties: Record<string, Member> } } };
    };
    const members = doc.components.schemas.Subscription.properties;
    expect(members.protocol?.default).toBe(body.protocol);
    expect(members.protocolsettings?.properties?.method?.default).toBe(
      body.protocolsettings.method,
    );
  });
  it("a backoffDelay longer than the default cap: the realized backoffMax keeps a GET a valid PUT", async () => {
    const created = await call("POST", "/subscriptions", {
      sink: "http://127.0.0.1:9/slow",
      types: ["com.example.slow"],
      delivery: { backoffDelay: "2m" },
    });
    const body = (await created.json()) as { id: string; delivery: Record<string, unknown> };
    expect(body.delivery).toMatchObject({ backoffDelay: "2m", backoffMax: "2m" });
    expectValid("Subscription", body);
    expect((await call("PUT", `/subscriptions/${body.id}`, body)).status).toBe(200);
  });

  it("a subscription the sink's 410 disabled", async () => {
    const created = (await (
      await call("POST", "/subscriptions", {
        sink: `${gone.url}/gone`,
        types: ["com.example.gone"],
      })
    ).json()) as { id: string };
    const res = await gateway.fetch(
      new Request("http://gw/events", {
        method: "POST",
        headers: {
          "ce-specversion": "1.0",
          "ce-id": "gone-1",
          "ce-source": "/openapi",
          "ce-type": "com.example.gone",
        },
      }),
    );
    expect(res.status).toBe(202);
    await gone.waitFor(1);
    await gateway.idle();
    const shown = (await (await call("GET", `/subscriptions/${created.id}`)).json()) as {
      disabled?: unknown;
    };
    expect(shown.disabled).toBeDefined();
    expectValid("Subscription", shown);
    // The README's way to enable it again: PUT what GET showed. The document's PUT body takes it.
    const put = paths["/subscriptions/{id}"]?.put as unknown as {
      requestBody: { content: { "application/json": { schema: { $ref: string } } } };
    };
    const ref = put.requestBody.content["application/json"].schema.$ref;
    const validate = schemas.compile({ $ref: `doc${ref}` });
    expect(validate(shown), JSON.stringify(validate.errors)).toBe(true);
    const enabled = await call("PUT", `/subscriptions/${created.id}`, shown);
    expect(enabled.status).toBe(200);
    expect(((await enabled.json()) as { disabled?: unknown }).disabled).toBeUndefined();
  });
});

describe("the request schema refuses what the API refuses", () => {
  it.each([
    ["an empty types list", { sink: "http://127.0.0.1:9/in", types: [] }],
    ["an empty source", { sink: "http://127.0.0.1:9/in", source: "" }],
    ["a sink that is not http(s)", { sink: "ftp://127.0.0.1/in" }],
    [
      "a deadLetterSink that is not http(s)",
      { sink: "http://127.0.0.1:9/in", delivery: { deadLetterSink: "mailto:ops@example.com" } },
    ],
    ["a blank sql filter", { sink: "http://127.0.0.1:9/in", filters: [{ sql: "  " }] }],
    [
      "an exact filter on data",
      { sink: "http://127.0.0.1:9/in", filters: [{ exact: { data: "x" } }] },
    ],
    [
      "a header name that is no HTTP token",
      { sink: "http://127.0.0.1:9/in", protocolsettings: { headers: { "x team": "a" } } },
    ],
    [
      "a header value with a line break",
      { sink: "http://127.0.0.1:9/in", protocolsettings: { headers: { "x-team": "a\r\nb" } } },
    ],
  ])("%s", async (_, body) => {
    expect((await call("POST", "/subscriptions", body)).status).toBe(400);
    const validate = schemas.compile({ $ref: "doc#/components/schemas/SubscriptionRequest" });
    expect(validate(body)).toBe(false);
  });
});

describe("the OpenAPI document lists what the gateway answers", () => {
  const event = { specversion: "1.0", id: "doc-1", source: "/openapi", type: "com.example.doc" };
  const cases: [string, string, RequestInit, string][] = [
    ["/events", "post", binaryEvent(), "202"],
    ["/", "post", binaryEvent(), "202"],
    ["/events", "post", { body: JSON.stringify(event), headers: structured() }, "202"],
    ["/events", "post", { body: JSON.stringify([event]), headers: batch() }, "202"],
    ["/events", "post", { body: "{", headers: structured() }, "400"],
    [
      "/events",
      "post",
      { body: JSON.stringify({ ...event, id: "" }), headers: structured() },
      "400",
    ],
    [
      "/events",
      "post",
      { body: "x", headers: { "content-type": "application/cloudevents+xml" } },
      "415",
    ],
    ["/events", "options", { headers: { "webhook-request-origin": "a.example" } }, "200"],
    // The spec's subscriptions-openapi.yaml answers OPTIONS (getFeatures) with 200.
    ["/subscriptions", "options", {}, "200"],
    ["/healthz", "get", {}, "200"],
    ["/readyz", "get", {}, "200"],
    ["/openapi.json", "get", {}, "200"],
    ["/healthz", "options", {}, "200"],
    ["/readyz", "options", {}, "200"],
    ["/openapi.json", "options", {}, "200"],
    ["/metrics", "options", {}, "200"],
    ["/store/backup", "options", {}, "200"],
    // The gateway of these cases runs on the memory store.
    ["/store/backup", "get", {}, "501"],
  ];

  it.each(cases)("%s %s answers a documented status", async (path, method, init, status) => {
    const res = await gateway.fetch(
      new Request(`http://gw${path}`, { method: method.toUpperCase(), ...init }),
    );
    expect(String(res.status)).toBe(status);
    const operation = paths[path]?.[method];
    expect(operation, `${method} ${path} is documented`).toBeDefined();
    expect(Object.keys(operation?.responses ?? {})).toContain(status);
    const type = res.headers.get("content-type") ?? "";
    if (type.startsWith("application/problem+json")) expectValid("Problem", await res.json());
    else if (method === "get" && (path === "/healthz" || path === "/readyz")) {
      expectValid("Status", await res.json());
    }
  });

  it("documents OPTIONS on the dead set and redrive, with the 404 the gateway answers for an unknown id", async () => {
    for (const path of [
      "/subscriptions/{id}/dead",
      "/subscriptions/{id}/dead/{jobId}",
      "/subscriptions/{id}/redrive",
    ]) {
      expect(Object.keys(paths[path]?.options?.responses ?? {})).toEqual(
        expect.arrayContaining(["200", "404"]),
      );
      const unknown = path.replace("{id}", "nope").replace("{jobId}", "1");
      const res = await gateway.fetch(new Request(`http://gw${unknown}`, { method: "OPTIONS" }));
      expect(res.status).toBe(404);
      expectValid("Problem", await res.json());
    }
  });

  it("documents DELETE of dead deliveries: 200 with deleted, 404 for an unknown id or job", async () => {
    const created = (await (
      await call("POST", "/subscriptions", { sink: "http://127.0.0.1:9/in" })
    ).json()) as { id: string };
    const schema = (path: string) => {
      const ok = paths[path]?.delete?.responses["200"] as
        | { content: { "application/json": { schema: object } } }
        | undefined;
      expect(ok, `DELETE ${path} documents 200`).toBeDefined();
      return schemas.compile(ok?.content["application/json"].schema ?? {});
    };
    const all = await call("DELETE", `/subscriptions/${created.id}/dead`);
    expect(all.status).toBe(200);
    expect(schema("/subscriptions/{id}/dead")(await all.json())).toBe(true);
    for (const [path, url] of [
      ["/subscriptions/{id}/dead", "/subscriptions/nope/dead"],
      ["/subscriptions/{id}/dead/{jobId}", "/subscriptions/nope/dead/1"],
      ["/subscriptions/{id}/dead/{jobId}", `/subscriptions/${created.id}/dead/1`],
    ] as const) {
      const res = await call("DELETE", url);
      expect(res.status).toBe(404);
      expect(Object.keys(paths[path]?.delete?.responses ?? {})).toContain("404");
      expectValid("Problem", await res.json());
    }
    expect(schema("/subscriptions/{id}/dead/{jobId}")({ deleted: 1 })).toBe(true);
  });

  it("documents GET of one dead delivery: the page's item, valid against its 200 schema; 404 for none", async () => {
    const refusing = await startScriptedSink([{ status: 400 }]);
    try {
      const created = (await (
        await call("POST", "/subscriptions", {
          sink: `${refusing.url}/refuses`,
          types: ["com.example.dead"],
          delivery: { retry: 0 },
        })
      ).json()) as { id: string };
      const published = await gateway.fetch(
        new Request("http://gw/events", {
          method: "POST",
          headers: {
            "ce-specversion": "1.0",
            "ce-id": "dead-1",
            "ce-source": "/openapi",
            "ce-type": "com.example.dead",
            "content-type": "application/json",
          },
          body: '{"n":1}',
        }),
      );
      expect(published.status).toBe(202);
      await refusing.waitFor(1);
      await gateway.idle();
      const ok = (path: string, method: "get") => {
        const response = paths[path]?.[method]?.responses["200"] as
          | { content: { "application/json": { schema: object } } }
          | undefined;
        expect(response, `${method} ${path} documents 200`).toBeDefined();
        return schemas.compile(response?.content["application/json"].schema ?? {});
      };
      const page = await (await call("GET", `/subscriptions/${created.id}/dead`)).json();
      const validPage = ok("/subscriptions/{id}/dead", "get");
      expect(validPage(page), JSON.stringify(validPage.errors)).toBe(true);
      const [item] = (page as { items: { jobId: string }[] }).items;
      const one = await call("GET", `/subscriptions/${created.id}/dead/${item?.jobId}`);
      expect(one.status).toBe(200);
      const body = await one.json();
      expect(body).toStrictEqual(item);
      const validItem = ok("/subscriptions/{id}/dead/{jobId}", "get");
      expect(validItem(body), JSON.stringify(validItem.errors)).toBe(true);
      expect(
        Object.keys(paths["/subscriptions/{id}/dead/{jobId}"]?.get?.responses ?? {}),
      ).toContain("404");
      for (const url of [
        `/subscriptions/${created.id}/dead/999999`,
        `/subscriptions/${created.id}/dead/${"z".repeat(100)}`,
        `/subscriptions/nope/dead/${item?.jobId}`,
      ]) {
        const res = await call("GET", url);
        expect(res.status).toBe(404);
        expectValid("Problem", await res.json());
      }
    } finally {
      await refusing.close();
    }
  });

  it("the SubscriptionRequest schema refuses the reply policies the API refuses", async () => {
    const validate = schemas.compile({ $ref: "doc#/components/schemas/SubscriptionRequest" });
    for (const reply of [{ sources: [""] }, { types: [""] }, { sources: [] }, { other: [] }]) {
      const body = { sink: "http://127.0.0.1:9/in", delivery: { reply } };
      expect((await call("POST", "/subscriptions", body)).status).toBe(400);
      expect(validate(body), JSON.stringify(reply)).toBe(false);
    }
    expectValid("SubscriptionRequest", {
      sink: "http://127.0.0.1:9/in",
      delivery: { reply: { sources: ["/billing/*"], types: ["com.example.*"] }, receipts: true },
    });
  });

  it("the CloudEvent schema takes the JSON format's events and refuses one without an id", () => {
    expectValid("CloudEvent", { ...event, subject: "s", time: "2026-11-27T10:00:00Z", data: 1 });
    const validate = schemas.compile({ $ref: "doc#/components/schemas/CloudEvent" });
    expect(validate({ specversion: "1.0", source: "/x", type: "t" })).toBe(false);
  });
});

describe("the OpenAPI document lists what the admin calls answer before they run", () => {
  // Auth on, keys at an address that refuses connections: no token is 401, an empty bearer 400
  // (RFC 6750 3.1), and any token 503 keys_unavailable. Every admin operation, OPTIONS too.
  let guarded: Gateway;
  let doc: { paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> };
  beforeAll(async () => {
    const config = {
      auth: {
        issuers: [
          { issuer: "https://id.example", audience: "herald", jwks: "http://127.0.0.1:9/" },
        ],
        admins: [{ claims: { scope: "herald:admin" } }],
      },
      subscriptions: [],
    };
    guarded = createGateway({ config: parseConfig(JSON.stringify(config), "guarded.json") });
    guarded.start();
    doc = (await (await guarded.fetch(new Request("http://gw/openapi.json"))).json()) as typeof doc;
  });
  afterAll(() => guarded.stop());

  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const token = `${b64({ alg: "ES256", kid: "k" })}.${b64({ iss: "https://id.example", aud: "herald", sub: "ops", exp: 4e9 })}.${"A".repeat(86)}`;
  const admin = () =>
    Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(
          ([method, op]) =>
            method !== "parameters" && (op as { security?: unknown[] }).security === undefined,
        )
        .map(([method, op]) => ({ path, method, responses: Object.keys(op.responses ?? {}) })),
    );

  it.each([
    ["no token", undefined, "401"],
    ["an empty bearer", "Bearer ", "400"],
    ["a token whose keys cannot be fetched", `Bearer ${token}`, "503"],
  ])("%s: every admin operation documents the status", async (_, authorization, status) => {
    const operations = admin();
    expect(operations.map((o) => `${o.method} ${o.path}`)).toContain("options /subscriptions");
    for (const { path, method, responses } of operations) {
      const res = await guarded.fetch(
        new Request(`http://gw${path.replace("{id}", "x")}`, {
          method: method.toUpperCase(),
          headers: authorization === undefined ? {} : { authorization },
        }),
      );
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} ${status}`);
      expect(responses, `${method} ${path}`).toContain(status);
      expectValid("Problem", await res.json());
    }
  });
});

function binaryEvent(): RequestInit {
  return {
    body: '{"n":1}',
    headers: {
      "ce-specversion": "1.0",
      "ce-id": `bin-${Math.random()}`,
      "ce-source": "/openapi",
      "ce-type": "com.example.doc",
      "content-type": "application/json",
    },
  };
}
function structured(): Record<string, string> {
  return { "content-type": "application/cloudevents+json" };
}
function batch(): Record<string, string> {
  return { "content-type": "application/cloudevents-batch+json" };
}
