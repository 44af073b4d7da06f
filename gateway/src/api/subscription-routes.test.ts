import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RecordingSink, startRecordingSink } from "../../test/support/recording-sink.js";
import { createGateway, type Gateway } from "../app/create-gateway.js";
import { parseConfig } from "../config/load-config.js";
import { REDACTED } from "./subscription-resource.js";

let sink: RecordingSink;
let gateway: Gateway;
let next = 0;

beforeAll(async () => {
  sink = await startRecordingSink();
  const config = {
    subscriptions: [
      {
        id: "from-file",
        types: ["com.example.file"],
        sink: `${sink.url}/file`,
        protocolsettings: { headers: { authorization: "Bearer file-secret", "x-team": "a" } },
      },
    ],
  };
  gateway = createGateway({
    config: parseConfig(JSON.stringify(config), "test.json"),
    newSubscriptionId: () => `sub-${++next}`,
  });
  gateway.start();
});
afterAll(async () => {
  await gateway.stop();
  await sink.close();
});

const JSON_TYPE = { "content-type": "application/json" };

/** The documented delivery defaults a realized subscription shows (spec 3.2.5.1). */
const DEFAULTS = {
  retry: 3,
  backoffPolicy: "exponential",
  backoffDelay: "500ms",
  backoffMax: "1m",
  concurrency: 16,
  handshake: false,
  receipts: false,
};

function call(method: string, path: string, body?: unknown, headers: HeadersInit = JSON_TYPE) {
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = typeof body === "string" ? body : JSON.stringify(body);
  return gateway.fetch(new Request(`http://gw${path}`, init));
}

async function problem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Record<string, unknown>;
  expect(body.code).toBe(code);
  expect(body.status).toBe(status);
  return body;
}

async function publish(type: string, id: string) {
  const res = await gateway.fetch(
    new Request("http://gw/events", {
      method: "POST",
      headers: { "ce-specversion": "1.0", "ce-id": id, "ce-source": "/api-test", "ce-type": type },
    }),
  );
  expect(res.status).toBe(202);
}

describe("Subscriptions API", () => {
  it("creates a subscription: 201, Location, the realized object; it routes at once", async () => {
    const res = await call("POST", "/subscriptions", {
      id: "ignored",
      types: ["com.example.created"],
      sink: `${sink.url}/created`,
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    // 3.2.1 id: an id on create is ignored; the manager assigns one.
    expect(body.id).not.toBe("ignored");
    expect(res.headers.get("location")).toBe(`/subscriptions/${String(body.id)}`);
    expect(body).toStrictEqual({
      id: body.id,
      types: ["com.example.created"],
      filters: [],
      sink: `${sink.url}/created`,
      protocol: "HTTP",
      protocolsettings: { method: "POST", headers: {} },
      delivery: { mode: "binary", timeout: "5s", ...DEFAULTS },
    });
    const before = sink.received.length;
    await publish("com.example.created", "e1");
    const received = await sink.waitFor(before + 1);
    expect(received.at(-1)?.path).toBe("/created");
    expect(received.at(-1)?.headers["ce-id"]).toBe("e1");
  });

  it("retrieves, lists, updates and deletes", async () => {
    const created = await call("POST", "/subscriptions", {
      types: ["com.example.crud"],
      sink: `${sink.url}/v1`,
      delivery: { timeout: "1500ms" },
    });
    const { id } = (await created.json()) as { id: string };

    const got = await call("GET", `/subscriptions/${id}`);
    expect(got.status).toBe(200);
    expect(((await got.json()) as { delivery: unknown }).delivery).toStrictEqual({
      mode: "binary",
      timeout: "1500ms",
      ...DEFAULTS,
    });

    const list = (await (await call("GET", "/subscriptions")).json()) as { id: string }[];
    expect(list[0]?.id).toBe("from-file");
    expect(list.map((s) => s.id)).toContain(id);

    const put = await call("PUT", `/subscriptions/${id}`, {
      id,
      types: ["com.example.crud"],
      sink: `${sink.url}/v2`,
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { sink: string }).sink).toBe(`${sink.url}/v2`);
    const before = sink.received.length;
    await publish("com.example.crud", "e2");
    expect((await sink.waitFor(before + 1)).at(-1)?.path).toBe("/v2");

    const deleted = await call("DELETE", `/subscriptions/${id}`);
    expect(deleted.status).toBe(200);
    expect(((await deleted.json()) as { id: string }).id).toBe(id);
    await problem(await call("GET", `/subscriptions/${id}`), 404, "not_found");
    await problem(await call("DELETE", `/subscriptions/${id}`), 404, "not_found");
  });

  it("a PUT body's id may repeat the path's, be left out or be null (absent, as for every member); another is 400", async () => {
    const created = await call("POST", "/subscriptions", { sink: `${sink.url}/ids` });
    const { id } = (await created.json()) as { id: string };
    for (const body of [{ id }, {}, { id: null }]) {
      const put = await call("PUT", `/subscriptions/${id}`, { ...body, sink: `${sink.url}/ids` });
      expect(put.status, JSON.stringify(body)).toBe(200);
      expect(((await put.json()) as { id: string }).id).toBe(id);
    }
    for (const other of ["other", 5, ""]) {
      const put = await call("PUT", `/subscriptions/${id}`, { id: other, sink: `${sink.url}/ids` });
      const body = await problem(put, 400, "invalid_subscription");
      expect(body.errors).toEqual([
        { field: "id", message: `must be "${id}", the id in the path, or be left out` },
      ]);
    }
    expect((await call("DELETE", `/subscriptions/${id}`)).status).toBe(200);
  });

  it("what GET returns can be sent back with PUT unchanged", async () => {
    const created = await call("POST", "/subscriptions", {
      source: "/orders",
      types: ["a", "b"],
      filters: [{ any: [{ prefix: { subject: "x/" } }, { not: { suffix: { subject: ".tmp" } } }] }],
      sink: `${sink.url}/round`,
      protocolsettings: { method: "POST", headers: { "x-team": "media" } },
      delivery: { mode: "structured", timeout: "PT2M" },
    });
    const resource = await created.json();
    const { id } = resource as { id: string };
    const put = await call("PUT", `/subscriptions/${id}`, resource);
    expect(put.status).toBe(200);
    expect(await put.json()).toStrictEqual(resource);
    expect((resource as { delivery: unknown }).delivery).toStrictEqual({
      mode: "structured",
      timeout: "2m",
      ...DEFAULTS,
    });
  });

  it("accepts the spec's own example subscription (3.2.1), config kept and shown as sent", async () => {
    // Verbatim but for the sink: `id` is ignored on create, `config` keys are the manager's.
    const example = {
      id: "sub-193-18365",
      config: { data: "hello", interval: 5 },
      filters: [{ prefix: { type: "com.example." } }],
      protocol: "HTTP",
      protocolsettings: { method: "POST" },
      sink: `${sink.url}/spec-example`,
    };
    const created = await call("POST", "/subscriptions", example);
    expect(created.status).toBe(201);
    const resource = (await created.json()) as Record<string, unknown>;
    expect(resource.id).not.toBe("sub-193-18365");
    expect(resource.config).toStrictEqual({ data: "hello", interval: 5 });
    const path = `/subscriptions/${resource.id as string}`;
    expect(await (await call("GET", path)).json()).toStrictEqual(resource);
    const put = await call("PUT", path, { ...resource, config: { interval: 10 } });
    expect(((await put.json()) as Record<string, unknown>).config).toStrictEqual({ interval: 10 });
    // Its prefix would catch the other tests' events: gone before they publish.
    expect((await call("DELETE", path)).status).toBe(200);
    const empty = await problem(
      await call("POST", "/subscriptions", { ...example, config: { "": 1 } }),
      400,
      "invalid_subscription",
    );
    expect(empty.errors).toEqual([{ field: 'config[""]', message: expect.any(String) }]);
  });

  it("never shows credentials in headers; a PUT of the redacted value keeps the stored one", async () => {
    const created = await call("POST", "/subscriptions", {
      types: ["com.example.secret"],
      sink: `${sink.url}/secret`,
      protocolsettings: { headers: { Authorization: "Bearer sink-token", "x-team": "ops" } },
    });
    const text = await created.text();
    expect(text).not.toContain("sink-token");
    const resource = JSON.parse(text) as {
      id: string;
      protocolsettings: { headers: Record<string, string> };
    };
    expect(resource.protocolsettings.headers).toStrictEqual({
      Authorization: REDACTED,
      "x-team": "ops",
    });
    const put = await call("PUT", `/subscriptions/${resource.id}`, {
      ...resource,
      protocolsettings: { headers: { Authorization: REDACTED, "x-team": "dev" } },
    });
    expect(await put.text()).not.toContain("sink-token");
    const before = sink.received.length;
    await publish("com.example.secret", "e3");
    const delivered = (await sink.waitFor(before + 1)).at(-1);
    expect(delivered?.headers.authorization).toBe("Bearer sink-token");
    expect(delivered?.headers["x-team"]).toBe("dev");
    // Config subscriptions are redacted too.
    const fromFile = await (await call("GET", "/subscriptions/from-file")).text();
    expect(fromFile).not.toContain("file-secret");
  });

  it("redacts every header whose name says it holds a key, as the README lists them", async () => {
    // Azure Functions (x-functions-key), Azure API Management (ocp-apim-subscription-key) and
    // similar services authenticate with a `...-key` header: its value is a credential.
    const headers = {
      "x-functions-key": "fn-key-value",
      "ocp-apim-subscription-key": "apim-key-value",
      "x-access-key": "access-key-value",
      "x-auth": "auth-value",
      // Named for what they carry, without one of the words above.
      "x-credential": "credential-value",
      "x-session-id": "session-value",
      "x-jwt": "jwt-value",
      "x-bearer": "bearer-value",
      "x-team": "ops",
    };
    const created = await call("POST", "/subscriptions", {
      sink: `${sink.url}/keys`,
      protocolsettings: { headers },
    });
    expect(created.status).toBe(201);
    const text = await created.text();
    for (const value of [
      "fn-key-value",
      "apim-key-value",
      "access-key-value",
      "auth-value",
      "credential-value",
      "session-value",
      "jwt-value",
      "bearer-value",
    ]) {
      expect(text).not.toContain(value);
    }
    const resource = JSON.parse(text) as { id: string; protocolsettings: unknown };
    expect(resource.protocolsettings).toStrictEqual({
      method: "POST",
      headers: {
        "x-functions-key": REDACTED,
        "ocp-apim-subscription-key": REDACTED,
        "x-access-key": REDACTED,
        "x-auth": REDACTED,
        "x-credential": REDACTED,
        "x-session-id": REDACTED,
        "x-jwt": REDACTED,
        "x-bearer": REDACTED,
        "x-team": "ops",
      },
    });
    // What GET shows goes back with PUT and keeps the stored values.
    const put = await call("PUT", `/subscriptions/${resource.id}`, resource);
    expect(put.status).toBe(200);
    await call("DELETE", `/subscriptions/${resource.id}`);
  });

  it("never shows credentials in sink query parameters; a PUT of the redacted value keeps them", async () => {
    // Azure Functions and many webhook receivers take their key in the URL (`?code=`).
    const created = await call("POST", "/subscriptions", {
      types: ["com.example.urlsecret"],
      sink: `${sink.url}/fn?code=fn-code-value&team=a`,
      delivery: { deadLetterSink: `${sink.url}/dlq?token=dlq-token-value` },
    });
    expect(created.status).toBe(201);
    const text = await created.text();
    expect(text).not.toContain("fn-code-value");
    expect(text).not.toContain("dlq-token-value");
    const resource = JSON.parse(text) as {
      id: string;
      sink: string;
      delivery: { deadLetterSink: string };
    };
    expect(resource.sink).toBe(`${sink.url}/fn?code=${REDACTED}&team=a`);
    expect(resource.delivery.deadLetterSink).toBe(`${sink.url}/dlq?token=${REDACTED}`);
    for (const path of [`/subscriptions/${resource.id}`, "/subscriptions"]) {
      expect(await (await call("GET", path)).text()).not.toContain("fn-code-value");
    }
    // What GET shows goes back with PUT (also percent-encoded) and keeps the stored values.
    const put = await call("PUT", `/subscriptions/${resource.id}`, {
      ...resource,
      sink: `${sink.url}/fn?code=%3Credacted%3E&team=b`,
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { sink: string }).sink).toBe(
      `${sink.url}/fn?code=${REDACTED}&team=b`,
    );
    const before = sink.received.length;
    await publish("com.example.urlsecret", "u1");
    const delivered = (await sink.waitFor(before + 1)).at(-1);
    expect(delivered?.path).toBe("/fn?code=fn-code-value&team=b");
    // A redacted value with nothing stored behind it is refused, on create and on update.
    const unbacked = await call("POST", "/subscriptions", {
      sink: `${sink.url}/fn?code=${REDACTED}`,
    });
    const body = await problem(unbacked, 400, "invalid_subscription");
    expect(body.errors).toEqual([expect.objectContaining({ field: "sink" })]);
    // Both URLs are checked before the answer: each unbacked value is named.
    const both = await call("POST", "/subscriptions", {
      sink: `${sink.url}/fn?code=${REDACTED}`,
      delivery: { deadLetterSink: `${sink.url}/dlq?sig=%3Credacted%3E` },
    });
    expect((await problem(both, 400, "invalid_subscription")).errors).toEqual([
      expect.objectContaining({ field: "sink" }),
      expect.objectContaining({ field: "delivery.deadLetterSink" }),
    ]);
    const newName = await call("PUT", `/subscriptions/${resource.id}`, {
      sink: `${sink.url}/fn?code=${REDACTED}&sig=${REDACTED}`,
    });
    await problem(newName, 400, "invalid_subscription");
    await call("DELETE", `/subscriptions/${resource.id}`);
  });

  it("a PUT that moves the sink to another origin gets no stored credential for <redacted>: 400, nothing sent there", async () => {
    const created = await call("POST", "/subscriptions", {
      types: ["com.example.moved"],
      sink: `${sink.url}/legit?token=query-secret-value`,
      protocolsettings: { headers: { authorization: "Bearer header-secret-value" } },
      delivery: { deadLetterSink: `${sink.url}/dlq?sig=dlq-secret-value` },
    });
    expect(created.status).toBe(201);
    const resource = (await created.json()) as Record<string, unknown> & { id: string };
    // The same recording sink under another origin: `localhost` is not `127.0.0.1`.
    const elsewhere = sink.url.replace("127.0.0.1", "localhost");
    expect(elsewhere).not.toBe(sink.url);
    const moved = await call("PUT", `/subscriptions/${resource.id}`, {
      ...resource,
      sink: `${elsewhere}/attacker?token=${REDACTED}`,
      delivery: { deadLetterSink: `${elsewhere}/attacker-dlq?sig=${REDACTED}` },
    });
    const body = await problem(moved, 400, "invalid_subscription");
    expect(body.errors).toEqual([
      expect.objectContaining({ field: "sink", message: expect.stringContaining("origin") }),
      expect.objectContaining({ field: "delivery.deadLetterSink" }),
    ]);
    // The headers alone, with the sink moved and its query left out.
    const headersOnly = await call("PUT", `/subscriptions/${resource.id}`, {
      ...resource,
      sink: `${elsewhere}/attacker`,
      delivery: {},
    });
    expect((await problem(headersOnly, 400, "invalid_subscription")).errors).toEqual([
      expect.objectContaining({
        field: "protocolsettings.headers.authorization",
        message: expect.stringContaining("origin"),
      }),
    ]);
    // Still the stored subscription: an event goes to the original sink with its credentials.
    const before = sink.received.length;
    await publish("com.example.moved", "m1");
    const delivered = (await sink.waitFor(before + 1)).at(-1);
    expect(delivered?.path).toBe("/legit?token=query-secret-value");
    expect(delivered?.headers.authorization).toBe("Bearer header-secret-value");
    // Moving with the values themselves is fine.
    const fresh = await call("PUT", `/subscriptions/${resource.id}`, {
      ...resource,
      sink: `${elsewhere}/other`,
      protocolsettings: { headers: { authorization: "Bearer new-value" } },
      delivery: {},
    });
    expect(fresh.status).toBe(200);
    await call("DELETE", `/subscriptions/${resource.id}`);
  });

  it("lists the first 100 issues of a subscription with thousands and counts the rest in the detail", async () => {
    const body: Record<string, unknown> = { sink: `${sink.url}/many` };
    for (let i = 0; i < 3_000; i++) body[`k${i}`] = 1;
    const res = await call("POST", "/subscriptions", body);
    const answer = await problem(res, 400, "invalid_subscription");
    expect(answer.errors).toHaveLength(100);
    expect(answer.errors).toContainEqual(expect.objectContaining({ field: "k0" }));
    expect(String(answer.detail)).toContain("(and 2990 more)");
  });

  it("refuses <redacted> where no stored value stands behind it (create, or a new header or secret)", async () => {
    const created = await call("POST", "/subscriptions", {
      sink: `${sink.url}/unbacked`,
      protocolsettings: { headers: { "x-new-token": REDACTED } },
    });
    const onCreate = await problem(created, 400, "invalid_subscription");
    expect(onCreate.errors).toEqual([
      expect.objectContaining({ field: 'protocolsettings.headers["x-new-token"]' }),
    ]);
    const plain = await call("POST", "/subscriptions", { sink: `${sink.url}/unbacked` });
    const { id } = (await plain.json()) as { id: string };
    const header = await call("PUT", `/subscriptions/${id}`, {
      sink: `${sink.url}/unbacked`,
      protocolsettings: { headers: { "x-new-token": REDACTED } },
    });
    await problem(header, 400, "invalid_subscription");
    const secret = await call("PUT", `/subscriptions/${id}`, {
      sink: `${sink.url}/unbacked`,
      delivery: { signingSecret: REDACTED },
    });
    const body = await problem(secret, 400, "invalid_subscription");
    expect(body.errors).toEqual([expect.objectContaining({ field: "delivery.signingSecret" })]);
  });

  it("config subscriptions are visible but read-only: 409 with the reason", async () => {
    const got = await call("GET", "/subscriptions/from-file");
    expect(got.status).toBe(200);
    const put = await problem(
      await call("PUT", "/subscriptions/from-file", { sink: `${sink.url}/x` }),
      409,
      "conflict",
    );
    expect(put.detail).toMatch(/config file.*read-only/);
    // Read-only is the first problem, whatever the body holds.
    await problem(await call("PUT", "/subscriptions/from-file", {}), 409, "conflict");
    await problem(await call("PUT", "/subscriptions/from-file", "{"), 409, "conflict");
    await problem(await call("DELETE", "/subscriptions/from-file"), 409, "conflict");
    expect((await call("GET", "/subscriptions/from-file")).status).toBe(200);
  });

  it("answers OPTIONS with Allow and other methods with 405", async () => {
    // 200, as the spec's OpenAPI document answers getFeatures and getSubscriptionFeatures.
    const collection = await call("OPTIONS", "/subscriptions");
    expect(collection.status).toBe(200);
    expect(collection.headers.get("allow")).toBe("GET, HEAD, POST, OPTIONS");
    expect(await collection.text()).toBe("");
    const item = await call("OPTIONS", "/subscriptions/x");
    expect(item.status).toBe(200);
    expect(item.headers.get("allow")).toBe("GET, HEAD, PUT, DELETE, OPTIONS");
    // A subscription of the config file is read-only here: PUT and DELETE would be 409.
    const fromFile = await call("OPTIONS", "/subscriptions/from-file");
    expect(fromFile.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    const patchFile = await call("PATCH", "/subscriptions/from-file", {});
    expect(patchFile.status).toBe(405);
    expect(patchFile.headers.get("allow")).toBe("GET, HEAD, OPTIONS");
    const patch = await problem(
      await call("PATCH", "/subscriptions/x", {}),
      405,
      "method_not_allowed",
    );
    expect(patch.detail).toMatch(/PATCH/);
    await problem(await call("DELETE", "/subscriptions"), 405, "method_not_allowed");
  });

  describe("bad input: a clear 4xx, nothing created", () => {
    async function count() {
      return ((await (await call("GET", "/subscriptions")).json()) as unknown[]).length;
    }

    it.each([
      ["missing sink", { types: ["t"] }, "sink"],
      ["a sink that is no http URL", { sink: "ftp://x" }, "sink"],
      [
        "an unknown dialect",
        { sink: "http://x/", filters: [{ regex: { type: "a" } }] },
        "filters[0].regex",
      ],
      [
        "an empty attribute name",
        { sink: "http://x/", filters: [{ exact: { "": "a" } }] },
        'filters[0].exact[""]',
      ],
      [
        "an empty attribute value",
        { sink: "http://x/", filters: [{ prefix: { type: "" } }] },
        "filters[0].prefix.type",
      ],
      ["an empty all", { sink: "http://x/", filters: [{ all: [] }] }, "filters[0].all"],
      ["an unknown member", { sink: "http://x/", colour: "red" }, "colour"],
      ["too many retries", { sink: "http://x/", delivery: { retry: 1000 } }, "delivery.retry"],
      // A config file reads "3" as 3 (a JSON config quotes its references); an API body does not.
      ["a number as a string", { sink: "http://x/", delivery: { retry: "3" } }, "delivery.retry"],
      [
        "a boolean as a string",
        { sink: "http://x/", delivery: { handshake: "true" } },
        "delivery.handshake",
      ],
      ["a protocol other than HTTP", { sink: "http://x/", protocol: "MQTT5" }, "protocol"],
    ])("%s -> 400 naming the field", async (_, body, field) => {
      const before = await count();
      const res = await problem(
        await call("POST", "/subscriptions", body),
        400,
        "invalid_subscription",
      );
      const errors = res.errors as { field: string; message: string }[];
      expect(errors.map((e) => e.field)).toContain(field);
      expect(await count()).toBe(before);
    });

    it("broken JSON -> 400", async () => {
      await problem(await call("POST", "/subscriptions", "{"), 400, "malformed_request");
    });

    it("a member name twice in one object -> 400 naming it, as the config refuses it (not last-one-wins)", async () => {
      const before = await count();
      for (const body of [
        `{"sink":"${sink.url}/one","sink":"${sink.url}/two"}`,
        `{"sink":"${sink.url}/one","delivery":{"retry":1,"retry":100}}`,
      ]) {
        const res = await problem(
          await call("POST", "/subscriptions", body),
          400,
          "malformed_request",
        );
        expect(res.detail).toMatch(/"(sink|delivery\.retry)" more than once/);
      }
      expect(await count()).toBe(before);
      const created = await call("POST", "/subscriptions", { sink: `${sink.url}/dup` });
      const { id } = (await created.json()) as { id: string };
      const put = `{"sink":"${sink.url}/dup","types":["a"],"types":["b"]}`;
      await problem(await call("PUT", `/subscriptions/${id}`, put), 400, "malformed_request");
      expect(
        ((await (await call("GET", `/subscriptions/${id}`)).json()) as { types?: unknown }).types,
      ).toBeUndefined();
      await call("DELETE", `/subscriptions/${id}`);
    });

    it("not an object -> 400", async () => {
      await problem(await call("POST", "/subscriptions", "[1]"), 400, "invalid_subscription");
      await problem(await call("POST", "/subscriptions", "null"), 400, "invalid_subscription");
    });

    it("not JSON -> 415 saying what to send", async () => {
      const res = await call("POST", "/subscriptions", "sink=x", {
        "content-type": "application/x-www-form-urlencoded",
      });
      const body = await problem(res, 415, "unsupported_media_type");
      expect(body.detail).toMatch(/application\/json/);
      expect(res.headers.get("accept-post")).toBe("application/json");
      await problem(await call("POST", "/subscriptions", "{}", {}), 415, "unsupported_media_type");
    });

    it("a charset given twice -> 415 whichever comes last (RFC 6838 4.3)", async () => {
      const before = await count();
      for (const type of [
        "application/json; charset=iso-8859-1; charset=utf-8",
        "application/json; charset=utf-8; Charset=utf-8",
      ]) {
        const res = await call("POST", "/subscriptions", `{"sink":"${sink.url}/twice"}`, {
          "content-type": type,
        });
        const body = await problem(res, 415, "unsupported_media_type");
        expect(body.detail).toMatch(/charset twice/);
      }
      expect(await count()).toBe(before);
    });

    it("a charset other than UTF-8 -> 415, never its bytes read as UTF-8", async () => {
      const before = await count();
      // "Ã©" in ISO-8859-1 is the bytes C3 A9, which read as UTF-8 are "é": accepted, it would
      // store a type the client never sent.
      const latin1 = new Uint8Array([
        ...new TextEncoder().encode(`{"sink":"${sink.url}/latin1","types":["caf`),
        0xc3,
        0xa9,
        ...new TextEncoder().encode(`"]}`),
      ]);
      for (const charset of ["iso-8859-1", "utf-16", '"windows-1252"']) {
        const res = await gateway.fetch(
          new Request("http://gw/subscriptions", {
            method: "POST",
            headers: { "content-type": `application/json; charset=${charset}` },
            body: latin1,
          }),
        );
        const body = await problem(res, 415, "unsupported_media_type");
        expect(body.detail).toMatch(/charset=utf-8/);
      }
      expect(await count()).toBe(before);
      const ascii = await call("POST", "/subscriptions", `{"sink":"${sink.url}/é"}`, {
        "content-type": "application/json; charset=US-ASCII",
      });
      expect((await problem(ascii, 400, "malformed_request")).detail).toMatch(/us-ascii/);
      expect(await count()).toBe(before);
      for (const charset of ["UTF-8", "utf8", '"utf-8"', "us-ascii"]) {
        const res = await call("POST", "/subscriptions", `{"sink":"${sink.url}/ok"}`, {
          "content-type": `application/json; charset=${charset}`,
        });
        expect(res.status).toBe(201);
        const { id } = (await res.json()) as { id: string };
        await call("DELETE", `/subscriptions/${id}`);
      }
    });

    it("oversized -> 413", async () => {
      const body = JSON.stringify({ sink: "http://x/", types: ["x".repeat(70_000)] });
      await problem(await call("POST", "/subscriptions", body), 413, "payload_too_large");
    });

    it("hostile nesting -> 400, never a stack overflow", async () => {
      const deep = `${'{"not":'.repeat(6_000)}{"exact":{"type":"a"}}${"}".repeat(6_000)}`;
      const body = `{"sink":"http://x/","filters":[${deep}]}`;
      await problem(await call("POST", "/subscriptions", body), 400, "malformed_request");
    });

    it("invalid UTF-8 -> 400", async () => {
      const res = await gateway.fetch(
        new Request("http://gw/subscriptions", {
          method: "POST",
          headers: JSON_TYPE,
          body: new Uint8Array([0x7b, 0xff, 0x7d]),
        }),
      );
      await problem(res, 400, "malformed_request");
    });

    it("__proto__ in the body is an unknown member, not a prototype", async () => {
      const res = await call("POST", "/subscriptions", '{"sink":"http://x/","__proto__":{"x":1}}');
      await problem(res, 400, "invalid_subscription");
    });

    it("a PUT whose body id differs from the path -> 400", async () => {
      const created = await call("POST", "/subscriptions", { sink: `${sink.url}/id` });
      const { id } = (await created.json()) as { id: string };
      const res = await problem(
        await call("PUT", `/subscriptions/${id}`, { id: "other", sink: `${sink.url}/id` }),
        400,
        "invalid_subscription",
      );
      expect((res.errors as { field: string }[])[0]?.field).toBe("id");
      await call("DELETE", `/subscriptions/${id}`);
    });

    it("a PUT to an unknown id -> 404, nothing created", async () => {
      const before = await count();
      await problem(
        await call("PUT", "/subscriptions/nope", { sink: "http://x/" }),
        404,
        "not_found",
      );
      expect(await count()).toBe(before);
    });

    it("a percent-encoded id in the path is an unknown id (404), not a route error", async () => {
      await problem(await call("GET", "/subscriptions/a%2Fb%20c"), 404, "not_found");
      const res = await call("GET", `/subscriptions/${encodeURIComponent("from-file")}`);
      expect(res.status).toBe(200);
    });
  });
});

describe("GET /openapi.json", () => {
  it("is an OpenAPI 3.1 document of the subscription operations", async () => {
    const res = await call("GET", "/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const operations = Object.values(doc.paths).flatMap((item) =>
      Object.values(item).map((op) => op.operationId),
    );
    for (const op of [
      "getSubscriptions",
      "createSubscription",
      "getSubscription",
      "updateSubscription",
      "deleteSubscription",
      "getDeadDeliveries",
      "getDeadDelivery",
      "redriveDeadDeliveries",
      "deleteDeadDeliveries",
      "deleteDeadDelivery",
    ]) {
      expect(operations).toContain(op);
    }
  });

  it("every $ref resolves inside the document", async () => {
    const doc = await (await call("GET", "/openapi.json")).json();
    const refs: string[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === "object" && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          if (key === "$ref" && typeof value === "string") refs.push(value);
          else walk(value);
        }
      }
    };
    walk(doc);
    expect(refs.length).toBeGreaterThan(10);
    for (const ref of refs) {
      let node: unknown = doc;
      for (const part of ref.replace(/^#\//, "").split("/")) {
        node = (node as Record<string, unknown> | undefined)?.[part];
      }
      expect(node, ref).toBeDefined();
    }
  });
});
