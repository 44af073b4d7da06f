import { type Document, isMap, isScalar, isSeq, Scalar } from "yaml";
import type { FieldPath } from "./field-path.js";
import { type Env, interpolateEnv } from "./interpolate-env.js";
import type { Report } from "./report.js";

/**
 * Interpolates `${VAR}` references (see `interpolateEnv`) in every string value of a parsed YAML
 * document, in place, reporting each failed reference at the value's path. Keys are left alone.
 *
 * The result of a *plain* (unquoted) scalar is typed again the way YAML 1.2 would have typed the
 * text, so `port: ${PORT}` is a number when PORT is `8080` (as when the text is substituted before
 * parsing, like Docker Compose does); a quoted scalar (`"${PORT}"`, and every JSON string) stays
 * a string. `retyped` hears of each value so typed, with its text: where a setting takes text
 * (a secret, a token, an id), the loader reads that text instead (`load-config.ts`).
 *
 * @example
 * const { document } = readConfigSource("listen: { port: ${PORT} }", "herald.yaml");
 * interpolateDocument(document, { PORT: "9000" }, report);
 * document.toJS(); // { listen: { port: 9000 } }
 */
export function interpolateDocument(
  document: Document,
  env: Env,
  report: Report,
  retyped: Retyped = () => {},
): void {
  walk(document.contents, [], { env, report, retyped });
}

/** Hears of a plain scalar whose interpolated `text` became a number or boolean at `path`. */
export type Retyped = (path: FieldPath, text: string) => void;

interface Walk {
  readonly env: Env;
  readonly report: Report;
  readonly retyped: Retyped;
}

function walk(node: unknown, path: FieldPath, context: Walk): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      walk(pair.value, [...path, key], context);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      walk(item, [...path, index], context);
    });
  } else if (isScalar(node) && typeof node.value === "string" && node.value.includes("${")) {
    const { value, errors } = interpolateEnv(node.value, context.env);
    for (const message of errors) context.report(path, message);
    if (errors.length > 0) return;
    node.value = node.type === Scalar.PLAIN ? retype(value) : value;
    if (typeof node.value !== "string") context.retyped(path, value);
  }
  // Aliases need nothing: the anchored node they point to is walked where it is defined.
}

const INTEGER = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/** The YAML 1.2 core schema's number and boolean rules (10.3.2); everything else stays a string. */
function retype(text: string): string | number | boolean {
  if (INTEGER.test(text) || FLOAT.test(text)) return Number(text);
  if (/^(?:true|True|TRUE)$/.test(text)) return true;
  if (/^(?:false|False|FALSE)$/.test(text)) return false;
  return text;
}
