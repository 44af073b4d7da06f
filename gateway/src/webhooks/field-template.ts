import type { PayloadFields } from "./payload-fields.js";

const PLACEHOLDER = /\{([^{}]+)\}/g;

/**
 * Fills a template of the adapter tables: `{path}` is the payload's value at a dotted path,
 * `{a|b}` the first of `a` and `b` that is present, `{a|}` the value at `a` or nothing (for a
 * field the provider leaves out of some payloads); other text is kept. Required templates
 * (`id`, `source`, `type`) report each missing field to `fields` and give `undefined`; optional
 * ones (`subject`) give `undefined` quietly, so the attribute is left out.
 *
 * @example
 * fillTemplate("com.github.check_run.{action}", fields, "required"); // "com.github.check_run.created"
 * fillTemplate("{job_status|build_status}", fields, "optional");
 */
export function fillTemplate(
  template: string,
  fields: PayloadFields,
  need: "required" | "optional",
): string | undefined {
  let missing = false;
  const text = template.replace(PLACEHOLDER, (_, inner: string) => {
    const paths = inner.split("|");
    let wrongType = false;
    for (const path of paths) {
      // An empty alternative: the field may be absent, and then adds nothing.
      if (path === "") return "";
      const value = fields.optionalText(path);
      if (value !== undefined) return value;
      // Present but not a string or number: `optionalText` has reported it already.
      const raw = fields.get(path);
      if (raw !== undefined && raw !== null && raw !== "") wrongType = true;
    }
    // Each field named once: a field of the wrong type is not also "missing" (or reported twice).
    if (need === "required" && !wrongType) fields.text(paths[0]!);
    missing = true;
    return "";
  });
  return missing ? undefined : text;
}

/** The part of an adapter table row (github.md, gitlab.md) that names the event. */
export interface EventTemplate {
  /** A template, or a rule for sources that a template cannot express. */
  readonly source: string | ((fields: PayloadFields) => string | undefined);
  readonly type: string;
  /** Absent: the event has no subject. */
  readonly subject?: string;
}

/**
 * `source`, `type` and `subject` of a table row, filled from the payload: `source` and `type`
 * required (each missing field reported to `fields`), `subject` optional.
 *
 * @example
 * fillEventTemplate({ source: "{repository.url}", type: "com.github.push" }, fields);
 * // { source: "https://api.github.com/repos/o/r", type: "com.github.push", subject: undefined }
 */
export function fillEventTemplate(row: EventTemplate, fields: PayloadFields) {
  return {
    source:
      typeof row.source === "string"
        ? fillTemplate(row.source, fields, "required")
        : row.source(fields),
    type: fillTemplate(row.type, fields, "required"),
    subject: row.subject === undefined ? undefined : fillTemplate(row.subject, fields, "optional"),
  };
}
