import { createHmac } from "node:crypto";
import { signSnsMessage } from "../support/sns-signing-certificate.js";
import { jsonText } from "./events.js";
import type { Prng } from "./prng.js";
import type { RawRequest } from "./raw-http.js";

/** The adapters of the fuzz config (one of every kind), and what signing them takes. */
export const FUZZ_ADAPTERS = {
  github: { id: "gh", secret: "fuzz-github-secret-0123456789" },
  gitlab: { id: "gl", secret: "fuzz-gitlab-token" },
  sns: { id: "sns", topic: "arn:aws:sns:us-east-1:123456789012:fuzz" },
  s3: { id: "s3" },
  kinesis: { id: "kin" },
  couchdb: { id: "couch", server: "https://couch.example.com", database: "fz" },
  mapping: { id: "map" },
} as const;

/** The `adapters:` section for a sink at `sinkUrl` (which serves the SNS certificate). */
export function fuzzAdapters(sinkUrl: string): unknown[] {
  const a = FUZZ_ADAPTERS;
  return [
    { id: a.github.id, kind: "github", secret: a.github.secret },
    { id: a.gitlab.id, kind: "gitlab", secret: a.gitlab.secret },
    { id: a.sns.id, kind: "sns", topics: [a.sns.topic], trustedUrls: [`${sinkUrl}/sns/`] },
    { id: a.s3.id, kind: "s3" },
    { id: a.kinesis.id, kind: "kinesis" },
    { id: a.couchdb.id, kind: "couchdb", server: a.couchdb.server, database: a.couchdb.database },
    {
      id: a.mapping.id,
      kind: "mapping",
      attributes: {
        id: { pointer: "/delivery" },
        source: { pointer: "/origin" },
        type: { pointer: "/kind", prefix: "com.example.fz." },
        subject: { pointer: "/item/name", default: "none" },
      },
    },
  ];
}

/** A webhook request; `marker` is in every event a 202 stores, while the request still holds it. */
export interface WebhookGenerated {
  readonly label: string;
  readonly req: RawRequest;
  readonly marker: string;
}

export interface WebhookContext {
  readonly auth: readonly (readonly [string, string])[];
  nextTag(): string;
  /** Signs an SNS message (the fuzz test holds the key); `certUrl` is under the sink. */
  readonly snsKeyPem: string;
  readonly snsCertUrl: string;
}

type Json = Record<string, unknown>;

function s3Payload(rng: Prng, marker: string): Json {
  const records = Array.from({ length: rng.int(1, 3) }, (_, i) => ({
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: "us-west-2",
    eventTime: "2024-01-01T00:00:00.000Z",
    eventName: rng.pick(["ObjectCreated:Put", "ObjectRemoved:Delete", "ObjectCreated:Copy"]),
    userIdentity: { principalId: "AIDAJDPLRKLG7UEXAMPLE" },
    requestParameters: { sourceIPAddress: "127.0.0.1" },
    responseElements: { "x-amz-request-id": `${marker}r${i}`, "x-amz-id-2": rng.word(8, 20) },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "fz",
      bucket: {
        name: `b${rng.word()}`,
        ownerIdentity: { principalId: "A3NL" },
        arn: "arn:aws:s3:::b",
      },
      object: {
        key: rng.pick(["a.png", "dir/b+c.jpg", "%E2%82%AC.txt", rng.word()]),
        size: 1024,
        eTag: "d41d",
        sequencer: "0055",
      },
    },
  }));
  return rng.chance(0.05)
    ? { Event: "s3:TestEvent", Service: "Amazon S3", Bucket: "b" }
    : { Records: records };
}

function kinesisPayload(rng: Prng, marker: string): Json {
  return {
    Records: Array.from({ length: rng.int(1, 3) }, (_, i) => ({
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: rng.word(),
        sequenceNumber: `${marker}q${i}`,
        data: rng.chance(0.1)
          ? rng.pick(["!!!", "YQ", "Y Q==", "-_-_", "====", ""])
          : Buffer.from(rng.chance(0.5) ? jsonText(rng) : rng.bytes(rng.int(0, 30))).toString(
              "base64",
            ),
        approximateArrivalTimestamp: 1545084650.987,
      },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: `shardId-000000000006:${marker}q${i}`,
      eventName: "aws:kinesis:record",
      invokeIdentityArn: "arn:aws:iam::123456789012:role/r",
      awsRegion: "us-east-2",
      eventSourceARN: "arn:aws:kinesis:us-east-2:123456789012:stream/s",
    })),
  };
}

function couchPayload(rng: Prng, marker: string): Json {
  const row = (i: number) =>
    rng.chance(0.7)
      ? {
          seq: `${marker}s${i}`,
          id: rng.word(),
          changes: [{ rev: `1-${rng.word()}` }],
          ...(rng.chance(0.3) ? { deleted: true } : {}),
        }
      : {
          seq: `${marker}s${i}`,
          db_name: rng.word(),
          type: rng.pick(["created", "updated", "deleted", "ddoc_updated"]),
        };
  return rng.chance(0.5)
    ? row(0)
    : {
        results: Array.from({ length: rng.int(1, 3) }, (_, i) => row(i)),
        last_seq: "9",
        pending: 0,
      };
}

function mappingPayload(rng: Prng, marker: string): Json {
  return {
    delivery: marker,
    origin: `/shop/${rng.word()}`,
    kind: rng.word(),
    item: { name: rng.word() },
    extra: JSON.parse(safeJson(rng)),
  };
}

/** jsonText that JSON.parse takes (the fuzzer's own payloads go through JSON.stringify again). */
function safeJson(rng: Prng): string {
  const text = jsonText(rng);
  try {
    JSON.parse(text);
    return text;
  } catch {
    return "null";
  }
}

const GITHUB_EVENTS = [
  "push",
  "ping",
  "issues",
  "pull_request",
  "star",
  "release",
  "workflow_run",
  "check_run",
];

function githubPayload(rng: Prng): Json {
  return {
    action: rng.pick(["opened", "closed", "created", "completed"]),
    ref: "refs/heads/main",
    repository: {
      url: "https://api.github.com/repos/octo/hello",
      full_name: "octo/hello",
      html_url: "https://github.com/octo/hello",
    },
    issue: { number: rng.int(1, 99) },
    pull_request: { number: rng.int(1, 99) },
    sender: { login: rng.word() },
    hook_id: 1,
  };
}

const GITLAB_EVENTS: [string, string][] = [
  ["Push Hook", "push"],
  ["Tag Push Hook", "tag_push"],
  ["Issue Hook", "issue"],
  ["Note Hook", "note"],
  ["Merge Request Hook", "merge_request"],
  ["Pipeline Hook", "pipeline"],
  ["Job Hook", "build"],
];

function gitlabPayload(rng: Prng, kind: string, marker: string): Json {
  return {
    object_kind: kind,
    checkout_sha: marker,
    ref: "refs/heads/main",
    build_id: 7,
    build_status: "created",
    object_attributes: {
      id: rng.int(1, 999),
      iid: 3,
      action: "open",
      state: "opened",
      noteable_type: "Issue",
      url: `https://gitlab.example.com/g/p/-/issues/1#${marker}`,
      created_at: "2015-05-17 18:21:36 UTC",
      status: "success",
    },
    project: { id: 1, web_url: "https://gitlab.example.com/g/p", path_with_namespace: "g/p" },
    repository: {
      homepage: "https://gitlab.example.com/g/p",
      url: "git@gitlab.example.com:g/p.git",
    },
  };
}

function snsMessage(rng: Prng, ctx: WebhookContext, marker: string): Record<string, string> {
  const type = rng.pick([
    "Notification",
    "Notification",
    "SubscriptionConfirmation",
    "UnsubscribeConfirmation",
  ]);
  const message: Record<string, string> = {
    Type: type,
    MessageId: marker,
    TopicArn: FUZZ_ADAPTERS.sns.topic,
    Message: rng.chance(0.5) ? safeJson(rng) : rng.word(),
    Timestamp: "2024-05-02T00:54:06.655Z",
  };
  if (type === "Notification") {
    if (rng.chance(0.5)) message.Subject = rng.word();
  } else {
    message.Token = rng.word(20, 40);
    // Under the trusted prefix (the sink answers as the path says), or elsewhere.
    const confirm = rng.pick(["confirm-ok", "confirm-bad", "confirm-error", "confirm-empty"]);
    message.SubscribeURL = rng.chance(0.8)
      ? `${ctx.snsCertUrl.replace(/cert\.pem$/, "")}${confirm}?Action=ConfirmSubscription&Token=${message.Token}`
      : rng.pick([
          "http://127.0.0.1:1/x",
          "https://sns.us-east-1.amazonaws.com.evil.example/",
          "not a url",
          "",
        ]);
  }
  const version = rng.pick(["1", "2"] as const);
  return signSnsMessage(message, version, ctx.snsKeyPem, ctx.snsCertUrl);
}

/** A JSON value somewhere in `value` replaced by an odd one, or a member dropped. */
function mutateJson(rng: Prng, value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object" || depth > 6 || rng.chance(0.25)) {
    return rng.pick<unknown>([
      null,
      0,
      -1,
      1e308,
      "",
      "\u0000",
      "\ud800",
      [],
      {},
      true,
      "x".repeat(300),
      "2024-13-45",
      [value],
      { v: value },
      1.5,
    ]);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return [null];
    const copy = [...value];
    const i = rng.int(0, copy.length - 1);
    if (rng.chance(0.2)) copy.splice(i, 1);
    else copy[i] = mutateJson(rng, copy[i], depth + 1);
    return copy;
  }
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return { [rng.word()]: 1 };
  const key = rng.pick(keys);
  if (rng.chance(0.2)) delete copy[key];
  else copy[key] = mutateJson(rng, copy[key], depth + 1);
  return copy;
}

function post(
  target: string,
  headers: [string, string][],
  body: string | Uint8Array,
  contentType: string | undefined,
): RawRequest {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const all: [string, string][] = [["Host", "127.0.0.1"], ["Connection", "close"], ...headers];
  if (contentType !== undefined) all.push(["Content-Type", contentType]);
  all.push(["Content-Length", String(bytes.length)]);
  return { method: "POST", target, headers: all, body: bytes };
}

/** A webhook request for one adapter kind: a valid payload, or one with an edit. */
export function webhookRequest(rng: Prng, ctx: WebhookContext): WebhookGenerated {
  const kind = rng.pick([
    "github",
    "gitlab",
    "sns",
    "s3",
    "kinesis",
    "couchdb",
    "mapping",
  ] as const);
  const marker = `wh${ctx.nextTag()}`;
  const mutate = rng.chance(0.5);
  const a = FUZZ_ADAPTERS;
  let payload: unknown;
  let headers: [string, string][] = [];
  let contentType: string | undefined = "application/json";
  const target = `/webhooks/${a[kind].id}${kind === "couchdb" && rng.chance(0.2) ? `?db=${rng.pick(["fz", "", "%zz", "a%2Fb", "fz&db=x", "_users"])}` : ""}`;
  switch (kind) {
    case "github":
      payload = githubPayload(rng);
      headers = [
        ["X-GitHub-Event", rng.pick(GITHUB_EVENTS)],
        ["X-GitHub-Delivery", marker],
      ];
      break;
    case "gitlab": {
      const [event, objectKind] = rng.pick(GITLAB_EVENTS);
      payload = gitlabPayload(rng, objectKind, marker);
      headers = [
        ["X-Gitlab-Event", event],
        ["X-Gitlab-Token", a.gitlab.secret],
        ["Idempotency-Key", marker],
      ];
      break;
    }
    case "sns": {
      payload = snsMessage(rng, ctx, marker);
      contentType = "text/plain; charset=UTF-8";
      headers = [
        ["x-amz-sns-message-type", (payload as Record<string, string>).Type ?? ""],
        ["x-amz-sns-message-id", marker],
        ["x-amz-sns-topic-arn", a.sns.topic],
        ["x-amz-sns-subscription-arn", `${a.sns.topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`],
      ];
      break;
    }
    case "s3":
      payload = s3Payload(rng, marker);
      headers = [...ctx.auth] as [string, string][];
      break;
    case "kinesis":
      payload = kinesisPayload(rng, marker);
      headers = [...ctx.auth] as [string, string][];
      break;
    case "couchdb":
      payload = couchPayload(rng, marker);
      headers = [...ctx.auth] as [string, string][];
      break;
    default:
      payload = mappingPayload(rng, marker);
      headers = [...ctx.auth] as [string, string][];
  }
  let body: string | Uint8Array = JSON.stringify(
    rng.chance(0.5) && mutate ? mutateJson(rng, payload) : payload,
  );
  if (mutate && rng.chance(0.3)) {
    const roll = rng.int(0, 6);
    if (roll === 0) body = body.slice(0, rng.int(0, body.length));
    else if (roll === 1) body = `\ufeff${body}`;
    else if (roll === 2)
      contentType = rng.pick([
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/xml",
        undefined,
        "application/json; charset=utf-16",
        "multipart/form-data",
      ]);
    else if (roll === 3) body = `${body}\n${body}`;
    else if (roll === 4) body = rng.bytes(rng.int(0, 50));
    else if (roll === 5) body = `payload=${encodeURIComponent(body)}`;
    else body = `${"[".repeat(50_000)}${"]".repeat(50_000)}`;
  }
  if (kind === "github") {
    const sig = `sha256=${createHmac("sha256", a.github.secret).update(body).digest("hex")}`;
    headers.push([
      "X-Hub-Signature-256",
      mutate && rng.chance(0.2)
        ? rng.pick(["", "sha256=", `${sig}0`, sig.toUpperCase(), "sha1=abc", `${sig}, ${sig}`])
        : sig,
    ]);
  }
  if (mutate && rng.chance(0.2)) {
    headers = headers.map(([n, v]) => [
      n,
      rng.chance(0.3) ? rng.oddText(6).replace(/[\r\n]/g, "") : v,
    ]);
  }
  return {
    label: `webhook-${kind}${mutate ? "-odd" : ""}`,
    req: post(target, headers, body, contentType),
    marker,
  };
}
