import type { HeraldConfig } from "../config/herald-config.js";

/**
 * Settings the config format defines (DESIGN.md) but this version cannot honour yet, as
 * `field path: why` lines: foreign-payload `adapters` and the `nats` store. A gateway that
 * silently ignored them would drop what a user asked for, so `herald serve` refuses to start and a
 * reload is refused.
 *
 * @example
 * unsupportedSettings(config) // => ["adapters[0] (github): foreign-payload adapters are not available yet"]
 */
export function unsupportedSettings(config: HeraldConfig): string[] {
  const found: string[] = [];
  config.adapters.forEach((adapter, i) => {
    found.push(
      `adapters[${i}] (${String(adapter.kind)}): foreign-payload adapters are not available yet`,
    );
  });
  if (config.store.kind === "nats") {
    found.push("store.kind: nats is not available yet; use sqlite (the default) or memory");
  }
  return found;
}
