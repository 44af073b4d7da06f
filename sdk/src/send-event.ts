import { encodeHeaderValue } from "./encode-header-value.js";

/** A CloudEvent to send: the required attributes, optional ones and extensions, and `data`. */
export interface OutgoingEvent {
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly specversion?: "1.0";
  readonly datacontenttype?: string;
  readonly data?: unknown;
  readonly [attribute: string]: unknown;
}

export interface SendOptions {
  /** Bearer token for the gateway. */
  readonly token?: string;
  readonly fetch?: typeof fetch;
}

/** The gateway refused the event; `problem` is its RFC 9457 problem document. */
export class SendFailed extends Error {
  override name = "SendFailed";
  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown> | undefined,
  ) {
    super(`the gateway answered ${status}: ${String(problem?.detail ?? "no detail")}`);
  }
}

/**
 * Sends one event to a Herald gateway (or any CloudEvents HTTP receiver) in binary mode:
 * attributes as percent-encoded `ce-*` headers, `data` as the body (JSON unless
 * `datacontenttype` says otherwise; bytes and strings are sent as they are).
 *
 * @example
 * await sendEvent("http://127.0.0.1:8080/events", {
 *   id: crypto.randomUUID(), source: "/orders", type: "com.example.order.created",
 *   data: { orderId: 42 },
 * });
 */
export async function sendEvent(
  endpoint: string,
  event: OutgoingEvent,
  options: SendOptions = {},
): Promise<void> {
  const { data, datacontenttype, ...attributes } = event;
  const headers = new Headers({ "ce-specversion": "1.0" });
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null)
      headers.set(`ce-${name}`, encodeHeaderValue(String(value)));
  }
  if (options.token) headers.set("authorization", `Bearer ${options.token}`);
  let body: BodyInit | null = null;
  if (data !== undefined) {
    if (typeof data === "string" || data instanceof Uint8Array) {
      body = data as BodyInit;
      headers.set("content-type", datacontenttype ?? "text/plain; charset=utf-8");
    } else {
      body = JSON.stringify(data);
      headers.set("content-type", datacontenttype ?? "application/json");
    }
  } else if (datacontenttype) {
    headers.set("content-type", datacontenttype);
  }
  const response = await (options.fetch ?? fetch)(endpoint, { method: "POST", headers, body });
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const problem = (await response.json().catch(() => undefined)) as
    | Record<string, unknown>
    | undefined;
  throw new SendFailed(response.status, problem);
}
