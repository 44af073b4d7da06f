import {
  COUCHDB_ADAPTER,
  GITLAB_ADAPTER,
  KINESIS_ADAPTER,
  S3_ADAPTER,
  SNS_ADAPTER,
  SNS_CERTIFICATE_PATH,
} from "../config/adapters.js";
import { SINK_PATHS } from "../config/subscriptions.js";
import type { ExpectedData } from "../events/compare.js";
import type { Received, SinkServer } from "../sink/sink-server.js";
import { createSnsSigner, type SnsMessage, type SnsSigner } from "../sns/sns-signer.js";
import type { GatewayRequest } from "../target.js";
import { type CaseContext, type ConformanceCase, check } from "./case.js";
import {
  expectAccepted,
  expectAcceptedAndDelivered,
  expectDelivered,
  expectEquivalent,
  expectRejected,
  expectStatus,
  waitForId,
} from "./expect.js";

const WEBHOOKS = 'DESIGN.md "HTTP surface" (POST /webhooks/{adapter-id})';
const S3 = "cloudevents/adapters/aws-s3.md";
const SNS = "cloudevents/adapters/aws-sns.md";
const SNS_SIGNATURES = 'Amazon SNS "Verifying the signatures of Amazon SNS messages"';
const GITLAB = "cloudevents/adapters/gitlab.md";
const COUCHDB = "cloudevents/adapters/couchdb.md";
const KINESIS =
  'Herald README "Amazon Kinesis" (no CloudEvents adapter document); CloudEvents partitioning extension';
const ALL_OR_NOTHING = `${WEBHOOKS}; DESIGN.md (a batch is all-or-nothing)`;
const DEDUPE = `${WEBHOOKS}; DESIGN.md "Attributes" (source + id dedupe)`;
const JSON_TYPE = "application/json";

function webhook(
  adapterId: string,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): GatewayRequest {
  return {
    method: "POST",
    path: `/webhooks/${adapterId}`,
    headers: { "Content-Type": JSON_TYPE, ...headers },
    body,
  };
}

/** Fails unless `value` is an RFC 3339 timestamp (core spec `time`). */
function checkTimestamp(value: unknown, what: string): void {
  check(
    typeof value === "string" &&
      /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value) &&
      !Number.isNaN(Date.parse(value)),
    `${what} is ${JSON.stringify(value)}, not an RFC 3339 timestamp`,
  );
}

/**
 * For events whose `id` or `time` the adapter document leaves to the gateway ("Generate a new
 * unique value", "Current time"): waits until both catch-alls have the event `match` picks, checks
 * each `generated` attribute is there (a non-empty string; `time` an RFC 3339 timestamp) and the
 * same in both deliveries, then compares everything else attribute by attribute.
 */
async function expectDeliveredGenerated(
  ctx: CaseContext,
  match: (r: Received) => boolean,
  what: string,
  expected: { attributes: Readonly<Record<string, unknown>>; data: ExpectedData },
  generated: readonly ("id" | "time")[],
): Promise<Received> {
  const [binary, structured] = await Promise.all(
    [SINK_PATHS.binary, SINK_PATHS.structured].map((path) =>
      ctx.sink.waitFor((r) => r.path === path && match(r), ctx.timeoutMs, `${what} at ${path}`),
    ),
  );
  const filled: Record<string, unknown> = { ...expected.attributes };
  for (const name of generated) {
    const value = binary!.event.attributes[name];
    if (name === "time") checkTimestamp(value, "time");
    else check(typeof value === "string" && value !== "", `${name} is ${JSON.stringify(value)}`);
    check(
      structured!.event.attributes[name] === value,
      `${name} differs between the two deliveries of one event`,
    );
    filled[name] = value;
  }
  for (const received of [binary!, structured!]) {
    expectEquivalent(received, { attributes: filled, data: expected.data });
  }
  return binary!;
}

/**
 * Proves nothing of this case was stored: a sentinel, then no sink may have anything that carries
 * the token, in an attribute or in the data (an acknowledged payload has no attributes of its
 * own to look for).
 */
async function expectNothingStored(ctx: CaseContext): Promise<void> {
  await ctx.sentinel();
  const decoder = new TextDecoder();
  const leaked = ctx.sink.received.filter(
    (r) =>
      Object.values(r.event.attributes).some(
        (v) => typeof v === "string" && v.includes(ctx.token),
      ) || decoder.decode(r.delivery.body).includes(ctx.token),
  );
  const undecodable = ctx.sink.undecodable.filter(({ delivery }) =>
    decoder.decode(delivery.body).includes(ctx.token),
  );
  check(
    leaked.length === 0 && undecodable.length === 0,
    `something was stored and delivered: ${[
      ...leaked.map((r) => `${r.path} id=${String(r.event.attributes.id)}`),
      ...undecodable.map(({ delivery }) => delivery.path),
    ].join(", ")}`,
  );
}

// ---- S3 (aws-s3.md) -------------------------------------------------------------------------

/** One S3 event record, shaped as in AWS's "Event message structure", its request id `requestId`. */
function s3Record(
  requestId: string,
  overrides: { eventName?: string; key?: string; drop?: string } = {},
): Record<string, unknown> {
  const record: Record<string, unknown> = {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: "us-west-2",
    eventTime: "2026-01-02T03:04:05.678Z",
    eventName: overrides.eventName ?? "ObjectCreated:Put",
    userIdentity: { principalId: "AWS:AIDAJDPLRKLG7UEXAMPLE" },
    requestParameters: { sourceIPAddress: "203.0.113.7" },
    responseElements: {
      "x-amz-request-id": requestId,
      "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
    },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "herald-conformance",
      bucket: {
        name: "herald-conformance-bucket",
        ownerIdentity: { principalId: "A3NL1KOZZKExample" },
        arn: "arn:aws:s3:::herald-conformance-bucket",
      },
      object: {
        // As S3 writes keys: URL-encoded, a space as "+" (the document takes the value as it is).
        key: overrides.key ?? "photos/summer+2026/beach%2Bsea.jpg",
        size: 1024,
        eTag: "d41d8cd98f00b204e9800998ecf8427e",
        sequencer: "0055AED6DCD90281E5",
      },
    },
  };
  if (overrides.drop !== undefined) delete record[overrides.drop];
  return record;
}

/** The event aws-s3.md makes of `record`, every attribute read from the record itself. */
function s3Expected(record: Record<string, unknown>) {
  const response = record.responseElements as Record<string, string>;
  const s3 = record.s3 as { bucket: { name: string }; object: { key: string } };
  return {
    attributes: {
      specversion: "1.0",
      id: `${response["x-amz-request-id"]}.${response["x-amz-id-2"]}`,
      source: `${String(record.eventSource)}.${String(record.awsRegion)}.${s3.bucket.name}`,
      type: `com.amazonaws.s3.${String(record.eventName)}`,
      subject: s3.object.key,
      time: record.eventTime,
      datacontenttype: JSON_TYPE,
    },
    data: { json: record },
  };
}

const s3Cases: ConformanceCase[] = [
  {
    name: "webhooks: an S3 notification of two records -> accepted, each delivered with aws-s3.md's attributes",
    spec: `${WEBHOOKS}; ${S3}`,
    async run(ctx) {
      const records = [
        s3Record(ctx.id()),
        s3Record(ctx.id(), { eventName: "ObjectRemoved:Delete", key: "reports/q1+2026.csv" }),
      ];
      const body = JSON.stringify({ Records: records });
      expectAccepted(await ctx.send(webhook(S3_ADAPTER.id, body)));
      for (const record of records) await expectDelivered(ctx, s3Expected(record));
    },
  },
  {
    name: "webhooks: an S3 notification with one bad record -> 400 problem naming it, no record delivered",
    spec: `${ALL_OR_NOTHING}; ${S3} (eventName makes the type)`,
    async run(ctx) {
      const body = JSON.stringify({
        Records: [
          s3Record(ctx.id()),
          s3Record(ctx.id(), { drop: "eventName" }),
          s3Record(ctx.id()),
        ],
      });
      const problem = await expectRejected(ctx, webhook(S3_ADAPTER.id, body), 400);
      check(JSON.stringify(problem).includes("eventName"), "the problem does not name eventName");
    },
  },
  {
    name: "webhooks: a redelivered S3 notification -> accepted twice, each record delivered once",
    spec: `${DEDUPE}; ${S3}`,
    async run(ctx) {
      const records = [s3Record(ctx.id()), s3Record(ctx.id(), { key: "second.txt" })];
      const request = webhook(S3_ADAPTER.id, JSON.stringify({ Records: records }));
      expectAccepted(await ctx.send(request));
      expectAccepted(await ctx.send(request));
      const ids = records.map((r) => String(s3Expected(r).attributes.id));
      await Promise.all(ids.map((id) => waitForId(ctx, SINK_PATHS.binary, id)));
      await ctx.sentinel();
      for (const id of ids) {
        const count = ctx.sink.received.filter(
          (r) => r.path === SINK_PATHS.binary && r.event.attributes.id === id,
        ).length;
        check(count === 1, `record ${id} was delivered ${count} times`);
      }
    },
  },
  {
    name: "webhooks: an S3 body that is not JSON -> 400 problem, never delivered",
    spec: `${WEBHOOKS} (never a 5xx for bad input); DESIGN.md "Errors"`,
    async run(ctx) {
      const truncated = JSON.stringify({ Records: [s3Record(ctx.id())] }).slice(0, -7);
      await expectRejected(ctx, webhook(S3_ADAPTER.id, truncated), 400);
    },
  },
];

// ---- Kinesis (Herald's mapping) -------------------------------------------------------------

/** A Kinesis record as a Lambda trigger receives it, its data `bytes`. */
function kinesisRecord(
  ctx: CaseContext,
  partitionKey: string,
  data: Uint8Array | string,
): Record<string, unknown> {
  const sequence = "49590338271490256608559692538361571095921575989136588898";
  return {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey,
      sequenceNumber: sequence,
      data: typeof data === "string" ? data : Buffer.from(data).toString("base64"),
      // Seconds since the epoch; a binary fraction, so the instant is exact.
      approximateArrivalTimestamp: 1_767_323_045.25,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `shardId-000000000006:${ctx.id()}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: "arn:aws:iam::123456789012:role/herald-conformance",
    awsRegion: "us-east-2",
    eventSourceARN: "arn:aws:kinesis:us-east-2:123456789012:stream/herald-conformance",
  };
}

function kinesisExpected(record: Record<string, unknown>, data: ExpectedData, json: boolean) {
  const kinesis = record.kinesis as { partitionKey: string; approximateArrivalTimestamp: number };
  return {
    attributes: {
      specversion: "1.0",
      id: record.eventID,
      source: record.eventSourceARN,
      type: "com.amazonaws.kinesis.record",
      subject: kinesis.partitionKey,
      partitionkey: kinesis.partitionKey,
      time: new Date(kinesis.approximateArrivalTimestamp * 1000).toISOString(),
      datacontenttype: json ? JSON_TYPE : "application/octet-stream",
    },
    data,
  };
}

const kinesisCases: ConformanceCase[] = [
  {
    name: "herald: webhooks: Kinesis records -> 202, JSON data as application/json, other bytes as they are",
    spec: `${WEBHOOKS}; ${KINESIS}`,
    async run(ctx) {
      const json = { sensor: "s-17", celsius: 21.5, ok: true };
      const bytes = new Uint8Array([0x00, 0xff, 0x10, 0x80, ...Buffer.from(" not JSON")]);
      const jsonRecord = kinesisRecord(ctx, "sensor-17", Buffer.from(JSON.stringify(json)));
      const bytesRecord = kinesisRecord(ctx, "sensor-18", bytes);
      const body = JSON.stringify({ Records: [jsonRecord, bytesRecord] });
      expectAccepted(await ctx.send(webhook(KINESIS_ADAPTER.id, body)));
      await expectDelivered(ctx, kinesisExpected(jsonRecord, { json }, true));
      await expectDelivered(ctx, kinesisExpected(bytesRecord, { bytes }, false));
    },
  },
  {
    name: "herald: webhooks: Kinesis records with one whose data is not Base64 -> 400 problem, none delivered",
    spec: `${ALL_OR_NOTHING}; ${KINESIS}`,
    async run(ctx) {
      const body = JSON.stringify({
        Records: [
          kinesisRecord(ctx, "a", Buffer.from("{}")),
          kinesisRecord(ctx, "b", "not base64 at all!"),
        ],
      });
      const problem = await expectRejected(ctx, webhook(KINESIS_ADAPTER.id, body), 400);
      check(
        JSON.stringify(problem).includes("kinesis.data"),
        "the problem does not name kinesis.data",
      );
    },
  },
];

// ---- CouchDB (couchdb.md) -------------------------------------------------------------------

const couchdbCases: ConformanceCase[] = [
  {
    name: "webhooks: a CouchDB _changes response -> accepted, each row delivered with couchdb.md's attributes",
    spec: `${WEBHOOKS}; ${COUCHDB} (/db/_changes Update and Delete)`,
    async run(ctx) {
      const rows = [
        { seq: ctx.id(), id: "order-1", changes: [{ rev: "1-967a00dff5e02add41819138abb3284d" }] },
        {
          seq: ctx.id(),
          id: "order-2",
          changes: [{ rev: "2-7051cbe5c8faecd085a3fa619e6e6337" }],
          deleted: true,
        },
      ];
      const body = JSON.stringify({ results: rows, last_seq: rows[1]!.seq, pending: 0 });
      expectAccepted(await ctx.send(webhook(COUCHDB_ADAPTER.id, body)));
      for (const row of rows) {
        await expectDeliveredGenerated(
          ctx,
          (r) => r.event.attributes.id === row.seq,
          `row ${row.seq}`,
          {
            attributes: {
              specversion: "1.0",
              id: row.seq,
              source: `${COUCHDB_ADAPTER.server}/${COUCHDB_ADAPTER.database}`,
              type: `org.apache.couchdb.document.${row.deleted ? "deleted" : "updated"}`,
              subject: row.id,
              datacontenttype: JSON_TYPE,
            },
            data: { json: row.changes },
          },
          ["time"],
        );
      }
    },
  },
  {
    name: "webhooks: a CouchDB _db_updates row -> accepted, delivered with couchdb.md's attributes and no data",
    spec: `${WEBHOOKS}; ${COUCHDB} (/_db_updates Create)`,
    async run(ctx) {
      const row = { db_name: "invoices", type: "created", seq: ctx.id() };
      expectAccepted(await ctx.send(webhook(COUCHDB_ADAPTER.id, JSON.stringify(row))));
      await expectDeliveredGenerated(
        ctx,
        (r) => r.event.attributes.id === row.seq,
        `row ${row.seq}`,
        {
          attributes: {
            specversion: "1.0",
            id: row.seq,
            source: COUCHDB_ADAPTER.server,
            type: "org.apache.couchdb.database.created",
            subject: row.db_name,
          },
          data: { absent: true },
        },
        ["time"],
      );
    },
  },
  {
    name: "webhooks: a CouchDB _changes response with a row lacking changes -> 400 problem, none delivered",
    spec: `${ALL_OR_NOTHING}; ${COUCHDB} (data is the changes value)`,
    async run(ctx) {
      const body = JSON.stringify({
        results: [
          {
            seq: ctx.id(),
            id: "order-1",
            changes: [{ rev: "1-967a00dff5e02add41819138abb3284d" }],
          },
          { seq: ctx.id(), id: "order-2" },
        ],
      });
      const problem = await expectRejected(ctx, webhook(COUCHDB_ADAPTER.id, body), 400);
      check(JSON.stringify(problem).includes("changes"), "the problem does not name changes");
    },
  },
];

// ---- GitLab (gitlab.md) ---------------------------------------------------------------------

/** A GitLab push payload (GitLab docs, "Push events"), its repository homepage `homepage`. */
function gitlabPush(homepage: string): Record<string, unknown> {
  const sha = "da1560886d4f094c3e6c9ef40349f7d38b5d27d7";
  return {
    object_kind: "push",
    event_name: "push",
    before: "95790bf891e76fee5e1747ab589903a6a1f80f22",
    after: sha,
    ref: "refs/heads/main",
    checkout_sha: sha,
    user_id: 4,
    user_name: "John Smith",
    user_username: "jsmith",
    project_id: 15,
    project: { id: 15, name: "Diaspora", web_url: homepage, homepage },
    repository: {
      name: "Diaspora",
      url: "git@gitlab.example.com:herald-conformance/diaspora.git",
      description: "",
      homepage,
    },
    commits: [],
    total_commits_count: 0,
  };
}

function gitlabRequest(body: string, event: string, token: string = GITLAB_ADAPTER.secret) {
  return webhook(GITLAB_ADAPTER.id, body, {
    "X-Gitlab-Event": event,
    "X-Gitlab-Token": token,
    "X-Gitlab-Instance": "https://gitlab.example.com",
    "Idempotency-Key": crypto.randomUUID(),
  });
}

const gitlabCases: ConformanceCase[] = [
  {
    name: "webhooks: a GitLab push with X-Gitlab-Token -> accepted, delivered with gitlab.md's attributes",
    spec: `${WEBHOOKS}; ${GITLAB} (Push Event)`,
    async run(ctx) {
      const homepage = `https://gitlab.example.com/herald-conformance/${ctx.token}`;
      const payload = gitlabPush(homepage);
      expectAccepted(await ctx.send(gitlabRequest(JSON.stringify(payload), "Push Hook")));
      const received = await expectDeliveredGenerated(
        ctx,
        (r) => r.event.attributes.source === homepage,
        `the push from ${homepage}`,
        {
          attributes: {
            specversion: "1.0",
            source: (payload.repository as { homepage: string }).homepage,
            type: "com.gitlab.push",
            subject: payload.checkout_sha,
            datacontenttype: JSON_TYPE,
          },
          data: { json: payload },
        },
        ["id", "time"],
      );
      check(
        received.event.attributes.authid === GITLAB_ADAPTER.id,
        `authid is ${JSON.stringify(received.event.attributes.authid)}, expected the adapter id`,
      );
    },
  },
  {
    name: "webhooks: a GitLab push with a wrong or no X-Gitlab-Token -> 401, never delivered",
    spec: `${WEBHOOKS}; GitLab "Webhooks" (secret token)`,
    async run(ctx) {
      const homepage = `https://gitlab.example.com/herald-conformance/${ctx.token}`;
      const body = JSON.stringify(gitlabPush(homepage));
      await expectRejected(ctx, gitlabRequest(body, "Push Hook", "not-the-secret-token"), 401);
      const request = gitlabRequest(body, "Push Hook");
      const { "X-Gitlab-Token": _, ...headers } = request.headers ?? {};
      await expectRejected(ctx, { ...request, headers }, 401);
    },
  },
  {
    name: "herald: webhooks: a GitLab system hook repository_update -> 204, nothing stored",
    spec: `${WEBHOOKS}; ${GITLAB} (maps no system hook event); Herald README "Webhooks" (204 when there is nothing to store)`,
    async run(ctx) {
      const url = `https://gitlab.example.com/herald-conformance/${ctx.token}`;
      // GitLab docs, "System hooks": Repository Update, sent on every push.
      const payload = {
        event_name: "repository_update",
        user_id: 1,
        user_name: "John Smith",
        user_email: "admin@example.com",
        project_id: 1,
        project: {
          name: "Example",
          web_url: url,
          homepage: url,
          path_with_namespace: "herald-conformance/example",
          default_branch: "main",
        },
        changes: [
          {
            before: "8205ea8d81ce0c6b90fbe8280d118cc9fdad6130",
            after: "4045ea7a3df38697b3730a20fb73c8bed8a3e69e",
            ref: "refs/heads/main",
          },
        ],
        refs: ["refs/heads/main"],
      };
      const res = await ctx.send(gitlabRequest(JSON.stringify(payload), "System Hook"));
      expectStatus(res, 204);
      await expectNothingStored(ctx);
    },
  },
];

// ---- SNS (aws-sns.md) -----------------------------------------------------------------------

/** The suite's signer for one sink, its certificate served there (trusted) and elsewhere (not). */
interface SinkSigner {
  readonly signer: SnsSigner;
  readonly trustedUrl: string;
  readonly untrustedUrl: string;
}

const signers = new WeakMap<SinkServer, SinkSigner>();

/**
 * The signer of this sink's runs. Its certificate is served under the adapter's `trustedUrls`
 * prefix and, for the untrusted-URL case, under another path of the same sink.
 */
function sinkSigner(sink: SinkServer): SinkSigner {
  let entry = signers.get(sink);
  if (entry === undefined) {
    const signer = createSnsSigner();
    const name = `herald-conformance-${Buffer.from(crypto.getRandomValues(new Uint8Array(6))).toString("hex")}.pem`;
    const trusted = `${SNS_CERTIFICATE_PATH}${name}`;
    const untrusted = `/untrusted-certificates/${name}`;
    sink.publish(trusted, signer.certificatePem);
    sink.publish(untrusted, signer.certificatePem);
    entry = {
      signer,
      trustedUrl: `${sink.url}${trusted}`,
      untrustedUrl: `${sink.url}${untrusted}`,
    };
    signers.set(sink, entry);
  }
  return entry;
}

/** A subscription ARN as SNS writes it: the topic ARN, `:`, a lower-case UUID. */
const subscriptionArn = (): string => `${SNS_ADAPTER.topic}:${crypto.randomUUID()}`;

function snsNotification(ctx: CaseContext): SnsMessage {
  return {
    Type: "Notification",
    MessageId: ctx.id(),
    TopicArn: SNS_ADAPTER.topic,
    Subject: "Order shipped",
    Message: JSON.stringify({ order: "o-17", status: "shipped" }),
    Timestamp: "2026-01-02T03:04:05.678Z",
    UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${SNS_ADAPTER.topic}:c9135db0-26c4-47ec-8998-413945fb5a96`,
  };
}

/** The POST SNS makes: the message as `text/plain` and the `x-amz-sns-*` headers. */
function snsRequest(message: SnsMessage, subscription?: string): GatewayRequest {
  return {
    method: "POST",
    path: `/webhooks/${SNS_ADAPTER.id}`,
    headers: {
      "Content-Type": "text/plain; charset=UTF-8",
      "User-Agent": "Amazon Simple Notification Service Agent",
      "x-amz-sns-message-type": message.Type ?? "",
      "x-amz-sns-message-id": message.MessageId ?? "",
      "x-amz-sns-topic-arn": message.TopicArn ?? "",
      ...(subscription === undefined ? {} : { "x-amz-sns-subscription-arn": subscription }),
    },
    body: JSON.stringify(message),
  };
}

const snsCases: ConformanceCase[] = [
  {
    name: "webhooks: a signed SNS Notification (SignatureVersion 2) -> accepted, delivered with aws-sns.md's attributes",
    spec: `${WEBHOOKS}; ${SNS} (Notification); ${SNS_SIGNATURES}`,
    async run(ctx) {
      const { signer, trustedUrl } = sinkSigner(ctx.sink);
      const message = signer.sign(snsNotification(ctx), "2", trustedUrl);
      const subscription = subscriptionArn();
      const { binary } = await expectAcceptedAndDelivered(ctx, snsRequest(message, subscription), {
        attributes: {
          specversion: "1.0",
          id: message.MessageId,
          source: subscription,
          type: `com.amazonaws.sns.${message.Type}`,
          subject: message.Subject,
          time: message.Timestamp,
          datacontenttype: JSON_TYPE,
        },
        data: { json: message },
      });
      check(
        binary.event.attributes.authid === SNS_ADAPTER.id,
        `authid is ${JSON.stringify(binary.event.attributes.authid)}, expected the adapter id`,
      );
    },
  },
  {
    name: "webhooks: a signed SNS SubscriptionConfirmation (SignatureVersion 1) -> accepted, source the topic, no subject",
    spec: `${WEBHOOKS}; ${SNS} (Subscription Confirmation); ${SNS_SIGNATURES}`,
    async run(ctx) {
      const { signer, trustedUrl } = sinkSigner(ctx.sink);
      const token = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a7";
      const message = signer.sign(
        {
          Type: "SubscriptionConfirmation",
          MessageId: ctx.id(),
          Token: token,
          TopicArn: SNS_ADAPTER.topic,
          Message: `You have chosen to subscribe to the topic ${SNS_ADAPTER.topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
          SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${SNS_ADAPTER.topic}&Token=${token}`,
          Timestamp: "2026-01-02T03:04:05.678Z",
        },
        "1",
        trustedUrl,
      );
      await expectAcceptedAndDelivered(ctx, snsRequest(message), {
        attributes: {
          specversion: "1.0",
          id: message.MessageId,
          source: message.TopicArn,
          type: `com.amazonaws.sns.${message.Type}`,
          time: message.Timestamp,
          datacontenttype: JSON_TYPE,
        },
        data: { json: message },
      });
    },
  },
  {
    name: "webhooks: an SNS message altered after signing -> 401, never delivered",
    spec: `${WEBHOOKS}; ${SNS_SIGNATURES}`,
    async run(ctx) {
      const { signer, trustedUrl } = sinkSigner(ctx.sink);
      const signed = signer.sign(snsNotification(ctx), "2", trustedUrl);
      const altered = { ...signed, Message: JSON.stringify({ order: "o-17", status: "refunded" }) };
      await expectRejected(ctx, snsRequest(altered, subscriptionArn()), 401);
    },
  },
  {
    name: "webhooks: an unsigned SNS message (raw message delivery) -> 401, never delivered",
    spec: `${WEBHOOKS}; ${SNS_SIGNATURES}`,
    async run(ctx) {
      const request = snsRequest(snsNotification(ctx), subscriptionArn());
      await expectRejected(ctx, request, 401);
      await expectRejected(
        ctx,
        {
          ...request,
          headers: { ...request.headers, "x-amz-sns-rawdelivery": "true" },
          body: "a raw message",
        },
        401,
      );
    },
  },
  {
    name: "webhooks: an SNS message signed for a SigningCertURL the target does not trust -> 401, never delivered",
    spec: `${WEBHOOKS}; ${SNS_SIGNATURES} (check the certificate comes from SNS); Herald README "Amazon SNS" (trustedUrls)`,
    async run(ctx) {
      const { signer, untrustedUrl } = sinkSigner(ctx.sink);
      const message = signer.sign(snsNotification(ctx), "2", untrustedUrl);
      await expectRejected(ctx, snsRequest(message, subscriptionArn()), 401);
    },
  },
];

/**
 * Webhook cases for every adapter kind beside GitHub and the mapping (those are in
 * `webhook-cases.ts`): S3, SNS, GitLab, CouchDB and Kinesis. Each expected attribute is read from
 * the adapter document's row and the payload sent, never from what the target answered. The target
 * must have `conformanceAdapters(sinkUrl)` configured.
 */
export const adapterCases: readonly ConformanceCase[] = [
  ...gitlabCases,
  ...snsCases,
  ...s3Cases,
  ...kinesisCases,
  ...couchdbCases,
];
