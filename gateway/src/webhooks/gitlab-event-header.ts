import { type PayloadFields, quoteValue } from "./payload-fields.js";

const HEADER = "X-Gitlab-Event";
const SYSTEM_HOOK = "System Hook";

/**
 * `X-Gitlab-Event` -> the `object_kind`s of the payloads GitLab sends with it ("Webhook events" in
 * GitLab's docs; issue events of tasks, epics and other work items are `work_item`). A Map, so a
 * header such as "constructor" finds nothing.
 */
const HOOK_KINDS: ReadonlyMap<string, readonly string[]> = new Map([
  ["Push Hook", ["push"]],
  ["Tag Push Hook", ["tag_push"]],
  ["Issue Hook", ["issue", "work_item"]],
  ["Confidential Issue Hook", ["issue", "work_item"]],
  ["Note Hook", ["note"]],
  ["Confidential Note Hook", ["note"]],
  ["Merge Request Hook", ["merge_request"]],
  ["Wiki Page Hook", ["wiki_page"]],
  ["Pipeline Hook", ["pipeline"]],
  ["Job Hook", ["build"]],
  ["Deployment Hook", ["deployment"]],
  ["Release Hook", ["release"]],
]);

/** The `object_kind`s a system hook carries (push, tag and merge request events); others have `event_name`. */
const SYSTEM_HOOK_KINDS: ReadonlySet<string> = new Set(["push", "tag_push", "merge_request"]);

/**
 * The event kind of a GitLab delivery, checked against its `X-Gitlab-Event` header, which GitLab
 * sends with every webhook: the payload's `object_kind` (a system hook's `event_name` when it has
 * none). A missing header, one GitLab does not send, or one that names another kind than the
 * payload's is reported to `fields` (400), and the result is `undefined`; so is a payload without
 * a kind (reported by the caller, which knows the field to name).
 *
 * @example
 * gitlabEventKind("Push Hook", payloadFields("gitlab", { object_kind: "push" })); // { kind: "push", field: "object_kind" }
 */
export function gitlabEventKind(
  header: string | undefined,
  fields: PayloadFields,
): { readonly kind: unknown; readonly field: string } | undefined {
  const objectKind = fields.get("object_kind");
  const system = header === SYSTEM_HOOK;
  const found =
    system && objectKind === undefined
      ? { kind: fields.get("event_name"), field: "event_name" }
      : { kind: objectKind, field: "object_kind" };
  if (header === undefined || header === "") {
    fields.problem(`header ${HEADER}`, "is missing (GitLab sends it with every webhook)");
    return undefined;
  }
  const expected = HOOK_KINDS.get(header);
  if (!system && expected === undefined) {
    fields.problem(
      `header ${HEADER}`,
      `is ${quoteValue(header)}, an event cloudevents/adapters/gitlab.md does not map`,
    );
    return undefined;
  }
  if (found.kind === undefined) return found;
  const agrees =
    expected?.includes(String(found.kind)) === true ||
    (system && (found.field === "event_name" || SYSTEM_HOOK_KINDS.has(String(found.kind))));
  if (!agrees) {
    fields.problem(
      `header ${HEADER}`,
      `is ${quoteValue(header)}, which does not send object_kind ${quoteValue(found.kind)}`,
    );
    return undefined;
  }
  return found;
}
