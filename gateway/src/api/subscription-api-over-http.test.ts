import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GatewayOverHttp,
  startGatewayOverHttp,
} from "../../test/support/gateway-over-http.js";

// Bodies a client writes from the Subscriptions API spec, sent over a real connection.
let http: GatewayOverHttp;

beforeAll(async () => {
  http = await startGatewayOverHttp({ store: { kind: "memory" } }, "api-over-http.json");
});
afterAll(() => http.close());

async function create(body: Record<string, unknown>) {
  const res = await fetch(`${http.base}/subscriptions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sink: "http://127.0.0.1:9/in", ...body }),
  });
  const type = res.headers.get("content-type");
  return { status: res.status, type, body: (await res.json()) as Record<string, unknown> };
}

async function count() {
  const res = await fetch(`${http.base}/subscriptions`);
  return ((await res.json()) as unknown[]).length;
}

describe("sinkcredential (Subscriptions API 3.2.1, 3.2.3)", () => {
  const credential = {
    credentialtype: "ACCESSTOKEN",
    accesstoken: "t0k3n",
    accesstokentype: "Bearer",
  };

  it("the spec's spelling is refused with 400, naming what carries a sink's credential here", async () => {
    const before = await count();
    const res = await create({ sinkcredential: credential });
    expect(res.status).toBe(400);
    expect(res.type).toBe("application/problem+json");
    expect(res.body).toMatchObject({ code: "invalid_subscription", status: 400 });
    expect(res.body.errors).toEqual([
      {
        field: "sinkcredential",
        message: expect.stringMatching(
          /^not supported: send the sink's credential as a header in protocolsettings\.headers .* delivery\.signingSecret$/,
        ),
      },
    ]);
    expect(JSON.stringify(res.body)).not.toContain("t0k3n");
    expect(await count()).toBe(before);
  });

  it.each(["sinkCredential", "sinkcredentials", "sink_credential"])(
    "%s is refused with 400 naming the spec's spelling, sinkcredential",
    async (key) => {
      const res = await create({ [key]: credential });
      expect(res.status).toBe(400);
      expect(res.type).toBe("application/problem+json");
      expect(res.body.errors).toEqual([
        {
          field: key,
          message: expect.stringContaining(
            "unknown key: the Subscriptions API's OpenAPI document spells it sinkcredential (spec.md 3.2.1 heads it sinkCredential, but every other member is lower case), which is not supported either",
          ),
        },
      ]);
    },
  );
});

describe("a zero backoff (DESIGN.md: failures are retried with backoff)", () => {
  const message = "must be longer than zero: with 0 every retry is sent at once, without backoff";

  it.each([
    ["backoffDelay", "0ms"],
    ["backoffDelay", "PT0S"],
    ["backoffMax", "0s"],
  ])("POST with delivery.%s %s: 400 naming the field, nothing created", async (field, zero) => {
    const before = await count();
    const res = await create({ delivery: { [field]: zero } });
    expect(res.status).toBe(400);
    expect(res.type).toBe("application/problem+json");
    expect(res.body.errors).toEqual([{ field: `delivery.${field}`, message }]);
    expect(await count()).toBe(before);
  });

  it("PUT with a zero backoffDelay: 400, the stored subscription unchanged", async () => {
    const created = await create({ delivery: { backoffDelay: "1ms" } });
    expect(created.status).toBe(201);
    const url = `${http.base}/subscriptions/${String(created.body.id)}`;
    const put = await fetch(url, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sink: "http://127.0.0.1:9/in", delivery: { backoffDelay: "PT0S" } }),
    });
    expect(put.status).toBe(400);
    expect(((await put.json()) as { errors: unknown }).errors).toEqual([
      { field: "delivery.backoffDelay", message },
    ]);
    const stored = (await (await fetch(url)).json()) as { delivery: Record<string, unknown> };
    expect(stored.delivery.backoffDelay).toBe("1ms");
  });
});
