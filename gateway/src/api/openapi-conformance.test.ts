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
  };
  schemas = new Ajv2020({ strict: false, validateFormats: false });
  // Register the components under the document's own $ref base.
  schemas.addSchema({ $id: "doc", components: doc.components });
});
afterAll(async () => {
  await gateway.stop();
  await gone.close();
});

function expectValid(schema: "Subscription" | "SubscriptionRequest", value: unknown) {
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
  });
});
