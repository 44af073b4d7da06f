import { Forbidden } from "../auth/policy-errors.js";
import { MalformedRequest, PayloadTooLarge } from "../errors/errors.js";
import { fetchKeepingAbort } from "../http/fetch-keeping-abort.js";
import { readStreamCapped } from "../ingest/read-body.js";
import type { FetchLike } from "../ports/fetch.js";
import type { Logger } from "../ports/logger.js";
import { foreignEvent } from "./foreign-event.js";
import { isJsonObject, payloadFields } from "./payload-fields.js";
import type { SnsCertificates, SnsHash } from "./sns-certificates.js";
import { confirmedSubscriptionArn, isSubscriptionOf } from "./sns-subscription-arn.js";
import { snsUrlTrusted } from "./sns-trusted-url.js";
import type { WebhookAdapter, WebhookRequest } from "./webhook-adapter.js";
import { InvalidSignature } from "./webhook-errors.js";
import { eventTime } from "./webhook-time.js";

const SCHEME = "x-amz-sns-signature";
const SUBSCRIPTION_HEADER = "x-amz-sns-subscription-arn";
/** Hash by `SignatureVersion` (a Map: a version such as "constructor" must find nothing). */
const HASHES: ReadonlyMap<string, SnsHash> = new Map([
  ["1", "SHA-1"],
  ["2", "SHA-256"],
]);
const MESSAGE_TYPES = ["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"];
/** Keys signed, in this order ("Verifying the signatures of Amazon SNS messages"). */
const SIGNED_NOTIFICATION = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
const SIGNED_CONFIRMATION = [
  "Message",
  "MessageId",
  "SubscribeURL",
  "Timestamp",
  "Token",
  "TopicArn",
  "Type",
];
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const encoder = new TextEncoder();

export interface SnsAdapterOptions {
  readonly id: string;
  /** Where signing certificates come from (shared by every SNS adapter of a gateway). */
  readonly certificates: SnsCertificates;
  /**
   * URL prefixes SNS may point `SigningCertURL` and `SubscribeURL` at; default: any
   * `https://sns.<region>.amazonaws.com/` (see `snsUrlTrusted`).
   */
  readonly trustedUrls?: readonly string[] | undefined;
  /** The only `TopicArn`s accepted (403 for others); default any topic. */
  readonly topics?: readonly string[] | undefined;
  /**
   * The only subscription ARNs notifications and unsubscribe confirmations may come through (403
   * for others); default any well-formed subscription of the message's topic. The header that
   * carries it is not signed: this pins it, so a captured message cannot be replayed under
   * another subscription (another `source`, which dedupe would not recognise).
   */
  readonly subscriptions?: readonly string[] | undefined;
  /** Confirm subscriptions by fetching their `SubscribeURL` once accepted (default false). */
  readonly autoConfirm?: boolean;
  /** For `autoConfirm`. */
  readonly fetch: FetchLike;
  readonly logger: Logger;
}

/**
 * The `sns` adapter (cloudevents/adapters/aws-sns.md): an SNS HTTP(S) delivery becomes one
 * CloudEvent: `id` = `x-amz-sns-message-id`, `source` = `x-amz-sns-topic-arn` for a
 * subscription confirmation and `x-amz-sns-subscription-arn` otherwise, `type` =
 * `com.amazonaws.sns.` + `x-amz-sns-message-type`, `subject` = `Subject` (notifications, when
 * present), `time` = `Timestamp`, `data` = the message as verified (`application/json`).
 *
 * Authenticated by the message signature: `SignatureVersion` 1 (SHA1withRSA) or 2
 * (SHA256withRSA) over the signed keys, checked with the certificate at `SigningCertURL`, which
 * must be trusted (`snsUrlTrusted`). The signature covers the body only, so the headers the
 * mapping reads must agree with the signed message; `x-amz-sns-subscription-arn`, which the
 * message does not hold, must be a subscription ARN of its topic (`<TopicArn>:<uuid>`), and one
 * of `subscriptions` when they are configured. Raw message delivery carries no signature
 * and is refused (401). A subscription confirmation is stored as an event and, with
 * `autoConfirm`, confirmed.
 *
 * @example
 * createSnsAdapter({ id: "orders-topic", certificates, fetch, logger, topics: ["arn:aws:sns:eu-west-1:123456789012:orders"] });
 */
export function createSnsAdapter(options: SnsAdapterOptions): WebhookAdapter {
  const { certificates, trustedUrls, topics, subscriptions } = options;
  const { autoConfirm = false, fetch, logger } = options;
  return {
    id: options.id,
    kind: "sns",
    auth: { scheme: "signature", authtype: "system" },
    records: false,
    // SNS posts `text/plain; charset=UTF-8`.
    mediaTypes: ["text/plain", "application/json"],
    async verify(request) {
      if (request.header("x-amz-sns-rawdelivery")?.trim().toLowerCase() === "true") {
        throw new InvalidSignature(
          SCHEME,
          "raw message delivery carries no signature; turn it off for this subscription",
        );
      }
      const message = signedMessage(request);
      if (!isJsonObject(message) || typeof message.Signature !== "string") {
        throw new InvalidSignature(SCHEME, "the body is not a signed SNS message (raw delivery?)");
      }
      const hash = HASHES.get(String(message.SignatureVersion));
      if (hash === undefined) {
        throw new InvalidSignature(SCHEME, "SignatureVersion must be 1 or 2");
      }
      const certUrl = message.SigningCertURL;
      if (typeof certUrl !== "string" || !snsUrlTrusted(certUrl, trustedUrls)) {
        throw new InvalidSignature(SCHEME, "SigningCertURL is not a trusted SNS certificate URL");
      }
      if (!BASE64.test(message.Signature)) {
        throw new InvalidSignature(SCHEME, "Signature is not Base64");
      }
      const signed = stringToSign(message);
      const key = await certificates.key(certUrl, hash);
      const signature = Uint8Array.from(atob(message.Signature), (c) => c.charCodeAt(0));
      const ok =
        signed !== undefined &&
        (await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, signature, encoder.encode(signed)));
      if (!ok) throw new InvalidSignature(SCHEME, "the SNS message signature does not verify");
      if (topics !== undefined && !topics.includes(String(message.TopicArn))) {
        throw new Forbidden("this adapter does not accept messages of that SNS topic");
      }
      const subscription = request.header(SUBSCRIPTION_HEADER);
      if (
        subscriptions !== undefined &&
        message.Type !== "SubscriptionConfirmation" &&
        subscription !== undefined &&
        !subscriptions.includes(subscription)
      ) {
        throw new Forbidden("this adapter does not accept messages of that SNS subscription");
      }
    },
    normalise(request) {
      const message = request.json();
      const fields = payloadFields("sns", message);
      const type = request.header("x-amz-sns-message-type");
      const id = request.header("x-amz-sns-message-id");
      const topic = request.header("x-amz-sns-topic-arn");
      const subscription = request.header(SUBSCRIPTION_HEADER);
      agree(fields, "x-amz-sns-message-type", type, "Type");
      agree(fields, "x-amz-sns-message-id", id, "MessageId");
      agree(fields, "x-amz-sns-topic-arn", topic, "TopicArn");
      const confirmation = type === "SubscriptionConfirmation";
      if (!confirmation) {
        if (subscription === undefined || subscription === "")
          fields.problem(`header ${SUBSCRIPTION_HEADER}`, "is missing");
        else if (topic !== undefined && !isSubscriptionOf(subscription, topic)) {
          fields.problem(
            `header ${SUBSCRIPTION_HEADER}`,
            "is not a subscription ARN of the topic (the TopicArn, ':' and a lower-case UUID)",
          );
        }
      }
      fields.throwIfProblems();
      const subject = type === "Notification" ? fields.optionalText("Subject") : undefined;
      return {
        kind: "events",
        events: [
          foreignEvent(
            {
              id: id!,
              source: confirmation ? topic! : subscription!,
              type: `com.amazonaws.sns.${type}`,
              subject,
              time: eventTime([fields.get("Timestamp")], request.receivedAt),
            },
            // The message as parsed and verified, written out again, not the text as posted: the
            // signature covers the parsed values, so an unsigned duplicate key put before a signed
            // one (`{"Message":"forged",...,"Message":"signed"}`) would reach a consumer whose
            // JSON parser keeps the first of duplicate keys.
            { kind: "json", value: message },
          ),
        ],
      };
    },
    async afterAccept(request) {
      if (!autoConfirm) return;
      const message = request.json();
      if (!isJsonObject(message) || message.Type !== "SubscriptionConfirmation") return;
      await confirm(message.SubscribeURL, String(message.TopicArn));
    },
  };

  async function confirm(url: unknown, topic: string): Promise<void> {
    if (typeof url !== "string" || !snsUrlTrusted(url, trustedUrls)) {
      logger.warn("SNS subscription not confirmed: SubscribeURL is not trusted", {
        adapter: options.id,
        topic,
      });
      return;
    }
    try {
      const response = await fetchKeepingAbort(
        fetch,
        new Request(url, { signal: AbortSignal.timeout(10_000) }),
      );
      if (response.ok) {
        // SNS answers with the new subscription's ARN: the value for the adapter's `subscriptions`.
        const subscription = confirmedSubscriptionArn(await confirmationAnswer(response));
        logger.info("SNS subscription confirmed", { adapter: options.id, topic, subscription });
      } else {
        await response.body?.cancel();
        logger.warn("SNS subscription confirmation refused", {
          adapter: options.id,
          topic,
          status: response.status,
        });
      }
    } catch (err) {
      logger.warn("SNS subscription confirmation failed", {
        adapter: options.id,
        topic,
        error: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

/** SNS's `ConfirmSubscriptionResponse` is a few hundred bytes. */
const MAX_CONFIRMATION_BYTES = 65_536;

/**
 * The text of a confirmation's answer, read no further than `MAX_CONFIRMATION_BYTES`: an answer
 * without end held the webhook's `202` and grew in memory until the timeout. Past the limit it is
 * empty (the subscription is confirmed all the same; only its ARN goes unlogged).
 */
async function confirmationAnswer(response: Response): Promise<string> {
  try {
    return new TextDecoder().decode(await readStreamCapped(response.body, MAX_CONFIRMATION_BYTES));
  } catch (err) {
    if (err instanceof PayloadTooLarge) return "";
    throw err;
  }
}

/** A header the mapping reads must be the signed message's value, since only the body is signed. */
function agree(
  fields: ReturnType<typeof payloadFields>,
  header: string,
  value: string | undefined,
  key: string,
): void {
  if (value === undefined || value === "") fields.problem(`header ${header}`, "is missing");
  else if (value !== fields.get(key)) {
    fields.problem(`header ${header}`, `does not match the signed message's ${key}`);
  }
}

/** The text SNS signed, or `undefined` when a signed key is missing or of the wrong type. */
function stringToSign(message: Readonly<Record<string, unknown>>): string | undefined {
  const type = message.Type;
  if (typeof type !== "string" || !MESSAGE_TYPES.includes(type)) return undefined;
  const keys = type === "Notification" ? SIGNED_NOTIFICATION : SIGNED_CONFIRMATION;
  let text = "";
  for (const key of keys) {
    const value = message[key];
    // Subject is signed only when the notification has one.
    if (key === "Subject" && (value === undefined || value === null)) continue;
    if (typeof value !== "string") return undefined;
    text += `${key}\n${value}\n`;
  }
  return text;
}

/** The body as JSON, or `undefined` when it is not JSON: then it is no signed SNS message (401). */
function signedMessage(request: WebhookRequest): unknown {
  try {
    return request.json();
  } catch (err) {
    if (err instanceof MalformedRequest) return undefined;
    throw err;
  }
}
