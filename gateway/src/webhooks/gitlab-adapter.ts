import { type EventTemplate, fillEventTemplate } from "./field-template.js";
import { foreignEvent } from "./foreign-event.js";
import { gitlabEventKind } from "./gitlab-event-header.js";
import { type PayloadFields, payloadFields, quoteValue } from "./payload-fields.js";
import { headerUtf8, tokensEqual } from "./shared-secret.js";
import type { WebhookAdapter } from "./webhook-adapter.js";
import { InvalidSignature } from "./webhook-errors.js";
import { eventTime } from "./webhook-time.js";

const TOKEN = "X-Gitlab-Token";
const EVENT = "X-Gitlab-Event";

/** How one GitLab event maps (cloudevents/adapters/gitlab.md); templates as in `fillTemplate`. */
interface GitLabEventMapping extends EventTemplate {
  readonly subject: string;
  /** Fields tried for `time`; absent: "Current time". */
  readonly time?: readonly string[];
}

const HOMEPAGE = "{repository.homepage}";
const CREATED = ["object_attributes.created_at"] as const;

/**
 * A comment's `object_attributes.url` "without the `#note_...` part": what `/#note_.*$/` would
 * remove (the first `#note_` after the last line break), found in linear time. That expression
 * was tried from each `#note_` and ran to the next line break, so a payload of 40,000 `#note_`
 * and a newline held the event loop seconds.
 */
const noteTarget = (fields: PayloadFields): string | undefined => {
  const url = fields.text("object_attributes.url");
  if (url === undefined) return undefined;
  let lineStart = 0;
  for (const lineBreak of ["\n", "\r", "\u2028", "\u2029"]) {
    lineStart = Math.max(lineStart, url.lastIndexOf(lineBreak) + 1);
  }
  const note = url.indexOf("#note_", lineStart);
  return note === -1 ? url : url.slice(0, note);
};

/**
 * Every event of cloudevents/adapters/gitlab.md, keyed by the payload's `object_kind` (comments:
 * `note.` + `object_attributes.noteable_type`). Job events are `object_kind: build`; the document
 * names `job_status` and `job_id`, which GitLab's job payloads call `build_status` and `build_id`,
 * so either is taken.
 */
const GITLAB_EVENTS: Readonly<Record<string, GitLabEventMapping>> = {
  push: { source: HOMEPAGE, type: "com.gitlab.push", subject: "{checkout_sha}" },
  tag_push: { source: HOMEPAGE, type: "com.gitlab.tag_push", subject: "{ref}" },
  issue: {
    source: HOMEPAGE,
    type: "com.gitlab.issue.{object_attributes.state}",
    subject: "{object_attributes.iid}",
  },
  "note.Commit": {
    source: "{commit.url}",
    type: "com.gitlab.note.commit",
    subject: "{object_attributes.id}",
    time: CREATED,
  },
  "note.MergeRequest": {
    source: noteTarget,
    type: "com.gitlab.note.merge_request",
    subject: "{object_attributes.id}",
    time: CREATED,
  },
  "note.Issue": {
    source: noteTarget,
    type: "com.gitlab.note.issue",
    subject: "{object_attributes.id}",
    time: CREATED,
  },
  "note.Snippet": {
    source: noteTarget,
    type: "com.gitlab.note.snippet",
    subject: "{object_attributes.id}",
    time: CREATED,
  },
  merge_request: {
    source: HOMEPAGE,
    type: "com.gitlab.merge_request.{object_attributes.action}",
    subject: "{object_attributes.iid}",
    time: CREATED,
  },
  wiki_page: {
    source: "{project.web_url}",
    type: "com.gitlab.wiki_page.{object_attributes.action}",
    subject: "{object_attributes.slug}",
  },
  pipeline: {
    source: "{project.web_url}",
    type: "com.gitlab.pipeline.{object_attributes.status}",
    subject: "{object_attributes.id}",
  },
  build: {
    source: HOMEPAGE,
    type: "com.gitlab.job.{job_status|build_status}",
    subject: "{job_id|build_id}",
  },
};

/**
 * The `gitlab` adapter (cloudevents/adapters/gitlab.md): one CloudEvent per delivery, attributes
 * per event from the table above, `data` = the body. Authenticated by `X-Gitlab-Token`, compared
 * with the adapter's secret in constant time. The event is the payload's `object_kind`, which
 * must agree with the `X-Gitlab-Event` header GitLab sends (`gitlabEventKind`; 400 otherwise). The document asks for a new unique `id`; GitLab's
 * `Idempotency-Key` header is one, and it stays the same when GitLab retries a delivery, so a
 * retry is deduplicated. Without it (GitLab before 17.4) the id is a random UUID. A system hook's
 * own events (`event_name` only, such as `repository_update`), which the document does not map,
 * are acknowledged (204) and not stored.
 *
 * @example
 * const adapter = createGitLabAdapter({ id: "gitlab-main", secret: process.env.GITLAB_WEBHOOK_TOKEN });
 */
export function createGitLabAdapter(options: {
  readonly id: string;
  readonly secret: string;
  /** Id for deliveries without `Idempotency-Key` (default `crypto.randomUUID()`). */
  readonly newId?: () => string;
}): WebhookAdapter {
  if (options.secret === "") throw new TypeError("createGitLabAdapter: secret must not be empty");
  const { newId = () => crypto.randomUUID() } = options;
  return {
    id: options.id,
    kind: "gitlab",
    auth: { scheme: "signature", authtype: "api_key" },
    records: false,
    mediaTypes: ["application/json"],
    async verify(request) {
      const token = request.header(TOKEN);
      if (token === undefined) {
        throw new InvalidSignature(TOKEN, `the request carries no ${TOKEN} header`);
      }
      if (!(await tokensEqual(headerUtf8(token), options.secret))) {
        throw new InvalidSignature(TOKEN, `${TOKEN} is not this adapter's secret token`);
      }
    },
    normalise(request) {
      const payload = request.json();
      const fields = payloadFields("gitlab", payload);
      const event = gitlabEventKind(request.header(EVENT), fields);
      if (event === undefined) return fields.fail();
      const { kind, field } = event;
      const key =
        kind === "note" ? `note.${String(fields.get("object_attributes.noteable_type"))}` : kind;
      const mapping =
        typeof key === "string" && Object.hasOwn(GITLAB_EVENTS, key)
          ? GITLAB_EVENTS[key]
          : undefined;
      if (mapping === undefined && field === "event_name" && isEventName(kind)) {
        // A system hook's own events (`repository_update` on every push, `project_create`,
        // `user_create`, ...): gitlab.md does not map them, and GitLab sends them to every system
        // hook whatever its triggers, so a refusal would fail the hook on each push. Taken, and
        // nothing stored.
        return { kind: "acknowledge", reason: `GitLab system hook event ${kind}` };
      }
      if (mapping === undefined) {
        // A comment is named by what it is on: a note without `noteable_type` lacks that field.
        const named = kind === "note" ? fields.get("object_attributes.noteable_type") : kind;
        fields.problem(
          kind === "note" ? "object_attributes.noteable_type" : field,
          named === undefined || named === null
            ? "is missing"
            : `is ${quoteValue(named)}, an event cloudevents/adapters/gitlab.md does not map`,
        );
        return fields.fail();
      }
      const { source, type, subject } = fillEventTemplate(mapping, fields);
      const times = (mapping.time ?? []).map((path) => fields.get(path));
      fields.throwIfProblems();
      const idempotencyKey = request.header("idempotency-key");
      return {
        kind: "events",
        events: [
          foreignEvent(
            {
              id: idempotencyKey === undefined || idempotencyKey === "" ? newId() : idempotencyKey,
              source: source!,
              type: type!,
              subject,
              time: eventTime(times, request.receivedAt),
            },
            { kind: "json", value: payload, text: request.text() },
          ),
        ],
      };
    },
  };
}

/** A system hook event name as GitLab writes them (`repository_update`, `user_add_to_team`). */
function isEventName(kind: unknown): kind is string {
  return typeof kind === "string" && /^[a-z][a-z0-9_]*$/.test(kind);
}
