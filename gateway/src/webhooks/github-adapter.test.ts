import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  githubSignature,
  startWebhookGateway,
  type WebhookGateway,
} from "../../test/support/webhook-gateway.js";

const SECRET = "It's a Secret to Everybody";
/** The receipt time: the gateway's clock is fixed, so "Current time" is known. */
const NOW = Date.UTC(2027, 0, 15, 8, 0, 0);
const RECEIPT = "2027-01-15T08:00:00.000Z";
const REPO_URL = "https://api.github.com/repos/octo-org/hello-world";
const OWNER_URL = "https://api.github.com/users/octo-org";
const repository = {
  id: 1296269,
  name: "hello-world",
  full_name: "octo-org/hello-world",
  url: REPO_URL,
  owner: { login: "octo-org", url: OWNER_URL },
  updated_at: "2024-05-01T10:00:00Z",
};
const sender = { login: "octocat", url: "https://api.github.com/users/octocat" };

let kit: WebhookGateway;
let deliveries = 0;

beforeAll(async () => {
  kit = await startWebhookGateway(
    { adapters: [{ id: "github-main", kind: "github", secret: SECRET }] },
    { clock: { now: () => NOW } },
  );
});
afterAll(() => kit.stop());

function send(event: string, payload: object, headers: Record<string, string> = {}) {
  const body = JSON.stringify(payload);
  return kit.post("github-main", body, {
    "content-type": "application/json",
    "x-github-event": event,
    "x-github-delivery": `delivery-${++deliveries}`,
    "x-hub-signature-256": githubSignature(SECRET, body),
    ...headers,
  });
}

async function lastDelivered() {
  const all = await kit.delivered();
  return all.at(-1)!;
}

describe("github: X-Hub-Signature-256", () => {
  it("refuses a request without a signature: 401, nothing stored", async () => {
    const before = (await kit.delivered()).length;
    const res = await send(
      "push",
      { ref: "refs/heads/main", repository },
      {
        "x-hub-signature-256": "",
      },
    );
    expect(res.status).toBe(401);
    const res2 = await kit.post("github-main", JSON.stringify({ repository }), {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": "no-signature",
    });
    expect(res2.status).toBe(401);
    expect(res2.headers.get("content-type")).toBe("application/problem+json");
    const problem = await res2.json();
    expect(problem).toMatchObject({ status: 401, code: "invalid_signature" });
    expect(problem.detail).toContain("X-Hub-Signature-256");
    expect(JSON.stringify(problem)).not.toContain(SECRET);
    expect((await kit.delivered()).length).toBe(before);
  });

  it("refuses a signature made with another secret, or over another body", async () => {
    const body = JSON.stringify({ ref: "refs/heads/main", repository });
    const headers = {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": "forged-1",
    };
    const wrongSecret = await kit.post("github-main", body, {
      ...headers,
      "x-hub-signature-256": githubSignature("another secret", body),
    });
    expect(wrongSecret.status).toBe(401);
    const otherBody = await kit.post("github-main", `${body} `, {
      ...headers,
      "x-hub-signature-256": githubSignature(SECRET, body),
    });
    expect(otherBody.status).toBe(401);
    const sha1Style = await kit.post("github-main", body, {
      ...headers,
      "x-hub-signature-256": `sha1=${githubSignature(SECRET, body).slice(7)}`,
    });
    expect(sha1Style.status).toBe(401);
  });

  it("checks the signature before the body: a broken body with a bad signature is 401, not 400", async () => {
    const res = await kit.post("github-main", "{not json", {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": "broken",
      "x-hub-signature-256": githubSignature("wrong", "{not json"),
    });
    expect(res.status).toBe(401);
  });
});

describe("github: deliveries", () => {
  it("maps a push (GitHub's documented payload shape) and keeps the body as data", async () => {
    const payload = {
      ref: "refs/heads/main",
      before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      after: "0000000000000000000000000000000000000000",
      repository: { ...repository, url: "https://github.com/octo-org/hello-world" },
      pusher: { name: "octocat", email: "octocat@github.com" },
      sender,
      created: false,
      deleted: true,
      forced: false,
      commits: [],
    };
    const res = await send("push", payload);
    expect(res.status).toBe(202);
    const event = await lastDelivered();
    expect(event).toMatchObject({
      specversion: "1.0",
      id: `delivery-${deliveries}`,
      source: "https://github.com/octo-org/hello-world",
      type: "com.github.push",
      subject: "refs/heads/main",
      time: RECEIPT,
      datacontenttype: "application/json",
      authtype: "api_key",
      authid: "github-main",
      recordedtime: RECEIPT,
      data: payload,
    });
    expect(event.authclaims).toBeUndefined();
  });

  it("takes a form-encoded delivery's payload field (GitHub's other content type)", async () => {
    const payload = {
      action: "opened",
      number: 2,
      pull_request: { updated_at: "2024-05-02T11:00:00Z" },
      repository,
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await kit.post("github-main", body, {
      "content-type": "application/x-www-form-urlencoded",
      "x-github-event": "pull_request",
      "x-github-delivery": "form-1",
      "x-hub-signature-256": githubSignature(SECRET, body),
    });
    expect(res.status).toBe(202);
    expect(await lastDelivered()).toMatchObject({
      id: "form-1",
      type: "com.github.pull_request.opened",
      subject: "2",
      time: "2024-05-02T11:00:00Z",
      data: payload,
    });
  });

  it("a redelivery (same X-GitHub-Delivery) is acknowledged and not delivered twice", async () => {
    const payload = { ref: "refs/tags/v1", ref_type: "tag", repository, sender };
    const headers = { "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958" };
    expect((await send("create", payload, headers)).status).toBe(202);
    expect((await send("create", payload, headers)).status).toBe(202);
    const matching = (await kit.delivered()).filter(
      (e) => e.id === "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    );
    expect(matching).toHaveLength(1);
    expect(matching[0]).toMatchObject({ type: "com.github.create.tag", subject: "refs/tags/v1" });
  });

  it("answers GitHub's ping with 204 and stores nothing", async () => {
    const before = (await kit.delivered()).length;
    const res = await send("ping", { zen: "Keep it logically awesome.", hook_id: 1, repository });
    expect(res.status).toBe(204);
    expect((await kit.delivered()).length).toBe(before);
  });

  it("refuses an event the adapter document does not map, naming the header: 400", async () => {
    const res = await send("sub_issues", { action: "sub_issue_added", repository });
    expect(res.status).toBe(400);
    const problem = await res.json();
    expect(problem.code).toBe("invalid_payload");
    expect(problem.errors).toEqual([
      {
        field: "header X-GitHub-Event",
        message: 'is "sub_issues", an event cloudevents/adapters/github.md does not map',
      },
    ]);
  });

  it("maps team_add as GitHub sends it, without an action: the document's prefix alone", async () => {
    // GitHub's team_add payload: team, repository, organization, sender; no `action`.
    const payload = { team: { id: 2723476, slug: "justice-league" }, repository, sender };
    const res = await send("team_add", payload);
    expect(res.status).toBe(202);
    const delivered = await lastDelivered();
    expect(delivered).toMatchObject({
      source: REPO_URL,
      type: "com.github.team_add.",
      subject: "2723476",
      time: RECEIPT,
    });
    expect(delivered.data).toEqual(payload);
  });

  it("refuses a payload without the fields id, source and type come from, naming each: 400", async () => {
    const res = await send("issues", { issue: { number: 1 } }, { "x-github-delivery": "" });
    expect(res.status).toBe(400);
    const problem = await res.json();
    expect(problem.errors).toEqual([
      { field: "header X-GitHub-Delivery", message: "is missing" },
      { field: "repository.url", message: "is missing" },
      { field: "action", message: "is missing" },
    ]);
    expect(problem.detail).toContain("repository.url is missing");
  });

  it("refuses a body that is not JSON (400) and a content type GitHub does not send (415)", async () => {
    const broken = "{";
    const res = await kit.post("github-main", broken, {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": "broken-json",
      "x-hub-signature-256": githubSignature(SECRET, broken),
    });
    expect(res.status).toBe(400);
    expect((await res.json()).code).toBe("malformed_request");
    const xml = await kit.post("github-main", "<push/>", {
      "content-type": "application/xml",
      "x-github-event": "push",
      "x-github-delivery": "xml",
      "x-hub-signature-256": githubSignature(SECRET, "<push/>"),
    });
    expect(xml.status).toBe(415);
    expect(xml.headers.get("accept-post")).toContain("application/json");
  });
});

/**
 * Every event of cloudevents/adapters/github.md: a payload with the fields its row names, and
 * the attributes that row says to produce (written from the document's table).
 */
const T = "2024-06-01T12:00:00Z";
const T2 = "2024-06-02T12:00:00Z";
const TABLE: readonly [string, object, Record<string, string | undefined>][] = [
  [
    "branch_protection_configuration",
    { action: "enabled", repository },
    {
      source: REPO_URL,
      type: "com.github.branch_protection_configuration.enabled",
      subject: undefined,
      time: RECEIPT,
    },
  ],
  [
    "branch_protection_rule",
    { action: "created", rule: { id: 21, updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.branch_protection_rule.created", subject: "21", time: T },
  ],
  [
    "check_run",
    {
      action: "completed",
      check_run: { id: 128620228, completed_at: T, started_at: T2 },
      repository,
    },
    { source: REPO_URL, type: "com.github.check_run.completed", subject: "128620228", time: T },
  ],
  [
    "check_run",
    { action: "created", check_run: { id: 5, completed_at: null, started_at: T2 }, repository },
    { type: "com.github.check_run.created", subject: "5", time: T2 },
  ],
  [
    "check_suite",
    { action: "requested", check_suite: { id: 118578147, updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.check_suite.requested", subject: "118578147", time: T },
  ],
  [
    "code_scanning_alert",
    { action: "created", alert: { number: 42 }, repository },
    {
      source: REPO_URL,
      type: "com.github.code_scanning_alert.created",
      subject: "42",
      time: RECEIPT,
    },
  ],
  [
    "commit_comment",
    {
      action: "created",
      comment: {
        id: 33548674,
        url: "https://api.github.com/repos/octo-org/hello-world/comments/33548674",
        commit_id: "6113728f",
        updated_at: T,
      },
      repository,
    },
    {
      source: "https://api.github.com/repos/octo-org/hello-world/comments/33548674/6113728f",
      type: "com.github.commit_comment.created",
      subject: "33548674",
      time: T,
    },
  ],
  [
    "content_reference",
    { action: "created", content_reference: { id: 17 }, repository },
    {
      source: REPO_URL,
      type: "com.github.content_reference.created",
      subject: "17",
      time: RECEIPT,
    },
  ],
  [
    "create",
    { ref: "simple-tag", ref_type: "tag", repository },
    { source: REPO_URL, type: "com.github.create.tag", subject: "simple-tag", time: RECEIPT },
  ],
  [
    "custom_property",
    { action: "created", definition: { property_name: "team" }, repository },
    {
      source: REPO_URL,
      type: "com.github.custom_property.created",
      subject: "team",
      time: RECEIPT,
    },
  ],
  [
    "custom_property_values",
    { action: "updated", repository },
    {
      source: REPO_URL,
      type: "com.github.custom_property_values.updated",
      subject: undefined,
      time: RECEIPT,
    },
  ],
  [
    "delete",
    { ref: "feature", ref_type: "branch", repository },
    { source: REPO_URL, type: "com.github.delete.branch", subject: "feature", time: RECEIPT },
  ],
  [
    "dependabot_alert",
    { action: "fixed", alert: { id: 9 }, repository },
    { source: REPO_URL, type: "com.github.dependabot_alert.fixed", subject: "9", time: RECEIPT },
  ],
  [
    "deploy_key",
    { action: "deleted", key: { id: 3, deleted_at: T, created_at: T2 }, repository },
    { source: REPO_URL, type: "com.github.deploy_key.deleted", subject: "3", time: T },
  ],
  [
    "deploy_key",
    { action: "created", key: { id: 4, created_at: T2 }, repository },
    { type: "com.github.deploy_key.created", subject: "4", time: T2 },
  ],
  [
    "deployment",
    { action: "created", deployment: { id: 145988746, updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.deployment", subject: "145988746", time: T },
  ],
  [
    "deployment_protection_rule",
    {
      action: "requested",
      deployment: { id: 7, url: "https://api.github.com/repos/octo-org/hello-world/deployments/7" },
    },
    {
      source: "https://api.github.com/repos/octo-org/hello-world/deployments/7",
      type: "com.github.deployment_protection_rule.requested",
      subject: "7",
      time: RECEIPT,
    },
  ],
  [
    "deployment_review",
    {
      action: "approved",
      deployment: { url: "https://api.github.com/repos/octo-org/hello-world/deployments/8" },
      workflow_run: { id: 99 },
    },
    {
      source: "https://api.github.com/repos/octo-org/hello-world/deployments/8",
      type: "com.github.deployment_review.approved",
      subject: "99",
      time: RECEIPT,
    },
  ],
  [
    "deployment_status",
    {
      action: "created",
      deployment: { url: "https://api.github.com/repos/octo-org/hello-world/deployments/9" },
      deployment_status: {
        state: "success",
        url: "https://api.github.com/repos/octo-org/hello-world/deployments/9/statuses/1",
        updated_at: T,
      },
      repository,
    },
    {
      source: "https://api.github.com/repos/octo-org/hello-world/deployments/9",
      type: "com.github.deployment_status.success",
      subject: "https://api.github.com/repos/octo-org/hello-world/deployments/9/statuses/1",
      time: T,
    },
  ],
  [
    "discussion",
    { action: "created", discussion: { id: 11 }, repository },
    { source: REPO_URL, type: "com.github.discussion.created", subject: "11", time: RECEIPT },
  ],
  [
    "discussion_comment",
    { action: "created", discussion: { id: 12 }, comment: { updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.discussion_comment.created", subject: "12", time: T },
  ],
  [
    "fork",
    {
      forkee: { url: "https://api.github.com/repos/someone/hello-world", created_at: T },
      repository,
    },
    {
      source: REPO_URL,
      type: "com.github.fork",
      subject: "https://api.github.com/repos/someone/hello-world",
      time: T,
    },
  ],
  [
    "github_app_authorization",
    { action: "revoked", sender },
    {
      source: "https://api.github.com/users/octocat",
      type: "com.github.github_app_authorization",
      subject: undefined,
      time: RECEIPT,
    },
  ],
  [
    "gollum",
    { pages: [{ page_name: "Home" }], repository },
    { source: REPO_URL, type: "com.github.gollum", subject: undefined, time: RECEIPT },
  ],
  [
    "installation",
    { action: "created", installation: { id: 2, account: { url: OWNER_URL }, updated_at: T } },
    { source: OWNER_URL, type: "com.github.installation.created", subject: "2", time: T },
  ],
  [
    "installation",
    {
      action: "suspend",
      installation: { id: 3, account: { url: OWNER_URL }, updated_at: 1717243200 },
    },
    { type: "com.github.installation.suspend", subject: "3", time: "2024-06-01T12:00:00.000Z" },
  ],
  [
    "installation_repositories",
    { action: "added", installation: { id: 2, account: { url: OWNER_URL }, updated_at: T } },
    {
      source: OWNER_URL,
      type: "com.github.installation_repositories.added",
      subject: "2",
      time: T,
    },
  ],
  [
    "installation_target",
    { action: "renamed", installation: { id: 2, account: { url: OWNER_URL } } },
    {
      source: OWNER_URL,
      type: "com.github.installation_target.renamed",
      subject: "2",
      time: RECEIPT,
    },
  ],
  [
    "issue_comment",
    {
      action: "created",
      issue: { url: "https://api.github.com/repos/octo-org/hello-world/issues/1" },
      comment: { id: 492700400, updated_at: T },
      repository,
    },
    {
      source: "https://api.github.com/repos/octo-org/hello-world/issues/1",
      type: "com.github.issue_comment.created",
      subject: "492700400",
      time: T,
    },
  ],
  [
    "issues",
    { action: "opened", issue: { number: 1, updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.issues.opened", subject: "1", time: T },
  ],
  [
    "label",
    { action: "created", label: { name: "bug" }, repository },
    { source: REPO_URL, type: "com.github.label.created", subject: "bug", time: RECEIPT },
  ],
  [
    "marketplace_purchase",
    {
      action: "purchased",
      effective_date: T,
      marketplace_purchase: { account: { login: "octo-org" } },
      sender,
    },
    {
      source: "https://api.github.com/users",
      type: "com.github.marketplace_purchase.purchased",
      subject: "octo-org",
      time: T,
    },
  ],
  [
    "member",
    { action: "added", member: { login: "octocat" }, repository },
    { source: REPO_URL, type: "com.github.member.added", subject: "octocat", time: RECEIPT },
  ],
  [
    "membership",
    {
      action: "removed",
      scope: "team",
      member: { login: "octocat" },
      team: { url: "https://api.github.com/teams/2" },
    },
    {
      source: "https://api.github.com/teams/2",
      type: "com.github.membership.team.removed",
      subject: "octocat",
      time: RECEIPT,
    },
  ],
  [
    "merge_group",
    {
      action: "checks_requested",
      merge_group: { head_ref: "refs/heads/gh-readonly-queue/main/pr-1" },
      repository,
    },
    {
      source: REPO_URL,
      type: "com.github.merge_group.checks_requested",
      subject: "refs/heads/gh-readonly-queue/main/pr-1",
      time: RECEIPT,
    },
  ],
  [
    "meta",
    { action: "deleted", hook_id: 101, hook: { updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.meta.deleted", subject: "101", time: T },
  ],
  [
    "milestone",
    { action: "closed", milestone: { number: 3, updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.milestone.closed", subject: "3", time: T },
  ],
  [
    "organization",
    {
      action: "member_added",
      membership: { user: { login: "octocat" } },
      organization: { url: "https://api.github.com/orgs/octo-org" },
    },
    {
      source: "https://api.github.com/orgs/octo-org",
      type: "com.github.organization.member_added",
      subject: "octocat",
      time: RECEIPT,
    },
  ],
  [
    "organization",
    { action: "renamed", organization: { url: "https://api.github.com/orgs/octo-org" } },
    { type: "com.github.organization.renamed", subject: undefined },
  ],
  [
    "org_block",
    {
      action: "blocked",
      blocked_user: { login: "spammer" },
      organization: { url: "https://api.github.com/orgs/octo-org" },
    },
    {
      source: "https://api.github.com/orgs/octo-org",
      type: "com.github.org_block.blocked",
      subject: "spammer",
      time: RECEIPT,
    },
  ],
  [
    "package",
    { action: "published", package: { id: 5, updated_at: null, created_at: T2 }, repository },
    { source: REPO_URL, type: "com.github.package.published", subject: "5", time: T2 },
  ],
  [
    "page_build",
    {
      build: { url: "https://api.github.com/repos/octo-org/hello-world/pages/builds/1" },
      pusher: { updated_at: T },
      repository,
    },
    {
      source: REPO_URL,
      type: "com.github.page_build",
      subject: "https://api.github.com/repos/octo-org/hello-world/pages/builds/1",
      time: T,
    },
  ],
  [
    "project_card",
    { action: "moved", project_card: { id: 1, updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.project_card.moved", subject: "1", time: T },
  ],
  [
    "project_column",
    { action: "edited", project_column: { id: 2, updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.project_column.edited", subject: "2", time: T },
  ],
  [
    "project",
    { action: "closed", project: { id: 3, updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.project.closed", subject: "3", time: T },
  ],
  [
    "projects_v2",
    { action: "edited", projects_v2: { id: 4, updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.projects_v2.edited", subject: "4", time: T },
  ],
  [
    "projects_v2_item",
    { action: "archived", projects_v2_item: { id: 5, updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.projects_v2_item.archived", subject: "5", time: T },
  ],
  [
    "projects_v2_status_update",
    { action: "created", projects_v2_status_update: { id: 6, updated_at: T }, repository },
    {
      source: REPO_URL,
      type: "com.github.projects_v2_status_update.created",
      subject: "6",
      time: T,
    },
  ],
  [
    "public",
    { repository },
    {
      source: OWNER_URL,
      type: "com.github.public",
      subject: "hello-world",
      time: "2024-05-01T10:00:00Z",
    },
  ],
  [
    "pull_request",
    { action: "closed", number: 7, pull_request: { updated_at: T }, repository },
    { source: REPO_URL, type: "com.github.pull_request.closed", subject: "7", time: T },
  ],
  [
    "pull_request_review",
    {
      action: "submitted",
      review: { id: 8, submitted_at: T },
      pull_request: { url: "https://api.github.com/repos/octo-org/hello-world/pulls/7" },
    },
    {
      source: "https://api.github.com/repos/octo-org/hello-world/pulls/7",
      type: "com.github.pull_request_review.submitted",
      subject: "8",
      time: T,
    },
  ],
  [
    "pull_request_review_comment",
    {
      action: "created",
      comment: { id: 9 },
      pull_request: {
        url: "https://api.github.com/repos/octo-org/hello-world/pulls/7",
        updated_at: T2,
      },
    },
    {
      source: "https://api.github.com/repos/octo-org/hello-world/pulls/7",
      type: "com.github.pull_request_review_comment.created",
      subject: "9",
      time: T2,
    },
  ],
  [
    "pull_request_review_thread",
    {
      action: "resolved",
      pull_request: { id: 10, url: "https://api.github.com/repos/octo-org/hello-world/pulls/7" },
    },
    {
      source: "https://api.github.com/repos/octo-org/hello-world/pulls/7",
      type: "com.github.pull_request_review_thread.resolved",
      subject: "10",
      time: RECEIPT,
    },
  ],
  [
    "push",
    { ref: "refs/heads/main", repository },
    { source: REPO_URL, type: "com.github.push", subject: "refs/heads/main", time: RECEIPT },
  ],
  [
    "registry_package",
    {
      action: "published",
      registry_package: {
        html_url: "https://github.com/octo-org/hello-world/packages/1",
        updated_at: T,
      },
      repository,
    },
    {
      source: REPO_URL,
      type: "com.github.registry_package.published",
      subject: "https://github.com/octo-org/hello-world/packages/1",
      time: T,
    },
  ],
  [
    "release",
    { action: "published", release: { id: 11, created_at: T2, published_at: T }, repository },
    { source: REPO_URL, type: "com.github.release.published", subject: "11", time: T },
  ],
  [
    "release",
    { action: "created", release: { id: 12, created_at: T2, published_at: null }, repository },
    { type: "com.github.release.created", subject: "12", time: T2 },
  ],
  [
    "repository",
    { action: "renamed", repository },
    {
      source: OWNER_URL,
      type: "com.github.repository.renamed",
      subject: "hello-world",
      time: "2024-05-01T10:00:00Z",
    },
  ],
  [
    "repository_advisory",
    {
      action: "published",
      repository_advisory: { ghsa_id: "GHSA-abcd-1234-efgh", updated_at: T },
      repository,
    },
    {
      source: REPO_URL,
      type: "com.github.repository_advisory.published",
      subject: "GHSA-abcd-1234-efgh",
      time: T,
    },
  ],
  [
    "repository_dispatch",
    { action: "on-demand-test", branch: "main", repository },
    {
      source: OWNER_URL,
      type: "com.github.repository_dispatchon-demand-test",
      subject: undefined,
      time: RECEIPT,
    },
  ],
  [
    "repository_import",
    { status: "success", repository },
    {
      source: OWNER_URL,
      type: "com.github.repository_import",
      subject: "hello-world",
      time: "2024-05-01T10:00:00Z",
    },
  ],
  [
    "repository_ruleset",
    { action: "created", repository },
    {
      source: OWNER_URL,
      type: "com.github.repository_rulesetcreated",
      subject: "hello-world",
      time: "2024-05-01T10:00:00Z",
    },
  ],
  [
    "repository_vulnerability_alert",
    { action: "create", alert: { id: 91095730 }, repository },
    {
      source: REPO_URL,
      type: "com.github.repository_vulnerability_alert.create",
      subject: "91095730",
      time: RECEIPT,
    },
  ],
  [
    "secret_scanning_alert",
    { action: "created", alert: { number: 13, updated_at: null, created_at: T2 }, repository },
    { source: REPO_URL, type: "com.github.secret_scanning_alert.created", subject: "13", time: T2 },
  ],
  [
    "secret_scanning_alert_location",
    { action: "created", alert: { number: 14, updated_at: T, created_at: T2 }, repository },
    {
      source: REPO_URL,
      type: "com.github.secret_scanning_alert_location.created",
      subject: "14",
      time: T,
    },
  ],
  [
    "security_advisory",
    { action: "published", security_advisory: { ghsa_id: "GHSA-rf4j-j272-fj86", updated_at: T } },
    {
      source: "github.com",
      type: "com.github.security_advisory.published",
      subject: "GHSA-rf4j-j272-fj86",
      time: T,
    },
  ],
  [
    "security_and_analysis",
    { changes: {}, repository },
    {
      source: REPO_URL,
      type: "com.github.security_and_analysis",
      subject: undefined,
      time: RECEIPT,
    },
  ],
  [
    "sponsorship",
    { action: "created", sponsorship: { sponsor: { login: "patron" } }, repository },
    { source: REPO_URL, type: "com.github.sponsorship.created", subject: "patron", time: RECEIPT },
  ],
  [
    "star",
    { action: "created", starred_at: T, repository },
    { source: REPO_URL, type: "com.github.star.created", subject: undefined, time: T },
  ],
  [
    "star",
    { action: "deleted", starred_at: null, repository },
    { type: "com.github.star.deleted", time: RECEIPT },
  ],
  [
    "status",
    {
      sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      state: "success",
      updated_at: T,
      repository,
    },
    {
      source: REPO_URL,
      type: "com.github.status.",
      subject: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      time: T,
    },
  ],
  [
    "team",
    { action: "created", team: { id: 15 }, updated_at: T, repository },
    { source: REPO_URL, type: "com.github.team.created", subject: "15", time: T },
  ],
  [
    "team_add",
    { action: "added", team: { id: 16 }, repository },
    { source: REPO_URL, type: "com.github.team_add.added", subject: "16", time: RECEIPT },
  ],
  [
    "watch",
    { action: "started", repository },
    { source: REPO_URL, type: "com.github.watch.started", subject: undefined, time: RECEIPT },
  ],
  [
    "workflow_dispatch",
    { workflow: ".github/workflows/build.yml", ref: "refs/heads/main", repository },
    {
      source: REPO_URL,
      type: "com.github.workflow_dispatch",
      subject: ".github/workflows/build.yml",
      time: RECEIPT,
    },
  ],
  [
    "workflow_job",
    { action: "queued", workflow_job: { name: "build" }, repository },
    { source: REPO_URL, type: "com.github.workflow_job.queued", subject: "build", time: RECEIPT },
  ],
  [
    "workflow_run",
    { action: "completed", workflow: { name: "CI" }, repository },
    { source: REPO_URL, type: "com.github.workflow_run.completed", subject: "CI", time: RECEIPT },
  ],
];

/**
 * Deliveries shaped as GitHub sends them where the field the document takes `source` from is not
 * in the payload: organisation-level events have no `repository`, sponsorships neither,
 * `deployment_review` has no `deployment`, and `installation_target`'s `installation` is only
 * `{ id, node_id }`. The document's field still wins when it is there (the table above).
 */
const ORG_URL = "https://api.github.com/orgs/octo-org";
const organization = { login: "octo-org", id: 6811672, url: ORG_URL };
const installation = { id: 2, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMg==" };
const AS_SENT: readonly [string, object, Record<string, string | undefined>][] = [
  [
    "projects_v2",
    {
      action: "created",
      projects_v2: { id: 4, updated_at: T },
      organization,
      sender,
      installation,
    },
    { source: ORG_URL, type: "com.github.projects_v2.created", subject: "4", time: T },
  ],
  [
    "projects_v2_item",
    { action: "edited", projects_v2_item: { id: 5, updated_at: T }, organization, sender },
    { source: ORG_URL, type: "com.github.projects_v2_item.edited", subject: "5", time: T },
  ],
  [
    "projects_v2_status_update",
    {
      action: "created",
      projects_v2_status_update: { id: 6, updated_at: T },
      organization,
      sender,
    },
    { source: ORG_URL, type: "com.github.projects_v2_status_update.created", subject: "6" },
  ],
  [
    "custom_property",
    { action: "created", definition: { property_name: "env" }, organization, sender },
    { source: ORG_URL, type: "com.github.custom_property.created", subject: "env" },
  ],
  [
    "team",
    { action: "created", team: { id: 16, slug: "devs" }, organization, sender },
    { source: ORG_URL, type: "com.github.team.created", subject: "16" },
  ],
  [
    "meta",
    { action: "deleted", hook_id: 7, hook: { id: 7, updated_at: T }, organization, sender },
    { source: ORG_URL, type: "com.github.meta.deleted", subject: "7", time: T },
  ],
  [
    "repository_ruleset",
    {
      action: "created",
      repository_ruleset: { id: 3, source_type: "Organization" },
      organization,
      sender,
    },
    { source: ORG_URL, type: "com.github.repository_rulesetcreated", subject: undefined },
  ],
  [
    "sponsorship",
    {
      action: "created",
      sponsorship: {
        node_id: "MDExOlNwb25zb3JzaGlwMQ==",
        sponsorable: { login: "octocat", url: "https://api.github.com/users/octocat" },
        sponsor: { login: "monalisa", url: "https://api.github.com/users/monalisa" },
        privacy_level: "public",
        tier: { name: "$5 a month" },
      },
      sender: { login: "monalisa", url: "https://api.github.com/users/monalisa" },
    },
    {
      source: "https://api.github.com/users/octocat",
      type: "com.github.sponsorship.created",
      subject: "monalisa",
    },
  ],
  [
    "deployment_review",
    {
      action: "approved",
      approver: sender,
      comment: "ship it",
      environment: "production",
      since: T,
      workflow_run: { id: 99, url: `${REPO_URL}/actions/runs/99` },
      workflow_job_runs: [{ id: 1, environment: "production" }],
      repository,
      organization,
      sender,
    },
    { source: REPO_URL, type: "com.github.deployment_review.approved", subject: "99" },
  ],
  [
    "deployment_protection_rule",
    {
      action: "requested",
      environment: "production",
      event: "push",
      deployment_callback_url: `${REPO_URL}/actions/runs/99/deployment_protection_rule`,
      repository,
      sender,
    },
    {
      source: REPO_URL,
      type: "com.github.deployment_protection_rule.requested",
      subject: undefined,
    },
  ],
  [
    "installation_target",
    {
      action: "renamed",
      account: { login: "octo-org", id: 6811672, html_url: "https://github.com/octo-org" },
      changes: { login: { from: "octo-old" } },
      installation,
      organization,
      target_type: "Organization",
      sender,
    },
    { source: ORG_URL, type: "com.github.installation_target.renamed", subject: "2" },
  ],
  [
    "installation_target",
    {
      action: "renamed",
      account: { login: "octocat", id: 1, html_url: "https://github.com/octocat" },
      changes: { login: { from: "octo-cat" } },
      installation,
      target_type: "User",
      sender,
    },
    { source: sender.url, type: "com.github.installation_target.renamed", subject: "2" },
  ],
];

/** Sends one delivery of `event` and checks it was accepted and mapped to `expected`, data as sent. */
async function expectMapped(
  event: string,
  payload: object,
  expected: Record<string, string | undefined>,
): Promise<void> {
  const res = await send(event, payload);
  expect(res.status).toBe(202);
  const delivered = await lastDelivered();
  expect(delivered.id).toBe(`delivery-${deliveries}`);
  for (const [name, value] of Object.entries(expected)) {
    expect(delivered[name], name).toBe(value);
  }
  expect(delivered.data).toEqual(payload);
}

describe("github: deliveries without the field the document takes source from", () => {
  it.each(AS_SENT.map(([event, payload, expected], i) => ({ i, event, payload, expected })))(
    "$event ($i)",
    ({ event, payload, expected }) => expectMapped(event, payload, expected),
  );

  it("still refuses a repository event with neither repository nor organization, naming repository.url", async () => {
    const res = await send("push", { ref: "refs/heads/main", sender });
    expect(res.status).toBe(400);
    expect((await res.json()).errors).toEqual([{ field: "repository.url", message: "is missing" }]);
  });
});

describe("github: every event of cloudevents/adapters/github.md", () => {
  it("covers all 71 events of the document", () => {
    expect(new Set(TABLE.map(([event]) => event)).size).toBe(71);
  });

  it.each(TABLE.map(([event, payload, expected], i) => ({ i, event, payload, expected })))(
    "$event ($i)",
    ({ event, payload, expected }) => expectMapped(event, payload, expected),
  );
});
