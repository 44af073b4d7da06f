import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";

/** One event of the cloudevents/conformance YAML format (see the data's README.md). */
export interface YamlEvent {
  /** File path relative to the data directory, e.g. `yaml/v1.yaml`. */
  readonly file: string;
  /** Position of the document in its file, from 1. */
  readonly index: number;
  readonly mode: "binary" | "structured";
  /** Context attributes, extensions included, as strings. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Extra HTTP headers, sent verbatim. */
  readonly transportHeaders: Readonly<Record<string, string>>;
  /** The body (binary) or the JSON text of `data` (structured); may be empty. */
  readonly data: string;
}

/**
 * Parses the YAML documents of one file. Scalars are read with the YAML failsafe schema, so
 * `specversion: 1.0` stays the string "1.0" (the core schema would read the number 1) and
 * timestamps stay strings. Values are trimmed and empty ones dropped, as the upstream Go sender
 * does (`strings.TrimSpace` in pkg/http/http.go); `Data` is kept verbatim.
 *
 * @example
 * parseYamlEvents("ContextAttributes:\n  specversion: 1.0\n  id: x\n", "a.yaml")[0].attributes
 * // => { specversion: "1.0", id: "x" }
 */
export function parseYamlEvents(text: string, file: string): YamlEvent[] {
  const out: YamlEvent[] = [];
  for (const [i, doc] of parseAllDocuments(text, { schema: "failsafe" }).entries()) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as unknown;
    // An empty document is null, or "" under the failsafe schema.
    if (value === null || value === undefined || value === "") continue;
    const root = asMap(value, `${file} #${i + 1}`);
    const context = asMap(root.ContextAttributes ?? {}, `${file} #${i + 1} ContextAttributes`);
    const { Extensions, ...core } = context;
    const attributes = trimmed({ ...core, ...asMap(Extensions ?? {}, `${file} Extensions`) });
    const mode = String(root.Mode ?? "binary")
      .trim()
      .toLowerCase();
    if (mode !== "binary" && mode !== "structured")
      throw new Error(`${file}: unknown Mode ${mode}`);
    out.push({
      file,
      index: i + 1,
      mode,
      attributes,
      transportHeaders: trimmed(
        asMap(root.TransportExtensions ?? {}, `${file} TransportExtensions`),
      ),
      data: typeof root.Data === "string" ? root.Data : "",
    });
  }
  return out;
}

/**
 * Reads every `*.yaml` file under `<dataDir>/yaml`, in path order.
 *
 * @example
 * const events = await loadYamlEvents(defaultDataDir()); // 8 v1.0 + 7 v0.3 events
 */
export async function loadYamlEvents(dataDir: string): Promise<YamlEvent[]> {
  const root = join(dataDir, "yaml");
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
  const events: YamlEvent[] = [];
  for (const path of files) {
    events.push(...parseYamlEvents(await readFile(path, "utf8"), relative(dataDir, path)));
  }
  return events;
}

function asMap(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`${where}: expected a mapping`);
  }
  return value as Record<string, unknown>;
}

function trimmed(map: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) {
    const text = String(value ?? "").trim();
    if (text !== "") out[key.trim()] = text;
  }
  return out;
}
