import { createHmac } from "node:crypto";
import { GITHUB_ADAPTER, MAPPING_ADAPTER } from "../config/adapters.js";
import { SINK_PATHS } from "../config/subscriptions.js";
import type { GatewayRequest } from "../target.js";
import { type CaseContext, type ConformanceCase, check } from "./case.js";
import { expectAccepted, expectProblem, expectRejected, waitForId } from "./expect.js";

const WEBHOOKS = 'DESIGN.md "HTTP surface" (POST /webhooks/{adapter-id})';
const GITHUB = "cloudevents/adapters/github.md (PushEvent)";
/**
 * DESIGN.md names the `mapping` kind only: how it is configured (JSON Pointers) and what it
 * answers are Herald's (root README "Adapters"), so these cases carry the `herald: ` prefix.
 */
const MAPPING = `Herald's contract (the root README's mapping adapter), beyond ${WEBHOOKS}`;

/** A GitHub push delivery (GitHub docs, "push" payload), signed unless `signature` says otherwise. */
function githubPush(
  ctx: CaseContext,
  delivery: string,
  signature?: string,
): { request: GatewayRequest; source: string } {
  const source = `https://github.com/herald-conformance/${ctx.token}`;
  const body = JSON.stringify({
    ref: "refs/heads/main",
    before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    after: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
    repository: { name: "hello-world", url: source },
    pusher: { name: "octocat" },
    commits: [],
  });
  const mac = createHmac("sha256", GITHUB_ADAPTER.secret).update(body).digest("hex");
  return {
    source,
    request: {
      method: "POST",
      path: `/webhooks/${GITHUB_ADAPTER.id}`,
      headers: {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature ?? `sha256=${mac}`,
      },
      body,
    },
  };
}

function mapped(payload: object): GatewayRequest {
  return {
    method: "POST",
    path: `/webhooks/${MAPPING_ADAPTER.id}`,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  };
}

/**
 * Webhook adapters (DESIGN.md): a foreign payload becomes CloudEvents per the CloudEvents adapter
 * documents, authenticated by the provider's own scheme, with dedupe and problem details like
 * `POST /events`. The target must have `conformanceAdapters()` configured.
 */
export const webhookCases: readonly ConformanceCase[] = [
  {
    name: "webhooks: a signed GitHub push -> accepted, delivered with github.md's attributes",
    spec: `${WEBHOOKS}; ${GITHUB}`,
    async run(ctx) {
      const id = ctx.id();
      const { request, source } = githubPush(ctx, id);
      expectAccepted(await ctx.send(request));
      const { event } = await waitForId(ctx, SINK_PATHS.binary, id);
      const want: Record<string, unknown> = {
        specversion: "1.0",
        source,
        type: "com.github.push",
        subject: "refs/heads/main",
        datacontenttype: "application/json",
        authid: GITHUB_ADAPTER.id,
      };
      const wrong = Object.entries(want).filter(([k, v]) => event.attributes[k] !== v);
      check(
        wrong.length === 0,
        `attributes differ: ${wrong.map(([k, v]) => `${k} is ${JSON.stringify(event.attributes[k])}, expected ${JSON.stringify(v)}`).join("; ")}`,
      );
      check(typeof event.attributes.recordedtime === "string", "recordedtime is missing");
    },
  },
  {
    name: "webhooks: a GitHub push with a wrong X-Hub-Signature-256 -> 401, never delivered",
    spec: `${WEBHOOKS}; GitHub "Validating webhook deliveries"`,
    async run(ctx) {
      const { request } = githubPush(ctx, ctx.id(), `sha256=${"0".repeat(64)}`);
      await expectRejected(ctx, request, 401);
    },
  },
  {
    name: "webhooks: a redelivered GitHub webhook (same X-GitHub-Delivery) -> accepted, delivered once",
    spec: `${WEBHOOKS}; DESIGN.md "Attributes" (dedupe)`,
    async run(ctx) {
      const id = ctx.id();
      const { request, source } = githubPush(ctx, id);
      expectAccepted(await ctx.send(request));
      expectAccepted(await ctx.send(request));
      await waitForId(ctx, SINK_PATHS.binary, id);
      await ctx.sentinel();
      const count = ctx.sink.received.filter(
        (r) =>
          r.path === SINK_PATHS.binary &&
          r.event.attributes.id === id &&
          r.event.attributes.source === source,
      ).length;
      check(count === 1, `the webhook was delivered ${count} times`);
    },
  },
  {
    name: "herald: webhooks: mapped JSON -> 202, attributes taken by JSON Pointer",
    spec: `${MAPPING}; RFC 6901`,
    async run(ctx) {
      const id = ctx.id();
      const origin = `/herald/conformance/mapped/${ctx.token}`;
      const payload = { delivery: id, origin, item: { name: "spare-part" } };
      expectAccepted(await ctx.send(mapped(payload)));
      const { event } = await waitForId(ctx, SINK_PATHS.binary, id);
      check(event.attributes.source === origin, `source is ${String(event.attributes.source)}`);
      check(
        event.attributes.type === MAPPING_ADAPTER.type,
        `type is ${String(event.attributes.type)}`,
      );
      check(
        event.attributes.subject === "spare-part",
        `subject is ${String(event.attributes.subject)}`,
      );
    },
  },
  {
    name: "herald: webhooks: a payload without the mapped source -> 400 problem naming it, never delivered",
    spec: `${MAPPING} (never a 5xx for bad input)`,
    async run(ctx) {
      const problem = await expectRejected(ctx, mapped({ delivery: ctx.id() }), 400);
      check(JSON.stringify(problem).includes("/origin"), "the problem does not name /origin");
    },
  },
  {
    name: "webhooks: an unknown adapter -> 404 problem",
    spec: WEBHOOKS,
    async run(ctx) {
      const res = await ctx.send({
        method: "POST",
        path: `/webhooks/no-such-adapter-${ctx.token}x`,
        headers: { "Content-Type": "application/json" },
        body: "{}",
      });
      expectProblem(res, 404);
    },
  },
];
