import type { ConfigIssue } from "./config-invalid.js";
import { readConfigSource } from "./config-source.js";
import { type FieldPath, formatFieldPath } from "./field-path.js";
import type { HeraldConfig } from "./herald-config.js";

/**
 * The event size the CloudEvents spec (spec.md "Size Limits") says intermediaries MUST forward:
 * "Intermediaries MUST forward events of a size of 64 KiB or less", so producers may count on it.
 */
export const SPEC_MIN_EVENT_BYTES = 65_536;

/**
 * Settings that are valid but probably not meant: the gateway starts with them, and `herald
 * validate` and `herald serve` say so. Each issue names `file`; with the `text` as written it
 * has a line too (not for the embedded demo, which has no file).
 * - `limits.maxEventBytes` below 64 KiB: Herald, an intermediary, would refuse events the spec
 *   says it must forward.
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
  if (found.length === 0) return [];
  const source = text === undefined ? undefined : readConfigSource(text, file);
  return found.map(({ path, message }) => ({
    file,
    ...source?.locate(path),
    field: formatFieldPath(path),
    message,
  }));
}
