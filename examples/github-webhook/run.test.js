import { describe, expect, it } from "vitest";
import { runExample } from "./run.js";

const REPO = "https://api.github.com/repos/octo-org/hello-world";

describe("github-webhook example", () => {
  it("normalises signed GitHub deliveries per the adapter document and delivers them signed", async () => {
    const { answers, events, deliveryIds, tamperedDelivery, signedPush } = await runExample();
    expect(answers).toEqual({
      ping: { status: 204, code: undefined },
      push: { status: 202, code: undefined },
      pullRequest: { status: 202, code: undefined },
      tamperedWebhook: { status: 401, code: "invalid_signature" },
    });

    // cloudevents/adapters/github.md: PushEvent and PullRequestEvent.
    expect(events).toHaveLength(2);
    const [pr, push] = events;
    expect(push).toMatchObject({
      specversion: "1.0",
      source: REPO,
      type: "com.github.push",
      subject: "refs/heads/main",
      datacontenttype: "application/json",
      data: { ref: "refs/heads/main", pusher: { name: "octocat" } },
      authtype: "api_key",
      authid: "github-main",
    });
    expect(push.id).toBe(deliveryIds.push); // the X-GitHub-Delivery header
    expect(pr.id).toBe(deliveryIds.pullRequest);
    expect(push.time).toEqual(expect.any(String)); // the document says: current time
    expect(pr).toMatchObject({
      source: REPO,
      type: "com.github.pull_request.opened",
      subject: "7",
      time: "2026-05-01T09:30:00Z",
      data: { action: "opened", number: 7 },
    });

    // Herald signed it; the same delivery with its body altered is refused by receive().
    expect(signedPush.headers["webhook-signature"]).toMatch(/^v1,/);
    expect(tamperedDelivery).toEqual({ status: 401, code: "invalid_signature" });
  });
});
