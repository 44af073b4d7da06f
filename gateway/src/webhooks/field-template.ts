import type { PayloadFields } from "./payload-fields.js";

const PLACEHOLDER = /\{([^{}]+)\}/g;

/**
 * Fills a template of the adapter tables: `{path}` is the payload's value at a dotted path,
 * `{a|b}` the first of `a` and `b` that is present; other text is kept. Required templates
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
    for (const path of paths) {
      const value = fields.optionalText(path);
      if (value !== undefined) return value;
    }
    if (need === "required") fields.text(paths[0]!);
    missing = true;
    return "";
  });
  return missing ? undefined : text;
}
