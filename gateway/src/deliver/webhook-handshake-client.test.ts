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
    // Refused by its headers, a 200 is no failure status: 0, as heralderrorcode shows it.
    for (const odd of ["0", "-1", "1.5", "1e3", "+5", "5, 10", "99999999999999999999", ""]) {
      expect(await granted(odd)).toMatchObject({ allowed: false, status: 0 });
    }
    expect(await granted("ten")).toEqual({
      allowed: false,
      status: 0,
      error:
        'webhook handshake refused: status 200 with an invalid WebHook-Allowed-Rate "ten" (a positive integer or *)',
    });
  });

  it("is refused without consent whatever the status (4.2), and on no answer with status 0", async () => {
    const refused = await createWebhookHandshake({
      client: answering(204, {}).client,
      origin: "herald",
    })(sub);
    // A 2xx refused by its headers: heralderrorcode 200 would read as "the sink said OK".
    expect(refused).toEqual({
      allowed: false,
      status: 0,
      error: "webhook handshake refused: status 204 without WebHook-Allowed-Origin",
    });
    const refusing = (status: number, headers: Record<string, string> = {}) =>
      createWebhookHandshake({ client: answering(status, headers).client, origin: "herald" })(sub);
    expect(await refusing(200, { "webhook-allowed-origin": "other" })).toEqual({
      allowed: false,
      status: 0,
      error:
        'webhook handshake refused: status 200 with WebHook-Allowed-Origin "other", which does not allow "herald"',
    });
    // A failure status says more than 0: kept (405: the sink takes no OPTIONS).
    for (const status of [301, 403, 404, 405, 500]) {
      expect(await refusing(status)).toMatchObject({ allowed: false, status });
    }
    expect(await refusing(403, { "webhook-allowed-origin": "other" })).toMatchObject({
      status: 403,
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
