import type { HeraldConfig } from "../config/herald-config.js";

/**
 * Settings the config format defines (DESIGN.md) but this version cannot honour yet, as
 * `field path: why` lines: the `nats` store. A gateway that
 * silently ignored them would drop what a user asked for, so `herald serve` refuses to start and a
 * reload is refused.
 *
 * @example
 * unsupportedSettings(config) // => ["store.kind: nats is not available yet; use sqlite (the default) or memory"]
 */
export function unsupportedSettings(config: HeraldConfig): string[] {
  const found: string[] = [];
  if (config.store.kind === "nats") {
    found.push("store.kind: nats is not available yet; use sqlite (the default) or memory");
  }
  return found;
}
