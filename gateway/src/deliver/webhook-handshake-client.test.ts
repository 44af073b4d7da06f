import { describe, expect, it } from "vitest";
import { subscription } from "../../test/support/dispatcher-kit.js";
import type { SinkClient, SinkMessage } from "./sink-client.js";
import { SinkTimeout } from "./sink-error.js";
import { createWebhookHandshake } from "./webhook-handshake-client.js";

/** A client that answers `status` with `headers` and records what it was sent. */
function answering(status: number, headers: Record<string, string>) {
  const sent: { message: SinkMessage; timeoutMs: number }[] = [];
  const client: SinkClient = {
    async send(message, timeoutMs) {
      sent.push({ message, timeoutMs });
      return {
        status,
        retryAfter: null,
        head: new Uint8Array(0),
        complete: true,
        header: (name) => headers[name.toLowerCase()] ?? null,
        forEachHeader: (fn) => {
          for (const [name, value] of Object.entries(headers)) fn(value, name.toLowerCase());
        },
      };
    },
  };
  return { client, sent };
}

const sub = subscription("s", { timeoutMs: 1_234 }, "https://sink.example/hook");

describe("createWebhookHandshake", () => {
  it("sends OPTIONS with WebHook-Request-Origin (4.1.2) within the subscription's timeout", async () => {
    const { client, sent } = answering(200, { "webhook-allowed-origin": "*" });
    const result = await createWebhookHandshake({ client, origin: "herald" })(sub);
    expect(result).toEqual({ allowed: true, rate: undefined });
    expect(sent).toEqual([
      {
        message: {
          url: "https://sink.example/hook",
          method: "OPTIONS",
          headers: { "webhook-request-origin": "herald" },
          body: undefined,
        },
        timeoutMs: 1_234,
      },
    ]);
  });

  it("asks for the subscription's rate in requests per minute (4.1.4), at least 1", async () => {
    const { client, sent } = answering(200, { "webhook-allowed-origin": "herald" });
    const handshake = createWebhookHandshake({ client, origin: "herald" });
    await handshake(subscription("a", { rate: { count: 5, perMs: 1_000 } }));
    await handshake(subscription("b", { rate: { count: 1, perMs: 3_600_000 } }));
    expect(sent.map((s) => s.message.headers["webhook-request-rate"])).toEqual(["300", "1"]);
  });

  it("takes the granted rate (4.2.2): a number per minute, `*` or nothing for no limit", async () => {
    const granted = (rate: string | undefined) =>
      createWebhookHandshake({
        client: answering(200, {
          "webhook-allowed-origin": "HERALD",
          ...(rate === undefined ? {} : { "webhook-allowed-rate": rate }),
        }).client,
        origin: "herald",
      })(sub);
    expect(await granted("100")).toEqual({ allowed: true, rate: { count: 100, perMs: 60_000 } });
    expect(await granted("*")).toEqual({ allowed: true, rate: undefined });
    expect(await granted(undefined)).toEqual({ allowed: true, rate: undefined });
    expect(await granted("0")).toMatchObject({ allowed: false, status: 200 });
    expect(await granted("ten")).toEqual({
      allowed: false,
      status: 200,
      error: 'webhook handshake refused: invalid WebHook-Allowed-Rate "ten"',
    });
  });

  it("is refused without consent whatever the status (4.2), and on no answer with status 0", async () => {
    const refused = await createWebhookHandshake({
      client: answering(204, {}).client,
      origin: "herald",
    })(sub);
    expect(refused).toEqual({
      allowed: false,
      status: 204,
      error: "webhook handshake refused: status 204 without WebHook-Allowed-Origin",
    });
    const timingOut: SinkClient = { send: () => Promise.reject(new SinkTimeout(1_234)) };
    expect(await createWebhookHandshake({ client: timingOut, origin: "herald" })(sub)).toEqual({
      allowed: false,
      status: 0,
      error: "webhook handshake failed: timeout after 1234ms",
    });
  });

  it("refuses a missing client or an origin that is no token", () => {
    const { client } = answering(200, {});
    expect(() => createWebhookHandshake({ client: undefined as never, origin: "x" })).toThrow(
      TypeError,
    );
    expect(() => createWebhookHandshake({ client, origin: "two words" })).toThrow(TypeError);
  });
});
