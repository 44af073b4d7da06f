import { parseAdapterConfig } from "../webhooks/parse-adapter-config.js";
import { type FieldPath, formatFieldPath } from "./field-path.js";
import type { HeraldConfig } from "./herald-config.js";
import { type Report, trackReport } from "./report.js";
import { expectList, expectObject, expectString, isAbsent, required } from "./value-checks.js";

/**
 * Validates `adapters`: a list of objects, each with a string `id` (unique: it names the
 * `/webhooks/{adapter-id}` route) and a `kind`, whose own settings `parseAdapterConfig` checks
 * and normalises. Absent means none.
 *
 * @example
 * parseAdapters([{ id: "github-main", kind: "github", secret: "s" }], ["adapters"], report);
 */
export function parseAdapters(
  raw: unknown,
  path: FieldPath,
  report: Report,
): HeraldConfig["adapters"] | undefined {
  if (isAbsent(raw)) return [];
  const tracked = trackReport(report);
  const r = tracked.report;
  const items = expectList(raw, path, r, true);
  if (items === undefined) return undefined;
  const firstIndex = new Map<string, number>();
  const adapters = items.map((item, index) => {
    const object = expectObject(item, [...path, index], r);
    if (object === undefined) return undefined;
    const id = required(object.id, [...path, index, "id"], r, expectString);
    const kind = required(object.kind, [...path, index, "kind"], r, expectString);
    const first = id === undefined ? undefined : firstIndex.get(id);
    if (id !== undefined && first === undefined) firstIndex.set(id, index);
    else if (first !== undefined) {
      const other = formatFieldPath([...path, first]);
      r([...path, index, "id"], `duplicate id ${JSON.stringify(id)}; ${other} has it`);
    }
    return id === undefined || kind === undefined
      ? undefined
      : parseAdapterConfig(object, [...path, index], r);
  });
  return tracked.failed() ? undefined : adapters.filter((adapter) => adapter !== undefined);
}
