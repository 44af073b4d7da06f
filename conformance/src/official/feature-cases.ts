import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";

/** One parse case of a Gherkin scenario outline, with one Examples row substituted. */
export interface FeatureCase {
  /** File path relative to the data directory. */
  readonly file: string;
  /** Scenario title with the example substituted. */
  readonly title: string;
  /** Request headers as written (Host and Content-Length dropped: the suite sends its own). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** `Then the attributes are:` table. */
  readonly attributes: Readonly<Record<string, string>>;
  /** `And the data is equal to the following JSON:` doc string, parsed. */
  readonly data: unknown;
}

interface Outline {
  title: string;
  request?: string;
  attributes: [string, string][];
  data?: string;
  examples: Record<string, string>[];
}

/**
 * Parses the scenario outlines of a `.feature` file (the subset of Gherkin the CloudEvents
 * conformance features use: doc strings, tables, `<placeholder>` examples).
 *
 * @example
 * const cases = parseFeature(await readFile(file, "utf8"), "features/http-protocol-binding.feature");
 * cases.length // => 4
 */
export function parseFeature(text: string, file: string): FeatureCase[] {
  const lines = text.split(/\r?\n/);
  const outlines: Outline[] = [];
  let current: Outline | undefined;
  let table: "attributes" | "examples" | undefined;
  let headerRow: string[] | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line.startsWith("Scenario Outline:") || line.startsWith("Scenario:")) {
      current = { title: line.slice(line.indexOf(":") + 1).trim(), attributes: [], examples: [] };
      outlines.push(current);
      table = undefined;
      continue;
    }
    if (!current) continue;
    if (line === '"""') {
      const [doc, end] = docString(lines, i);
      i = end;
      if (current.request === undefined) current.request = doc;
      else current.data = doc;
    } else if (line.startsWith("Then the attributes are")) {
      table = "attributes";
      headerRow = undefined;
    } else if (line.startsWith("Examples:")) {
      table = "examples";
      headerRow = undefined;
    } else if (line.startsWith("|") && table) {
      const cells = line
        .slice(1, line.endsWith("|") ? -1 : undefined)
        .split("|")
        .map((c) => c.trim());
      if (!headerRow) headerRow = cells;
      else if (table === "attributes") current.attributes.push([cells[0] ?? "", cells[1] ?? ""]);
      else current.examples.push(Object.fromEntries(headerRow.map((h, j) => [h, cells[j] ?? ""])));
    } else if (line !== "" && !line.startsWith("|")) {
      table = undefined;
    }
  }
  return outlines.flatMap((o) => expand(o, file));
}

/** Doc string starting at the `"""` on line `start`: content dedented by the fence's indent. */
function docString(lines: readonly string[], start: number): [string, number] {
  const indent = lines[start]!.indexOf('"""');
  const body: string[] = [];
  let i = start + 1;
  for (; i < lines.length && lines[i]!.trim() !== '"""'; i++) {
    const line = lines[i]!;
    body.push(line.slice(Math.min(indent, line.length - line.trimStart().length)));
  }
  return [body.join("\n"), i];
}

function expand(outline: Outline, file: string): FeatureCase[] {
  if (outline.request === undefined || outline.data === undefined) return [];
  const rows = outline.examples.length > 0 ? outline.examples : [{}];
  return rows.map((row) => {
    const sub = (s: string) => s.replace(/<([^>]+)>/g, (m, key: string) => row[key] ?? m);
    const request = sub(outline.request!);
    const split = request.search(/\n\s*\n/);
    const head = split === -1 ? request : request.slice(0, split);
    const body = split === -1 ? "" : request.slice(split).replace(/^\n\s*\n/, "");
    const headers: Record<string, string> = {};
    for (const line of head.split("\n").slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      if (/^(host|content-length)$/i.test(name)) continue;
      headers[name] = line.slice(colon + 1).trim();
    }
    return {
      file,
      title: sub(outline.title),
      headers,
      body,
      attributes: Object.fromEntries(outline.attributes.map(([k, v]) => [k, sub(v)])),
      data: JSON.parse(sub(outline.data!)) as unknown,
    };
  });
}

/**
 * Reads every HTTP (`@http`-tagged) `.feature` file under `<dataDir>/features`.
 *
 * @example
 * const cases = await loadFeatureCases(defaultDataDir());
 */
export async function loadFeatureCases(dataDir: string): Promise<FeatureCase[]> {
  const root = join(dataDir, "features");
  const names = (await readdir(root)).filter((n) => n.endsWith(".feature")).sort();
  const cases: FeatureCase[] = [];
  for (const name of names) {
    const text = await readFile(join(root, name), "utf8");
    if (!/^\s*@http\b/m.test(text)) continue;
    cases.push(...parseFeature(text, relative(dataDir, join(root, name))));
  }
  return cases;
}
