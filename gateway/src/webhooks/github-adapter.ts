import { MalformedRequest } from "../errors/errors.js";
import { fillEventTemplate } from "./field-template.js";
import { foreignEvent } from "./foreign-event.js";
import { GITHUB_EVENTS } from "./github-events.js";
import { payloadFields, quoteValue } from "./payload-fields.js";
import { hmacSha256Key, verifyHmacHex } from "./shared-secret.js";
import type { WebhookAdapter, WebhookRequest } from "./webhook-adapter.js";
import { InvalidSignature } from "./webhook-errors.js";
import { parsePayloadJson } from "./webhook-request.js";
import { eventTime } from "./webhook-time.js";

const SIGNATURE = "X-Hub-Signature-256";
const FORM = "application/x-www-form-urlencoded";

/**
 * The `github` adapter (cloudevents/adapters/github.md): one CloudEvent per delivery, `id` =
 * `X-GitHub-Delivery` (the same on a redelivery, so dedupe drops it), the rest per event from
 * `GITHUB_EVENTS`, `data` = the body (`application/json`; a form-encoded delivery's `payload`).
 * Authenticated by `X-Hub-Signature-256`, the HMAC-SHA256 of the body with the webhook secret,
 * checked in constant time before the body is parsed. GitHub's `ping` (sent when a webhook is
 * created) is acknowledged with 204.
 *
 * @example
 * const adapter = createGitHubAdapter({ id: "github-main", secret: process.env.GITHUB_WEBHOOK_SECRET });
 */
export function createGitHubAdapter(options: {
  readonly id: string;
  readonly secret: string;
}): WebhookAdapter {
  if (options.secret === "") throw new TypeError("createGitHubAdapter: secret must not be empty");
  let key: Promise<CryptoKey> | undefined;
  return {
    id: options.id,
    kind: "github",
    auth: { scheme: "signature", authtype: "api_key" },
    records: false,
    mediaTypes: ["application/json", FORM],
    async verify(request) {
      const header = request.header(SIGNATURE);
      if (header === undefined) {
        throw new InvalidSignature(SIGNATURE, `the request carries no ${SIGNATURE} header`);
      }
      key ??= hmacSha256Key(options.secret);
      const hex = header.startsWith("sha256=") ? header.slice(7) : "";
      if (!(await verifyHmacHex(await key, hex, request.body))) {
        throw new InvalidSignature(SIGNATURE, `${SIGNATURE} does not match the body`);
      }
    },
    normalise(request) {
      const event = request.header("x-github-event");
      if (event === "ping") return { kind: "acknowledge", reason: "GitHub ping" };
      const { payload, text } = githubPayload(request);
      const fields = payloadFields("github", payload);
      const id = request.header("x-github-delivery");
      if (id === undefined || id === "") fields.problem("header X-GitHub-Delivery", "is missing");
      const mapping =
        event !== undefined && Object.hasOwn(GITHUB_EVENTS, event)
          ? GITHUB_EVENTS[event]
          : undefined;
      if (mapping === undefined) {
        fields.problem(
          "header X-GitHub-Event",
          event === undefined
            ? "is missing"
            : `is ${quoteValue(event)}, an event cloudevents/adapters/github.md does not map`,
        );
        return fields.fail();
      }
      const { source, type, subject } = fillEventTemplate(mapping, fields);
      const times =
        mapping.time === undefined
          ? []
          : typeof mapping.time === "function"
            ? mapping.time(fields)
            : mapping.time.map((path) => fields.get(path));
      fields.throwIfProblems();
      return {
        kind: "events",
        events: [
          foreignEvent(
            {
              id: id!,
              source: source!,
              type: type!,
              subject,
              time: eventTime(times, request.receivedAt),
            },
            { kind: "json", value: payload, text },
          ),
        ],
      };
    },
  };
}

/** The JSON payload and its text: the body, or the `payload` field of a form-encoded one. */
function githubPayload(request: WebhookRequest): { payload: unknown; text: string } {
  if (request.mediaType !== FORM) return { payload: request.json(), text: request.text() };
  const text = new URLSearchParams(request.text()).get("payload");
  if (text === null) {
    throw new MalformedRequest("a form-encoded GitHub delivery must have a payload field");
  }
  return { payload: parsePayloadJson(text), text };
}
