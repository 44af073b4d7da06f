import { describe, expect, it } from "vitest";
import { GITLAB_ADAPTER } from "../src/config/adapters.js";
import { runConformance } from "../src/run-conformance.js";
import { inProcessGateway } from "./in-process-gateway.js";

type Json = Record<string, unknown>;
/** Rewrites a webhook request on its way to a correct gateway: the flaw under test. */
type Flaw = (
  path: string,
  headers: Headers,
  body: string,
) => { headers: Headers; body: string } | Promise<Response>;

/** The body as JSON, or undefined when it is none (the malformed-payload cases). */
function json<T>(body: string): T | undefined {
  try {
    return JSON.parse(body) as T;
  } catch {
    return undefined;
  }
}

/**
 * The adapter cases against Herald in process, each behind a flaw a gateway could have, made by
 * rewriting the suite's request before Herald sees it (or answering for it). Each flaw must fail
 * the case about it, with a message that says what is wrong, and no other case of its group.
 */
describe("adapter cases", () => {
  const target = inProcessGateway();

  async function failures(flaw: Flaw, group: string) {
    const report = await runConformance(
      {
        async fetch(req) {
          const path = new URL(req.url).pathname;
          if (!path.startsWith("/webhooks/")) return target.gateway.fetch(req);
          const out = flaw(path, new Headers(req.headers), await req.text());
          if (out instanceof Promise) return out;
          return target.gateway.fetch(
            new Request(req.url, { method: "POST", headers: out.headers, body: out.body }),
          );
        },
      },
      { sink: target.sink, dataDir: null, timeoutMs: 2000, only: (n) => n.includes(group) },
    );
    expect(report.results.length).toBeGreaterThan(2);
    return report.results.filter((r) => !r.ok).map((r) => [r.name, r.message]);
  }

  it("passes them all without a flaw", async () => {
    expect(await failures((_, headers, body) => ({ headers, body }), "webhooks: ")).toEqual([]);
  });

  it("fails the S3 attribute case when the key is decoded into subject", async () => {
    const decodeKeys: Flaw = (path, headers, body) => {
      const payload = json<{ Records: { s3: { object: { key: string } } }[] }>(body);
      if (!path.endsWith("-s3") || payload === undefined) return { headers, body };
      for (const r of payload.Records) {
        r.s3.object.key = decodeURIComponent(r.s3.object.key.replaceAll("+", " "));
      }
      return { headers, body: JSON.stringify(payload) };
    };
    expect(await failures(decodeKeys, "S3")).toEqual([
      [
        "webhooks: an S3 notification of two records -> accepted, each delivered with aws-s3.md's attributes",
        expect.stringContaining(
          'subject: expected "photos/summer+2026/beach%2Bsea.jpg", got "photos/summer 2026/beach+sea.jpg"',
        ),
      ],
    ]);
  });

  it("fails the all-or-nothing case when a bad record is dropped and the rest accepted", async () => {
    const dropBad: Flaw = (path, headers, body) => {
      const payload = json<{ Records: Json[] }>(body);
      if (!path.endsWith("-s3") || payload === undefined) return { headers, body };
      payload.Records = payload.Records.filter((r) => "eventName" in r);
      return { headers, body: JSON.stringify(payload) };
    };
    expect(await failures(dropBad, "S3")).toEqual([
      [
        "webhooks: an S3 notification with one bad record -> 400 problem naming it, no record delivered",
        expect.stringMatching(/^expected 400, got 202/),
      ],
    ]);
  });

  it("fails the GitLab token case when the token is not checked", async () => {
    const anyToken: Flaw = (path, headers, body) => {
      if (path.endsWith("-gitlab")) headers.set("X-Gitlab-Token", GITLAB_ADAPTER.secret);
      return { headers, body };
    };
    expect(await failures(anyToken, "GitLab")).toEqual([
      [
        "webhooks: a GitLab push with a wrong or no X-Gitlab-Token -> 401, never delivered",
        expect.stringMatching(/^expected 401, got 202/),
      ],
    ]);
  });

  it("fails the system hook case when repository_update is stored as a push but answered 204", async () => {
    const storeSystemHook: Flaw = (path, headers, body) => {
      const payload = json<Json & { project?: { homepage: string } }>(body);
      if (!path.endsWith("-gitlab") || payload?.event_name !== "repository_update") {
        return { headers, body };
      }
      const push = { object_kind: "push", checkout_sha: "4045ea7a", repository: payload.project };
      headers.set("X-Gitlab-Event", "Push Hook");
      const stored = target.gateway.fetch(
        new Request("http://gw/webhooks/conformance-gitlab", {
          method: "POST",
          headers,
          body: JSON.stringify(push),
        }),
      );
      return stored.then(() => new Response(null, { status: 204 }));
    };
    expect(await failures(storeSystemHook, "GitLab")).toEqual([
      [
        "herald: webhooks: a GitLab system hook repository_update -> 204, nothing stored",
        expect.stringMatching(/^something was stored and delivered: \/binary id=/),
      ],
    ]);
  });

  it("fails the SNS certificate case when any SigningCertURL is trusted", async () => {
    const trustAnyUrl: Flaw = (path, headers, body) => {
      if (!path.endsWith("-sns") || !body.includes("untrusted-certificates")) {
        return { headers, body };
      }
      return { headers, body: body.replace("/untrusted-certificates/", "/sns-certificates/") };
    };
    expect(await failures(trustAnyUrl, "SNS")).toEqual([
      [
        "webhooks: an SNS message signed for a SigningCertURL the target does not trust -> 401, never delivered",
        expect.stringMatching(/^expected 401, got 202/),
      ],
    ]);
  });

  it("fails the Kinesis data case when data stays Base64", async () => {
    const keepBase64: Flaw = (path, headers, body) => {
      const payload = json<{ Records: { kinesis: { data: string } }[] }>(body);
      if (!path.endsWith("-kinesis") || payload === undefined) return { headers, body };
      for (const r of payload.Records) {
        // Only what is Base64 already, so the not-Base64 case still sees its bad record.
        if (/^[A-Za-z0-9+/]*={0,2}$/.test(r.kinesis.data)) {
          r.kinesis.data = Buffer.from(r.kinesis.data).toString("base64");
        }
      }
      return { headers, body: JSON.stringify(payload) };
    };
    const failed = await failures(keepBase64, "Kinesis");
    expect(failed.map(([name]) => name)).toEqual([
      "herald: webhooks: Kinesis records -> 202, JSON data as application/json, other bytes as they are",
    ]);
    expect(failed[0]?.[1]).toMatch(
      /datacontenttype: expected "application\/json", got "application\/octet-stream"/,
    );
  });
});
