import type { HeraldConfig } from "../config/herald-config.js";

/**
 * Settings the config format defines (DESIGN.md) but this version cannot honour yet, as
 * `field path: why` lines. A gateway that silently ignored them would drop what a user asked to
 * keep (dead-letter sinks) or fail every signed delivery, so `herald serve` refuses to start.
 *
 * @example
 * unsupportedSettings(config) // => ["subscriptions[0].delivery.deadLetterSink: ..."]
 */
export function unsupportedSettings(config: HeraldConfig): string[] {
  const found: string[] = [];
  config.subscriptions.forEach((subscription, i) => {
    const d = subscription.delivery;
    const at = `subscriptions[${i}].delivery`;
    if (d.retry !== undefined && d.retry > 0)
      found.push(`${at}.retry: retries arrive with the durable store`);
    for (const key of ["backoffPolicy", "backoffDelayMs", "backoffMaxMs"] as const) {
      if (d[key] !== undefined)
        found.push(`${at}.${key.replace(/Ms$/, "")}: retries arrive with the durable store`);
    }
    if (d.deadLetterSink !== undefined)
      found.push(`${at}.deadLetterSink: dead-lettering arrives with the durable store`);
    if (d.signingSecret !== undefined)
      found.push(`${at}.signingSecret: signed deliveries are not available yet`);
  });
  config.adapters.forEach((adapter, i) => {
    found.push(
      `adapters[${i}] (${String(adapter.kind)}): foreign-payload adapters are not available yet`,
    );
  });
  return found;
}
