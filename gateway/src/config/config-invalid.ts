import { HeraldError } from "../errors/herald-error.js";

/** One broken rule in a config file (or, for the Subscriptions API, a request body). */
export interface ConfigIssue {
  /** The file as the user named it, or a label such as `request body`. */
  readonly file: string;
  /** 1-based; absent when the input was not text (an already parsed JSON value). */
  readonly line?: number;
  /** 1-based; absent with `line`. */
  readonly column?: number;
  /** Field path such as `subscriptions[0].filters[1].prefix`; empty for the whole document. */
  readonly field: string;
  readonly message: string;
  /** Id of the subscription the problem is in, when it is in one that has an id. */
  readonly subscription?: string;
}

/**
 * Renders an issue as one line, the way compilers do, so editors and terminals can jump to it.
 *
 * @example
 * formatConfigIssue({ file: "herald.yaml", line: 12, column: 7, field: "subscriptions[0].sink",
 *   message: "must be an absolute http(s) URL" });
 * // "herald.yaml:12:7 subscriptions[0].sink: must be an absolute http(s) URL"
 */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where =
    issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column}`;
  return issue.field === ""
    ? `${where} ${issue.message}`
    : `${where} ${issue.field}: ${issue.message}`;
}

/**
 * `formatConfigIssue` plus the id of the subscription the problem is in, for people reading a
 * long config (what `herald validate` prints).
 *
 * @example
 * describeConfigIssue({ file: "herald.yaml", line: 9, column: 14, field: "subscriptions[3].filters[0].sql",
 *   message: "invalid CESQL at 1:7: ...", subscription: "thumbnails" });
 * // 'herald.yaml:9:14 subscriptions[3].filters[0].sql: invalid CESQL at 1:7: ... (subscription "thumbnails")'
 */
export function describeConfigIssue(issue: ConfigIssue): string {
  const text = formatConfigIssue(issue);
  return issue.subscription === undefined
    ? text
    : `${text} (subscription ${JSON.stringify(issue.subscription)})`;
}

/**
 * A configuration (file, or subscription sent to the Subscriptions API) breaks one or more rules
 * (400). It carries every issue found, not just the first; the message has one line per issue.
 *
 * @example
 * try { parseConfig(text, "herald.yaml", env); } catch (err) {
 *   if (err instanceof ConfigInvalid) for (const issue of err.issues) console.error(issue.field);
 * }
 */
export class ConfigInvalid extends HeraldError {
  static override readonly code = "config_invalid";
  readonly code = ConfigInvalid.code;
  readonly status = 400;
  readonly title = "Invalid configuration";
  override readonly extensions: Readonly<Record<string, unknown>>;
  constructor(readonly issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join("\n"));
    this.name = "ConfigInvalid";
    this.extensions = { errors: issues };
  }
}
