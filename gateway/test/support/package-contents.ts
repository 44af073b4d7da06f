import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

/** What `npm pack` would put in the tarball of the workspace package in `dir`, and its manifest. */
export interface PackedPackage {
  readonly files: readonly string[];
  readonly manifest: Manifest;
}

interface Manifest {
  readonly name: string;
  readonly license?: string;
  readonly engines?: { readonly node?: string };
  readonly exports: Record<string, Record<string, string>>;
  readonly bin?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
  readonly peerDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

/**
 * The file list of `npm pack --dry-run` (offline, no scripts: it reads the built `dist/` as it is).
 *
 * @example
 * const { files } = await packedPackage("gateway"); // ["README.md", "bin/herald.js", ...]
 */
export async function packedPackage(dir: string): Promise<PackedPackage> {
  const { stdout } = await promisify(execFile)(
    "npm",
    ["pack", "--dry-run", "--json", "--offline", "--ignore-scripts"],
    { cwd: dir, maxBuffer: 64 * 1024 * 1024 },
  );
  const [packed] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
  return { files: packed.files.map((file) => file.path), manifest };
}

/**
 * What a user who installs the tarball would trip over: an `exports`, `types` or `bin` target
 * missing from it, tests or TypeScript sources in it, a compiled file whose source is gone (a stale
 * `dist/`), a source map whose sources are neither inlined nor packed, no README, LICENSE or
 * engines, an `exports` entry `require()` cannot load, a type package its `.d.ts` files need left
 * in devDependencies. An empty list when there is nothing.
 *
 * @example
 * packageProblems("sdk", await packedPackage("sdk")); // []
 */
export function packageProblems(dir: string, { files, manifest }: PackedPackage): string[] {
  const problems: string[] = [];
  const packed = new Set(files);
  for (const [entry, conditions] of Object.entries(manifest.exports)) {
    for (const [condition, target] of Object.entries(conditions)) {
      if (!packed.has(target.replace(/^\.\//, ""))) {
        problems.push(`exports["${entry}"].${condition} ${target} is not in the package`);
      }
    }
    // Only an "import" condition makes require() fail with a misleading ERR_PACKAGE_PATH_NOT_EXPORTED
    // ("No exports main defined"); "default" lets Node 20.19+ require() the ES module.
    if (conditions.default === undefined) problems.push(`exports["${entry}"] has no "default"`);
  }
  for (const [name, target] of Object.entries(manifest.bin ?? {})) {
    const path = target.replace(/^\.\//, "");
    if (!packed.has(path)) problems.push(`bin ${name} ${target} is not in the package`);
    else if (!readFileSync(join(dir, path), "utf8").startsWith("#!/usr/bin/env node")) {
      problems.push(`bin ${name} ${target} has no #!/usr/bin/env node line`);
    }
  }
  if (!packed.has("README.md")) problems.push("no README.md in the package");
  // The license it declares asks for its text to travel with the package (Apache-2.0, 4(a)).
  if (!packed.has("LICENSE")) problems.push("no LICENSE in the package");
  if (manifest.engines?.node === undefined) problems.push("no engines.node");
  if (manifest.license === undefined) problems.push("no license");
  for (const file of files) {
    if (/(^|\/)(test|tests|__tests__)\/|\.(test|case)\.|\.tsbuildinfo$|(^|\/)\.env/.test(file)) {
      problems.push(`${file} should not be in the package`);
    }
    if (file.endsWith(".ts") && !file.endsWith(".d.ts")) problems.push(`${file}: a source file`);
    if (file.startsWith("dist/") && file.endsWith(".js")) {
      const source = `src/${file.slice("dist/".length, -".js".length)}.ts`;
      if (!existsSync(join(dir, source))) problems.push(`${file}: stale, ${source} is gone`);
    }
    if (file.endsWith(".js.map")) problems.push(...sourceMapProblems(dir, file, packed));
    if (file.endsWith(".d.ts")) problems.push(...typeDependencyProblems(dir, file, manifest));
  }
  return problems;
}

function sourceMapProblems(dir: string, file: string, packed: Set<string>): string[] {
  const map = JSON.parse(readFileSync(join(dir, file), "utf8")) as {
    sources: string[];
    sourcesContent?: (string | null)[];
  };
  const folder = file.slice(0, file.lastIndexOf("/") + 1);
  return map.sources.flatMap((source, i) => {
    if (typeof map.sourcesContent?.[i] === "string") return [];
    const path = new URL(source, `file:///${folder}`).pathname.slice(1);
    return packed.has(path) ? [] : [`${file}: source ${source} is neither inlined nor packed`];
  });
}

/** Bare specifiers of a `.d.ts`: the packages a TypeScript user needs (with skipLibCheck off). */
function typeDependencyProblems(dir: string, file: string, manifest: Manifest): string[] {
  const text = readFileSync(join(dir, file), "utf8");
  const problems: string[] = [];
  for (const [, specifier] of text.matchAll(/(?:from |import\()"([^"./][^"]*)"/g)) {
    // TSDoc examples import the package itself by name.
    if (specifier === undefined || specifier.startsWith("node:")) continue;
    const parts = specifier.split("/");
    const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? "");
    if (name === manifest.name) continue;
    const types = `@types/${name.replace(/^@/, "").replace("/", "__")}`;
    if (
      manifest.dependencies?.[name] === undefined &&
      manifest.peerDependencies?.[name] === undefined
    ) {
      problems.push(`${file} imports ${name}, neither a dependency nor a peer dependency`);
    }
    if (manifest.devDependencies?.[types] !== undefined) {
      problems.push(`${file} imports ${name}, whose types (${types}) are only a devDependency`);
    }
  }
  return problems;
}
