import { MalformedRequest } from "../errors/errors.js";
import { jsonTooDeep, MAX_JSON_DEPTH } from "../event/json-depth.js";
import { jsonSyntaxReason } from "../http/json-syntax-reason.js";
import type { WebhookRequest } from "./webhook-adapter.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses JSON text of a webhook payload: 400 `malformed_request` when it is not JSON, or nests
 * deeper than any real payload does (a hostile depth would overflow later walks of the value).
 *
 * @example
 * parsePayloadJson('{"Records":[]}'); // { Records: [] }
 */
export function parsePayloadJson(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof SyntaxError ? jsonSyntaxReason(text) : "unparseable";
    throw new MalformedRequest(`the body is not valid JSON: ${reason}`);
  }
  if (jsonTooDeep(value)) {
    throw new MalformedRequest(`the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return value;
}

/**
 * A `WebhookRequest` over a Web `Request` whose body has been read; text and JSON are decoded on
 * first use and kept.
 *
 * @example
 * const webhook = webhookRequest(request, body, "application/json", clock.now(), 100);
 */
export function webhookRequest(
  request: Request,
  body: Uint8Array,
  mediaType: string,
  receivedAt: number,
  maxRecords: number,
): WebhookRequest {
  let text: string | undefined;
  let json: { value: unknown } | undefined;
  const decode = (): string => {
    if (text === undefined) {
      try {
        text = utf8.decode(body);
      } catch {
        throw new MalformedRequest("the body is not valid UTF-8");
      }
    }
    return text;
  };
  return {
    header: (name) => request.headers.get(name) ?? undefined,
    url: new URL(request.url),
    body,
    mediaType,
    receivedAt,
    maxRecords,
    text: decode,
    json() {
      json ??= { value: parsePayloadJson(decode()) };
      return json.value;
    },
  };
}
