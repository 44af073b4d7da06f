import { createHmac } from "node:crypto";
import { createGateway, type Gateway, type GatewayOptions } from "../../src/app/create-gateway.js";
import { parseConfig } from "../../src/config/load-config.js";
import { type RecordingSink, startRecordingSink } from "./recording-sink.js";

/** A CloudEvent as a structured-mode sink receives it. */
export type DeliveredEvent = Record<string, unknown> & { data?: unknown; data_base64?: string };

/** A real gateway (in process) with one structured-mode catch-all subscription to a real sink. */
export interface WebhookGateway {
  readonly gateway: Gateway;
  readonly sink: RecordingSink;
  /** `POST /webhooks/{id}` with a body and headers (a JSON body gets `application/json`). */
  post(
    adapterId: string,
    body: string | Uint8Array | object,
    headers?: Record<string, string>,
  ): Promise<Response>;
  /** Waits until everything accepted so far is delivered, then returns every delivered event. */
  delivered(): Promise<DeliveredEvent[]>;
  stop(): Promise<void>;
}

/**
 * Starts a gateway from `config` (the `adapters`, `auth`, `limits` sections), adding a structured
 * catch-all subscription to a recording sink on 127.0.0.1 and an in-memory store.
 *
 * @example
 * const kit = await startWebhookGateway({ adapters: [{ id: "gh", kind: "github", secret: "s" }] });
 */
export async function startWebhookGateway(
  config: Record<string, unknown>,
  options: Omit<GatewayOptions, "config"> = {},
): Promise<WebhookGateway> {
  const sink = await startRecordingSink();
  const full = {
    store: { kind: "memory" },
    ...config,
    subscriptions: [{ id: "all", sink: `${sink.url}/all`, delivery: { mode: "structured" } }],
  };
  const gateway = createGateway({
    config: parseConfig(JSON.stringify(full), "webhooks.json"),
    ...options,
  });
  gateway.start();
  return {
    gateway,
    sink,
    post(adapterId, body, headers = {}) {
      const json = typeof body === "object" && !(body instanceof Uint8Array);
      const sent = json ? JSON.stringify(body) : (body as string | Uint8Array<ArrayBuffer>);
      return gateway.fetch(
        new Request(`http://gw.test/webhooks/${adapterId}`, {
          method: "POST",
          headers: json ? { "content-type": "application/json", ...headers } : headers,
          body: sent,
        }),
      );
    },
    async delivered() {
      await gateway.idle();
      return sink.received.map((r) => JSON.parse(r.body.toString("utf8")) as DeliveredEvent);
    },
    async stop() {
      await gateway.stop();
      await sink.close();
    },
  };
}

/**
 * GitHub's `X-Hub-Signature-256` for a body: `sha256=` + hex HMAC-SHA256 with the webhook secret
 * (GitHub docs, "Validating webhook deliveries"), computed independently with `node:crypto`.
 */
export function githubSignature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}
