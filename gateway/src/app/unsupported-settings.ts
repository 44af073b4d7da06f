import type { HeraldConfig } from "../config/herald-config.js";
import type { DeliverySettings } from "../subscriptions/subscription.js";

/** One setting this version cannot honour: the field below `delivery` and why. */
export interface UnsupportedSetting {
  readonly field: string;
  readonly message: string;
}

/**
 * Delivery settings the config format defines (DESIGN.md) but this version cannot honour yet. A
 * gateway that silently ignored them would drop what a user asked to keep (dead-letter sinks) or
 * fail every signed delivery, so `herald serve` refuses to start with them and the Subscriptions
 * API refuses them (400).
 *
 * @example
 * unsupportedDeliverySettings({ mode: "binary", timeoutMs: 5000, retry: 3 });
 * // [{ field: "retry", message: "retries arrive with the durable store" }]
 */
export function unsupportedDeliverySettings(delivery: DeliverySettings): UnsupportedSetting[] {
  const found: UnsupportedSetting[] = [];
  if (delivery.retry !== undefined && delivery.retry > 0) {
    found.push({ field: "retry", message: "retries arrive with the durable store" });
  }
  for (const key of ["backoffPolicy", "backoffDelayMs", "backoffMaxMs"] as const) {
    if (delivery[key] !== undefined) {
      const field = key.replace(/Ms$/, "");
      found.push({ field, message: "retries arrive with the durable store" });
    }
  }
  if (delivery.deadLetterSink !== undefined) {
    found.push({
      field: "deadLetterSink",
      message: "dead-lettering arrives with the durable store",
    });
  }
  if (delivery.signingSecret !== undefined) {
    found.push({ field: "signingSecret", message: "signed deliveries are not available yet" });
  }
  return found;
}

/**
 * Every unsupported setting of a config, as `field path: why` lines (see
 * `unsupportedDeliverySettings`); adapters are not available yet either.
 *
 * @example
 * unsupportedSettings(config) // => ["subscriptions[0].delivery.deadLetterSink: ..."]
 */
export function unsupportedSettings(config: HeraldConfig): string[] {
  const found: string[] = [];
  config.subscriptions.forEach((subscription, i) => {
    for (const { field, message } of unsupportedDeliverySettings(subscription.delivery)) {
      found.push(`subscriptions[${i}].delivery.${field}: ${message}`);
    }
  });
  config.adapters.forEach((adapter, i) => {
    found.push(
      `adapters[${i}] (${String(adapter.kind)}): foreign-payload adapters are not available yet`,
    );
  });
  return found;
}
