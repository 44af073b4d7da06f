import type { EventTemplate } from "./field-template.js";
import type { PayloadFields } from "./payload-fields.js";

/**
 * How one GitHub webhook event maps to CloudEvents attributes (cloudevents/adapters/github.md).
 * `source`, `type` and `subject` are `fillTemplate` templates over the payload; `time` lists the
 * fields tried in order, the receipt time when none holds a timestamp ("Current time", and "if
 * the proposed value is null, the default timestamp SHOULD be used"). `id` is always the
 * `X-GitHub-Delivery` header and `data` the request body.
 */
export interface GitHubEventMapping extends EventTemplate {
  /** Absent: "Omit". A template whose field the payload lacks is left out too. */
  readonly subject?: string;
  readonly time?: readonly string[] | ((fields: PayloadFields) => readonly unknown[]);
}

/**
 * Sources. The document's field comes first; a fallback applies only to a payload that lacks it,
 * as GitHub's do for organisation-level deliveries (an organisation's `team`, `projects_v2*`,
 * `custom_property`, `meta` or `package`, an organisation ruleset): their organisation. Without
 * one, such a real delivery had no `source` and was refused, although the document maps it.
 */
const REPO = "{repository.url|organization.url}";
const OWNER = "{repository.owner.url|organization.url}";
const INSTALLATION = "{installation.account.url}";
/** A deployment's URL; `deployment_review` payloads, and some protection rule ones, have none. */
const DEPLOYMENT = "{deployment.url|repository.url}";

/**
 * Every event of cloudevents/adapters/github.md, keyed by the `X-GitHub-Event` header value
 * (the snake_case name GitHub sends, e.g. `check_run` for CheckRunEvent). Where the document is
 * irregular it is followed as written: `repository_dispatch` and `repository_ruleset` append the
 * action without a dot, `status` is the constant `com.github.status.` (the document's
 * "+ state value ?" is an open question, not a rule), and `team_add`, whose payloads have no
 * `action`, is `com.github.team_add.` with nothing after the dot.
 */
export const GITHUB_EVENTS: Readonly<Record<string, GitHubEventMapping>> = {
  branch_protection_configuration: {
    source: REPO,
    type: "com.github.branch_protection_configuration.{action}",
  },
  branch_protection_rule: {
    source: REPO,
    type: "com.github.branch_protection_rule.{action}",
    subject: "{rule.id}",
    time: ["rule.updated_at"],
  },
  check_run: {
    source: REPO,
    type: "com.github.check_run.{action}",
    subject: "{check_run.id}",
    time: ["check_run.completed_at", "check_run.started_at"],
  },
  check_suite: {
    source: REPO,
    type: "com.github.check_suite.{action}",
    subject: "{check_suite.id}",
    time: ["check_suite.updated_at"],
  },
  code_scanning_alert: {
    source: REPO,
    type: "com.github.code_scanning_alert.{action}",
    subject: "{alert.number}",
  },
  commit_comment: {
    source: "{comment.url}/{comment.commit_id}",
    type: "com.github.commit_comment.{action}",
    subject: "{comment.id}",
    time: ["comment.updated_at"],
  },
  content_reference: {
    source: REPO,
    type: "com.github.content_reference.{action}",
    subject: "{content_reference.id}",
  },
  create: { source: REPO, type: "com.github.create.{ref_type}", subject: "{ref}" },
  custom_property: {
    source: REPO,
    type: "com.github.custom_property.{action}",
    subject: "{definition.property_name}",
  },
  custom_property_values: { source: REPO, type: "com.github.custom_property_values.{action}" },
  delete: { source: REPO, type: "com.github.delete.{ref_type}", subject: "{ref}" },
  dependabot_alert: {
    source: REPO,
    type: "com.github.dependabot_alert.{action}",
    subject: "{alert.id}",
  },
  deploy_key: {
    source: REPO,
    type: "com.github.deploy_key.{action}",
    subject: "{key.id}",
    time: ["key.deleted_at", "key.created_at"],
  },
  deployment: {
    source: REPO,
    type: "com.github.deployment",
    subject: "{deployment.id}",
    time: ["deployment.updated_at"],
  },
  deployment_protection_rule: {
    source: DEPLOYMENT,
    type: "com.github.deployment_protection_rule.{action}",
    subject: "{deployment.id}",
  },
  deployment_review: {
    source: DEPLOYMENT,
    type: "com.github.deployment_review.{action}",
    subject: "{workflow_run.id}",
  },
  deployment_status: {
    source: DEPLOYMENT,
    type: "com.github.deployment_status.{deployment_status.state}",
    subject: "{deployment_status.url}",
    time: ["deployment_status.updated_at"],
  },
  discussion: {
    source: REPO,
    type: "com.github.discussion.{action}",
    subject: "{discussion.id}",
  },
  discussion_comment: {
    source: REPO,
    type: "com.github.discussion_comment.{action}",
    subject: "{discussion.id}",
    time: ["comment.updated_at"],
  },
  fork: {
    source: REPO,
    type: "com.github.fork",
    subject: "{forkee.url}",
    time: ["forkee.created_at"],
  },
  github_app_authorization: { source: "{sender.url}", type: "com.github.github_app_authorization" },
  gollum: { source: REPO, type: "com.github.gollum" },
  installation: {
    source: INSTALLATION,
    type: "com.github.installation.{action}",
    subject: "{installation.id}",
    time: ["installation.updated_at"],
  },
  installation_repositories: {
    source: INSTALLATION,
    type: "com.github.installation_repositories.{action}",
    subject: "{installation.id}",
    time: ["installation.updated_at"],
  },
  installation_target: {
    // Its `installation` is only `{ id, node_id }`: the renamed account is the top-level
    // `account`, which has no API `url`; the organisation, or for a user the sender.
    source: "{installation.account.url|organization.url|sender.url}",
    type: "com.github.installation_target.{action}",
    subject: "{installation.id}",
  },
  issue_comment: {
    source: "{issue.url}",
    type: "com.github.issue_comment.{action}",
    subject: "{comment.id}",
    time: ["comment.updated_at"],
  },
  issues: {
    source: REPO,
    type: "com.github.issues.{action}",
    subject: "{issue.number}",
    time: ["issue.updated_at"],
  },
  label: { source: REPO, type: "com.github.label.{action}", subject: "{label.name}" },
  marketplace_purchase: {
    // "sender.url value without the /username portion".
    source: (fields) => {
      const url = fields.text("sender.url");
      return url === undefined ? undefined : url.replace(/\/[^/]*\/?$/, "");
    },
    type: "com.github.marketplace_purchase.{action}",
    subject: "{marketplace_purchase.account.login}",
    time: ["effective_date"],
  },
  member: { source: REPO, type: "com.github.member.{action}", subject: "{member.login}" },
  membership: {
    source: "{team.url}",
    type: "com.github.membership.{scope}.{action}",
    subject: "{member.login}",
  },
  merge_group: {
    source: REPO,
    type: "com.github.merge_group.{action}",
    subject: "{merge_group.head_ref}",
  },
  meta: {
    source: REPO,
    type: "com.github.meta.{action}",
    subject: "{hook_id}",
    time: ["hook.updated_at"],
  },
  milestone: {
    source: REPO,
    type: "com.github.milestone.{action}",
    subject: "{milestone.number}",
    time: ["milestone.updated_at"],
  },
  organization: {
    source: "{organization.url}",
    type: "com.github.organization.{action}",
    subject: "{membership.user.login}",
  },
  org_block: {
    source: "{organization.url}",
    type: "com.github.org_block.{action}",
    subject: "{blocked_user.login}",
  },
  package: {
    source: REPO,
    type: "com.github.package.{action}",
    subject: "{package.id}",
    time: ["package.updated_at", "package.created_at"],
  },
  page_build: {
    source: REPO,
    type: "com.github.page_build",
    subject: "{build.url}",
    time: ["pusher.updated_at"],
  },
  project_card: {
    source: REPO,
    type: "com.github.project_card.{action}",
    subject: "{project_card.id}",
    time: ["project_card.updated_at"],
  },
  project_column: {
    source: REPO,
    type: "com.github.project_column.{action}",
    subject: "{project_column.id}",
    time: ["project_column.updated_at"],
  },
  project: {
    source: REPO,
    type: "com.github.project.{action}",
    subject: "{project.id}",
    time: ["project.updated_at"],
  },
  projects_v2: {
    source: REPO,
    type: "com.github.projects_v2.{action}",
    subject: "{projects_v2.id}",
    time: ["projects_v2.updated_at"],
  },
  projects_v2_item: {
    source: REPO,
    type: "com.github.projects_v2_item.{action}",
    subject: "{projects_v2_item.id}",
    time: ["projects_v2_item.updated_at"],
  },
  projects_v2_status_update: {
    source: REPO,
    type: "com.github.projects_v2_status_update.{action}",
    subject: "{projects_v2_status_update.id}",
    time: ["projects_v2_status_update.updated_at"],
  },
  public: {
    source: OWNER,
    type: "com.github.public",
    subject: "{repository.name}",
    time: ["repository.updated_at"],
  },
  pull_request: {
    source: REPO,
    type: "com.github.pull_request.{action}",
    subject: "{number}",
    time: ["pull_request.updated_at"],
  },
  pull_request_review: {
    source: "{pull_request.url}",
    type: "com.github.pull_request_review.{action}",
    subject: "{review.id}",
    time: ["review.submitted_at"],
  },
  pull_request_review_comment: {
    source: "{pull_request.url}",
    type: "com.github.pull_request_review_comment.{action}",
    subject: "{comment.id}",
    time: ["pull_request.updated_at"],
  },
  pull_request_review_thread: {
    source: "{pull_request.url}",
    type: "com.github.pull_request_review_thread.{action}",
    subject: "{pull_request.id}",
  },
  push: { source: REPO, type: "com.github.push", subject: "{ref}" },
  registry_package: {
    source: REPO,
    type: "com.github.registry_package.{action}",
    subject: "{registry_package.html_url}",
    time: ["registry_package.updated_at"],
  },
  release: {
    source: REPO,
    type: "com.github.release.{action}",
    subject: "{release.id}",
    // "release.*_at value based on action": `published` -> published_at, `created` ->
    // created_at; actions without a field of their own (edited, deleted) take updated_at, then
    // the newest the release has.
    time: (fields) => {
      const action = fields.get("action");
      return [
        typeof action === "string" ? fields.get(`release.${action}_at`) : undefined,
        fields.get("release.updated_at"),
        fields.get("release.published_at"),
        fields.get("release.created_at"),
      ];
    },
  },
  repository: {
    source: OWNER,
    type: "com.github.repository.{action}",
    subject: "{repository.name}",
    time: ["repository.updated_at"],
  },
  repository_advisory: {
    source: REPO,
    type: "com.github.repository_advisory.{action}",
    subject: "{repository_advisory.ghsa_id}",
    time: ["repository_advisory.updated_at"],
  },
  repository_dispatch: { source: OWNER, type: "com.github.repository_dispatch{action}" },
  repository_import: {
    source: OWNER,
    type: "com.github.repository_import",
    subject: "{repository.name}",
    time: ["repository.updated_at"],
  },
  repository_ruleset: {
    source: OWNER,
    type: "com.github.repository_ruleset{action}",
    subject: "{repository.name}",
    time: ["repository.updated_at"],
  },
  repository_vulnerability_alert: {
    source: REPO,
    type: "com.github.repository_vulnerability_alert.{action}",
    subject: "{alert.id}",
  },
  secret_scanning_alert: {
    source: REPO,
    type: "com.github.secret_scanning_alert.{action}",
    subject: "{alert.number}",
    time: ["alert.updated_at", "alert.created_at"],
  },
  secret_scanning_alert_location: {
    source: REPO,
    type: "com.github.secret_scanning_alert_location.{action}",
    subject: "{alert.number}",
    time: ["alert.updated_at", "alert.created_at"],
  },
  security_advisory: {
    source: "github.com",
    type: "com.github.security_advisory.{action}",
    subject: "{security_advisory.ghsa_id}",
    time: ["security_advisory.updated_at"],
  },
  security_and_analysis: { source: REPO, type: "com.github.security_and_analysis" },
  sponsorship: {
    // Sponsorship deliveries carry no repository: the sponsored account.
    source: "{repository.url|sponsorship.sponsorable.url}",
    type: "com.github.sponsorship.{action}",
    subject: "{sponsorship.sponsor.login}",
  },
  star: { source: REPO, type: "com.github.star.{action}", time: ["starred_at"] },
  status: { source: REPO, type: "com.github.status.", subject: "{sha}", time: ["updated_at"] },
  team: {
    source: REPO,
    type: "com.github.team.{action}",
    subject: "{team.id}",
    time: ["updated_at"],
  },
  // GitHub's team_add payload has no `action`: the document's `com.github.team_add.` + "action"
  // value is then the prefix alone, as `status` is.
  team_add: { source: REPO, type: "com.github.team_add.{action|}", subject: "{team.id}" },
  watch: { source: REPO, type: "com.github.watch.{action}" },
  workflow_dispatch: { source: REPO, type: "com.github.workflow_dispatch", subject: "{workflow}" },
  workflow_job: {
    source: REPO,
    type: "com.github.workflow_job.{action}",
    subject: "{workflow_job.name}",
  },
  workflow_run: {
    source: REPO,
    type: "com.github.workflow_run.{action}",
    subject: "{workflow.name}",
  },
};
