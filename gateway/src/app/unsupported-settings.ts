import type { HeraldConfig } from "../config/herald-config.js";

/**
 * Settings the config format defines (DESIGN.md) but this version cannot honour yet, as
 * `field path: why` lines. A gateway that silently ignored them would drop what a user asked
 * for, so `herald serve` refuses to start and a reload is refused. Every setting is honoured
 * today (the `nats` store was the last), so the list is empty; the check stays for the next one.
 *
 * @example
 * unsupportedSettings(config) // => []
 */
export function unsupportedSettings(_config: HeraldConfig): string[] {
  return [];
}
