import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AUDIENCE,
  claimsAt,
  ISSUER,
  jwksOf,
  makeKey,
  signToken,
  type TestKey,
} from "../../test/support/test-issuer.js";
import { startWebhookGateway, type WebhookGateway } from "../../test/support/webhook-gateway.js";
import { MAX_PAYLOAD_PROBLEMS } from "./payload-fields.js";

let kit: WebhookGateway;
let key: TestKey;
let token: string;
let narrowToken: string;
const nowSec = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  key = await makeKey("ES256", "k1");
  kit = await startWebhookGateway({
    limits: { maxBatchEvents: 3 },
    auth: {
      issuers: [{ issuer: ISSUER, audience: AUDIENCE, jwks: jwksOf(key), algorithms: ["ES256"] }],
      publishers: [
        { claims: { sub: "s3-forwarder" }, types: ["com.amazonaws.s3.ObjectCreated:*"] },
        { claims: { sub: "relay" } },
      ],
    },
    adapters: [
      { id: "uploads", kind: "s3" },
      { id: "sensors", kind: "kinesis" },
    ],
  });
  token = await signToken(key, claimsAt(nowSec(), { sub: "relay" }));
  narrowToken = await signToken(key, claimsAt(nowSec(), { sub: "s3-forwarder" }));
});
afterAll(() => kit.stop());

/** An S3 event record, shaped as in the AWS docs ("Event message structure", S3 user guide). */
function s3Record(requestId: string, key: string, eventName = "ObjectCreated:Put") {
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    awsRegion: "us-west-2",
    eventTime: "1970-01-01T00:00:00.000Z",
    eventName,
    userIdentity: { principalId: "AIDAJDPLRKLG7UEXAMPLE" },
    requestParameters: { sourceIPAddress: "127.0.0.1" },
    responseElements: {
      "x-amz-request-id": requestId,
      "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
    },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: "testConfigRule",
      bucket: {
        name: "mybucket",
        ownerIdentity: { principalId: "A3NL1KOZZKExample" },
        arn: "arn:aws:s3:::mybucket",
      },
      object: {
        key,
        size: 1024,
        eTag: "d41d8cd98f00b204e9800998ecf8427e",
        versionId: "096fKKXTRTtl3on89fVO.nfljtsv6qko",
        sequencer: "0055AED6DCD90281E5",
      },
    },
  };
}

/** A Kinesis record as Lambda receives it (AWS Lambda docs, "Using Lambda with Kinesis"). */
function kinesisRecord(sequence: string, data: string, partitionKey = "1") {
  return {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey,
      sequenceNumber: sequence,
      data,
      approximateArrivalTimestamp: 1545084650.987,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `shardId-000000000006:${sequence}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: "arn:aws:iam::123456789012:role/lambda-role",
    awsRegion: "us-east-2",
    eventSourceARN: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
  };
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe("s3", () => {
  it("turns each record into a CloudEvent per cloudevents/adapters/aws-s3.md", async () => {
    const records = [
      s3Record("C3D13FE58DE4C810", "HappyFace.jpg"),
      s3Record("D4E24", "b/Sad+Face.png"),
    ];
    const res = await kit.post("uploads", { Records: records }, bearer(token));
    expect(res.status).toBe(202);
    const delivered = (await kit.delivered()).filter(
      (e) => e.source === "aws:s3.us-west-2.mybucket",
    );
    expect(delivered).toHaveLength(2);
    expect(delivered[0]).toMatchObject({
      specversion: "1.0",
      id: "C3D13FE58DE4C810.FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
      source: "aws:s3.us-west-2.mybucket",
      type: "com.amazonaws.s3.ObjectCreated:Put",
      subject: "HappyFace.jpg",
      time: "1970-01-01T00:00:00.000Z",
      datacontenttype: "application/json",
      authtype: "service_account",
      authid: "relay",
      data: records[0],
    });
    expect(delivered[1]).toMatchObject({ subject: "b/Sad+Face.png", data: records[1] });
    expect(typeof delivered[0]!.recordedtime).toBe("string");
  });

  it("delivers each record's text as S3 wrote it, not a rewrite of the parsed record", async () => {
    // data was JSON.stringify of the parsed record: 1.10 became 1.1, a big integer was rounded.
    const record = JSON.stringify(s3Record("TEXT1", "text.jpg")).replace(
      '"eventVersion":"2.1"',
      '"eventVersion":"2.1", "glacierRatio": 1.10, "big": 12345678901234567891',
    );
    const body = `{"Records": [ ${record} ]}`;
    const res = await kit.post("uploads", body, {
      ...bearer(token),
      "content-type": "application/json",
    });
    expect(res.status).toBe(202);
    await kit.delivered();
    const raw = kit.sink.received.map((r) => r.body.toString("utf8"));
    expect(raw.find((text) => text.includes('"subject":"text.jpg"'))).toContain(`"data":${record}`);
  });

  it("takes an S3-compatible store's record (MinIO: minio:s3, an empty awsRegion) by the same formula", async () => {
    const record = {
      ...s3Record("17F03ACD6F38F575", "file-265.jpg", "s3:ObjectCreated:Put"),
      eventVersion: "2.0",
      eventSource: "minio:s3",
      awsRegion: "",
    };
    // MinIO's webhook body: its own EventName and Key beside the S3 Records.
    const body = {
      EventName: "s3:ObjectCreated:Put",
      Key: "mybucket/file-265.jpg",
      Records: [record],
    };
    const res = await kit.post("uploads", body, bearer(token));
    expect(res.status).toBe(202);
    expect((await kit.delivered()).find((e) => e.subject === "file-265.jpg")).toMatchObject({
      id: "17F03ACD6F38F575.FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD",
      source: "minio:s3..mybucket",
      type: "com.amazonaws.s3.s3:ObjectCreated:Put",
    });
    const { awsRegion: _, ...noRegion } = record;
    const missing = await kit.post("uploads", { Records: [noRegion] }, bearer(token));
    expect(missing.status).toBe(400);
    expect((await missing.json()).errors).toEqual([
      { field: "Records[0].awsRegion", message: "is missing" },
    ]);
  });

  it("is all or nothing: one record without its bucket refuses the payload, naming the field", async () => {
    const broken = s3Record("ATOMIC-2", "two.jpg");
    const { name: _, ...bucket } = broken.s3.bucket;
    const res = await kit.post(
      "uploads",
      { Records: [s3Record("ATOMIC-1", "one.jpg"), { ...broken, s3: { ...broken.s3, bucket } }] },
      bearer(token),
    );
    expect(res.status).toBe(400);
    const problem = await res.json();
    expect(problem).toMatchObject({ code: "invalid_payload", status: 400 });
    expect(problem.errors).toEqual([{ field: "Records[1].s3.bucket.name", message: "is missing" }]);
    const ids = (await kit.delivered()).map((e) => String(e.id));
    expect(ids.some((id) => id.startsWith("ATOMIC-"))).toBe(false);
  });

  it("a redelivered notification is acknowledged and not delivered twice", async () => {
    const body = { Records: [s3Record("REDELIVERED", "again.jpg")] };
    expect((await kit.post("uploads", body, bearer(token))).status).toBe(202);
    expect((await kit.post("uploads", body, bearer(token))).status).toBe(202);
    const ids = (await kit.delivered()).filter((e) => String(e.id).startsWith("REDELIVERED."));
    expect(ids).toHaveLength(1);
  });

  it("applies the publisher policy to the normalised events (403 for a type outside the rule)", async () => {
    const allowed = await kit.post(
      "uploads",
      { Records: [s3Record("POLICY-1", "ok.jpg")] },
      bearer(narrowToken),
    );
    expect(allowed.status).toBe(202);
    const removed = await kit.post(
      "uploads",
      { Records: [s3Record("POLICY-2", "gone.jpg", "ObjectRemoved:Delete")] },
      bearer(narrowToken),
    );
    expect(removed.status).toBe(403);
    expect((await removed.json()).code).toBe("forbidden");
  });

  it("needs a publisher token: 401 without one, before the body is read", async () => {
    const res = await kit.post("uploads", { Records: [s3Record("NO-TOKEN", "x.jpg")] });
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
  });

  it("acknowledges S3's s3:TestEvent with 204", async () => {
    const test = {
      Service: "Amazon S3",
      Event: "s3:TestEvent",
      Time: "2024-06-01T12:00:00.000Z",
      Bucket: "mybucket",
      RequestId: "5582815E1AEA5ADF",
      HostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    };
    expect((await kit.post("uploads", test, bearer(token))).status).toBe(204);
  });

  it("names the wrapper of a notification relayed as its SQS or SNS message, as an SNS message, or an EventBridge event", async () => {
    const notification = JSON.stringify({ Records: [s3Record("WRAPPED", "w.jpg")] });
    // What a Lambda function receives from an SQS queue or an SNS topic, posted as it is.
    const sqs = {
      messageId: "059f36b4-87a3-44ab-83d2-661975830a7d",
      receiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a",
      body: notification,
      attributes: { ApproximateReceiveCount: "1" },
      messageAttributes: {},
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-2:123456789012:my-queue",
      awsRegion: "us-east-2",
    };
    const sns = {
      EventSource: "aws:sns",
      EventVersion: "1.0",
      EventSubscriptionArn: "arn:aws:sns:us-east-2:123456789012:s3-events:21be56ed",
      Sns: { Type: "Notification", MessageId: "95df01b4", Message: notification },
    };
    const eventBridge = {
      version: "0",
      id: "17793124-05d4-b198-2fde-7ededc63b103",
      "detail-type": "Object Created",
      source: "aws.s3",
      account: "123456789012",
      time: "2021-11-12T00:00:00Z",
      region: "ca-central-1",
      resources: ["arn:aws:s3:::mybucket"],
      detail: { bucket: { name: "mybucket" }, object: { key: "w.jpg" }, reason: "PutObject" },
    };
    // The body of an SQS message of a queue subscribed to an SNS topic (S3 -> SNS -> SQS): the
    // SNS message, posted as it is by an SQS consumer. Was "Records is missing".
    const snsMessage = {
      Type: "Notification",
      MessageId: "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
      TopicArn: "arn:aws:sns:us-east-2:123456789012:s3-events",
      Subject: "Amazon S3 Notification",
      Message: notification,
      Timestamp: "2021-11-12T00:00:00.000Z",
      SignatureVersion: "1",
      Signature: "EXAMPLE",
      SigningCertURL: "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-0000.pem",
      UnsubscribeURL: "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe",
    };
    const cases: [object, string, string][] = [
      [{ Records: [sqs] }, "Records[0].eventSource", "is aws:sqs: this is an SQS message"],
      [snsMessage, "Type", "is Notification: this is an SNS message"],
      [{ Records: [sns] }, "Records[0].EventSource", "is aws:sns: this is an SNS message"],
      [eventBridge, "detail-type", "is present: this is an EventBridge event"],
    ];
    for (const [body, field, message] of cases) {
      const res = await kit.post("uploads", body, bearer(token));
      expect(res.status, field).toBe(400);
      const problem = await res.json();
      expect(problem.code).toBe("invalid_payload");
      expect(problem.errors).toHaveLength(1);
      expect(problem.errors[0].field).toBe(field);
      expect(problem.errors[0].message).toContain(message);
    }
  });

  it("refuses more records than limits.maxBatchEvents (413) and a payload without Records (400)", async () => {
    const many = ["A", "B", "C", "D"].map((r) => s3Record(`MANY-${r}`, "k"));
    const res = await kit.post("uploads", { Records: many }, bearer(token));
    expect(res.status).toBe(413);
    expect((await res.json()).code).toBe("batch_too_large");
    const none = await kit.post("uploads", { records: [] }, bearer(token));
    expect(none.status).toBe(400);
    expect((await none.json()).errors).toEqual([{ field: "Records", message: "is missing" }]);
  });

  it("refuses more records than limits.maxBatchEvents before normalising any of them", async () => {
    // Four records, each missing every field: 413 for the count, not a 400 listing 24 problems.
    const body = `{"Records":[{},{},{},{}]}`;
    const res = await kit.post("uploads", body, {
      "content-type": "application/json",
      ...bearer(token),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: "batch_too_large", count: 4, limit: 3 });
  });

  it("names the first 100 problems of a payload with very many, and counts the rest", async () => {
    // 20,000 empty records, 6 missing fields each: every one listed answered some 8 MB (and
    // 140 MB for the 1 MiB body the limits allow).
    const big = await startWebhookGateway({
      limits: { maxBatchEvents: 20_000 },
      adapters: [{ id: "uploads", kind: "s3" }],
    });
    try {
      const body = `{"Records":[${Array(20_000).fill("{}").join(",")}]}`;
      const res = await big.post("uploads", body, { "content-type": "application/json" });
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text.length).toBeLessThan(20_000);
      const problem = JSON.parse(text);
      expect(problem.errors).toHaveLength(MAX_PAYLOAD_PROBLEMS);
      expect(problem.errors[0]).toEqual({
        field: "Records[0].responseElements.x-amz-request-id",
        message: "is missing",
      });
      expect(problem.detail).toMatch(/ \(and 119995 more\)$/);
    } finally {
      await big.stop();
    }
  });
});

describe("s3 and kinesis: an empty Records list", () => {
  it("is nothing to store: 204, as for s3:TestEvent, still after the publisher token", async () => {
    for (const adapter of ["uploads", "sensors"]) {
      const res = await kit.post(adapter, { Records: [] }, bearer(token));
      expect(res.status, adapter).toBe(204);
      expect(await res.text()).toBe("");
      expect((await kit.post(adapter, { Records: [] })).status).toBe(401);
    }
  });

  it("is 403 for a token no publisher rule matches, as an empty batch is on POST /events", async () => {
    const stranger = await signToken(key, claimsAt(nowSec(), { sub: "stranger" }));
    const test = { Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "mybucket" };
    for (const [adapter, body] of [
      ["uploads", { Records: [] }],
      ["sensors", { Records: [] }],
      ["uploads", test],
    ] as const) {
      const res = await kit.post(adapter, body, bearer(stranger));
      expect(res.status, adapter).toBe(403);
      expect((await res.json()).detail).toBe("no publisher rule matches this token");
    }
  });
});

describe("kinesis", () => {
  it("one event per record: JSON data as application/json, other bytes as they are", async () => {
    const reading = { sensor: "tractor-7", part: "hydraulic-filter", pressure: 212.5 };
    const json = Buffer.from(JSON.stringify(reading)).toString("base64");
    const bytes = Buffer.from([0x00, 0xff, 0x10, 0x80]).toString("base64");
    const records = [
      kinesisRecord("49590338271490256608559692538361571095921575989136588898", json, "tractor-7"),
      kinesisRecord("49590338271490256608559692540925702759324208523137515618", bytes),
    ];
    const res = await kit.post("sensors", { Records: records }, bearer(token));
    expect(res.status).toBe(202);
    const delivered = (await kit.delivered()).filter(
      (e) => e.type === "com.amazonaws.kinesis.record",
    );
    expect(delivered).toHaveLength(2);
    expect(delivered[0]).toMatchObject({
      id: "shardId-000000000006:49590338271490256608559692538361571095921575989136588898",
      source: "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream",
      type: "com.amazonaws.kinesis.record",
      subject: "tractor-7",
      partitionkey: "tractor-7",
      time: "2018-12-17T22:10:50.987Z",
      datacontenttype: "application/json",
      data: reading,
    });
    expect(delivered[1]).toMatchObject({
      subject: "1",
      partitionkey: "1",
      datacontenttype: "application/octet-stream",
      data_base64: bytes,
    });
  });

  it("is all or nothing: data that is not Base64 refuses every record of the payload", async () => {
    const good = kinesisRecord("111", Buffer.from("{}").toString("base64"));
    const bad = kinesisRecord("222", "not base64!");
    const res = await kit.post("sensors", { Records: [good, bad] }, bearer(token));
    expect(res.status).toBe(400);
    expect((await res.json()).errors).toEqual([
      { field: "Records[1].kinesis.data", message: "must be Base64 text" },
    ]);
    const ids = (await kit.delivered()).map((e) => e.id);
    expect(ids).not.toContain("shardId-000000000006:111");
  });

  it("refuses an approximateArrivalTimestamp that is no time (400 naming it), as S3 does a bad eventTime", async () => {
    const data = Buffer.from("{}").toString("base64");
    for (const [i, stamp] of [
      1e20,
      -1,
      "NaN",
      "yesterday",
      "1545084650.987",
      true,
      // Rounds to the first millisecond of year 10000, which RFC 3339 cannot write.
      253_402_300_799.9999,
    ].entries()) {
      const record = kinesisRecord(`bad-time-${i}`, data);
      record.kinesis.approximateArrivalTimestamp = stamp as number;
      const res = await kit.post("sensors", { Records: [record] }, bearer(token));
      expect(res.status, String(stamp)).toBe(400);
      const problem = await res.json();
      expect(problem.code).toBe("invalid_payload");
      expect(problem.errors).toEqual([
        {
          field: "Records[0].kinesis.approximateArrivalTimestamp",
          message: "must be seconds since the epoch",
        },
      ]);
    }
    const ids = (await kit.delivered()).map((e) => String(e.id));
    expect(ids.filter((id) => id.includes("bad-time"))).toEqual([]);
    // Without the field the record has no time.
    const { approximateArrivalTimestamp: _, ...bare } = kinesisRecord("no-time", data).kinesis;
    const res = await kit.post(
      "sensors",
      { Records: [{ ...kinesisRecord("no-time", data), kinesis: bare }] },
      bearer(token),
    );
    expect(res.status).toBe(202);
    const event = (await kit.delivered()).find((e) => e.id === "shardId-000000000006:no-time");
    expect(event).toBeDefined();
    expect(event?.time).toBeUndefined();
  });

  it("refuses a content type that is not JSON (415) and an unknown adapter (404)", async () => {
    const res = await kit.post("sensors", "Records=1", {
      ...bearer(token),
      "content-type": "application/x-www-form-urlencoded",
    });
    expect(res.status).toBe(415);
    const missing = await kit.post("nope", { Records: [] }, bearer(token));
    expect(missing.status).toBe(404);
    expect((await missing.json()).code).toBe("not_found");
  });
});
