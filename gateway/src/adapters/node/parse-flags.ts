import { type ParseArgsConfig, parseArgs } from "node:util";
import { UsageError } from "./serve-error.js";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Parsed<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; tokens: true }>
>;

/**
 * A command's flags, strictly (an unknown option or a positional argument is a usage error), and
 * a flag that takes one value given twice is a usage error too: `parseArgs` keeps the last one,
 * so `tail --source /a --source /b` (where `--type` is repeatable) silently tailed `/b` only, and
 * `serve --config a.yaml --config b.yaml` served `b.yaml`.
 *
 * @example
 * const { values } = parseFlags(["--port", "8080"], { port: { type: "string", short: "p" } });
 */
export function parseFlags<const T extends Options>(
  args: readonly string[],
  options: T,
): Parsed<T> {
  const parsed = parseArgs({ args: [...args], options, strict: true, tokens: true });
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== "option") continue;
    const option = options[token.name];
    if (option?.type !== "string" || option.multiple === true) continue;
    if (seen.has(token.name)) {
      throw new UsageError(`--${token.name} is given twice; it takes one value`);
    }
    seen.add(token.name);
  }
  return parsed;
}
