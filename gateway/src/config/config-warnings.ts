import type { ConfigIssue } from "./config-invalid.js";
import { readConfigSource } from "./config-source.js";
import { type FieldPath, formatFieldPath } from "./field-path.js";
import type { HeraldConfig } from "./herald-config.js";

/**
 * The event size the CloudEvents spec (spec.md "Size Limits") says intermediaries MUST forward:
 * "Intermediaries MUST forward events of a size of 64 KiB or less", so producers may count on it.
 */
export const SPEC_MIN_EVENT_BYTES = 65_536;

/** The least key size Standard Webhooks asks for ("Random. At least 24 bytes"). */
export const MIN_SIGNING_KEY_BYTES = 24;

/** Bytes of the key in a `whsec_` secret (its padded base64 after the prefix). */
function keyBytes(secret: string): number {
  const encoded = secret.slice("whsec_".length);
  const padding = encoded.endsWith("==") ? 2 : encoded.endsWith("=") ? 1 : 0;
  return (encoded.length / 4) * 3 - padding;
}

/**
 * Settings that are valid but probably not meant: the gateway starts with them, and `herald
 * validate` and `herald serve` say so. Each issue names `file`; with the `text` as written it
 * has a line too (not for the embedded demo, which has no file).
 * - `limits.maxEventBytes` below 64 KiB: Herald, an intermediary, would refuse events the spec
 *   says it must forward.
 * - a `delivery.signingSecret` whose key is under 24 bytes: Standard Webhooks asks for at least
 *   24 random bytes; a short key can be guessed from signed deliveries. A warning, not an error:
 *   a sink may already hold such a secret, and refusing it would stop its deliveries.
 * - an `auth.issuers[].jwks` URL over plain `http:` to a host other than this machine: whoever
 *   can answer for it hands the gateway the keys it trusts. A warning, since DESIGN.md allows
 *   http(s) and a local or sidecar identity provider is fine without TLS.
 * - an `sns` adapter with no `topics`: a message signed by SNS for any AWS account's topic
 *   verifies, so that account can post its topic's messages here; with `autoConfirm` it even
 *   subscribes the endpoint to them.
 * - a `mapping` adapter whose `id` is a constant: dedupe (`source` + `id`) then takes every
 *   event after the first for a redelivery and drops it.
 *
 * @example
 * configWarnings(parseConfig(text, "herald.yaml"), "herald.yaml", text).map(formatConfigIssue);
 * // ["herald.yaml:2:18 limits.maxEventBytes: 1024 is below 65536 bytes (64 KiB), ..."]
 */
export function configWarnings(config: HeraldConfig, file: string, text?: string): ConfigIssue[] {
  const found: { path: FieldPath; message: string }[] = [];
  const { maxEventBytes } = config.limits;
  if (maxEventBytes < SPEC_MIN_EVENT_BYTES) {
    found.push({
      path: ["limits", "maxEventBytes"],
      message:
        `${maxEventBytes} is below ${SPEC_MIN_EVENT_BYTES} bytes (64 KiB), the size the ` +
        'CloudEvents spec says intermediaries MUST forward (spec.md "Size Limits"): events ' +
        "producers may count on being forwarded will be refused with 413",
    });
  }
  config.subscriptions.forEach((subscription, i) => {
    const secrets = subscription.delivery.signingSecret?.split(" ") ?? [];
    const short = secrets.map(keyBytes).filter((n) => n < MIN_SIGNING_KEY_BYTES);
    if (short.length === 0) return;
    // Never the secret itself: warnings end up in logs.
    found.push({
      path: ["subscriptions", i, "delivery", "signingSecret"],
      message:
        `a key of ${short[0]} bytes; Standard Webhooks asks for at least ` +
        `${MIN_SIGNING_KEY_BYTES} random bytes (a short key can be guessed from signed ` +
        'deliveries): make one with: echo "whsec_$(openssl rand -base64 32)"',
    });
  });
  config.auth?.issuers.forEach((issuer, i) => {
    if (issuer.keys.kind !== "url" || !isCleartextRemote(issuer.keys.url)) return;
    found.push({
      path: ["auth", "issuers", i, "jwks"],
      message:
        "is fetched over plain http from another host: anyone on the network path can answer " +
        "with keys of their own and mint tokens this gateway accepts; use https (OpenID Connect " +
        "Discovery and RFC 8414 publish jwks_uri over TLS)",
    });
  });
  config.adapters.forEach((adapter, i) => {
    if (adapter.kind !== "sns" || adapter.topics !== undefined) return;
    if (adapter.autoConfirm) {
      found.push({
        path: ["adapters", i, "autoConfirm"],
        message:
          "is true and the adapter lists no topics: any AWS account can subscribe this endpoint " +
          "to a topic of its own, Herald confirms the subscription, and that topic's messages " +
          "are accepted as events; list the topics you mean in topics",
      });
      return;
    }
    // Without autoConfirm too: the signature proves a message came from SNS, not from whose
    // topic, so a message any AWS account's topic sent to an endpoint of its own verifies here.
    found.push({
      path: ["adapters", i, "kind"],
      message:
        "sns lists no topics: the signature proves only that SNS sent a message, not for whom, " +
        "so any AWS account can post here the signed messages of a topic of its own (received " +
        "at an endpoint of its own) and they are accepted as events; list the topics you mean " +
        "in topics",
    });
  });
  config.adapters.forEach((adapter, i) => {
    if (adapter.kind !== "mapping" || !("constant" in (adapter.attributes.id ?? {}))) return;
    found.push({
      path: ["adapters", i, "attributes", "id"],
      message:
        "is a constant: every event gets the same id, so each one after the first (the other " +
        "records of a payload too) is a duplicate of it and is not delivered; point it at the " +
        "payload's delivery id, or leave it out for the body's hash",
    });
  });
  if (found.length === 0) return [];
  const source = text === undefined ? undefined : readConfigSource(text, file);
  return found.map(({ path, message }) => ({
    file,
    ...source?.locate(path),
    field: formatFieldPath(path),
    message,
  }));
}

/** An `http:` URL whose host is not this machine (`localhost`, 127.0.0.0/8, `[::1]`). */
function isCleartextRemote(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { protocol, hostname } = new URL(url);
  if (protocol !== "http:") return false;
  const host = hostname.toLowerCase();
  const local =
    host === "localhost" ||
    host.endsWith(".localhost") ||
    host === "[::1]" ||
    /^127\.\d+\.\d+\.\d+$/.test(host);
  return !local;
}
