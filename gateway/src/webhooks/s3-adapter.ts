import type { CloudEvent } from "../event/cloud-event.js";
import { foreignEvent } from "./foreign-event.js";
import { jsonElementTexts } from "./json-element-texts.js";
import { isJsonObject, payloadFields } from "./payload-fields.js";
import { awsRecords } from "./records.js";
import { reportS3Wrapper } from "./s3-wrapper.js";
import type { WebhookAdapter } from "./webhook-adapter.js";
import { toTimestamp } from "./webhook-time.js";

/**
 * The `s3` adapter (cloudevents/adapters/aws-s3.md): an S3 event notification, as a forwarder
 * (a Lambda function, an SQS consumer) relays it, `{ "Records": [...] }`, becomes one CloudEvent
 * per record:
 *
 * | attribute | value                                                                     |
 * | --------- | ------------------------------------------------------------------------- |
 * | `id`      | `responseElements.x-amz-request-id` + `.` + `responseElements.x-amz-id-2` |
 * | `source`  | `eventSource` + `.` + `awsRegion` + `.` + `s3.bucket.name`                |
 * | `type`    | `com.amazonaws.s3.` + `eventName`                                         |
 * | `subject` | `s3.object.key`                                                           |
 * | `time`    | `eventTime`                                                               |
 * | `data`    | the record (`application/json`), its text as sent                         |
 *
 * (The document writes the bucket as "s3.buckets.name"; S3's records have `s3.bucket.name`.)
 * S3-compatible stores that send the same records are taken too (MinIO: `eventSource`
 * `minio:s3`, and an empty `awsRegion` when it has no region).
 * S3 sends no signature a gateway could check, so the forwarder authenticates with a publisher
 * JWT. The `s3:TestEvent` S3 sends when notifications are configured is acknowledged (204).
 * An SQS or SNS message that wraps a notification, or an EventBridge event, is refused naming
 * the wrapper (`reportS3Wrapper`), not the S3 fields it lacks.
 *
 * @example
 * const adapter = createS3Adapter({ id: "uploads" });
 */
export function createS3Adapter(options: { readonly id: string }): WebhookAdapter {
  return {
    id: options.id,
    kind: "s3",
    auth: { scheme: "publisher" },
    records: true,
    mediaTypes: ["application/json"],
    normalise(request) {
      const payload = request.json();
      if (isJsonObject(payload) && payload.Event === "s3:TestEvent") {
        return { kind: "acknowledge", reason: "s3:TestEvent" };
      }
      const fields = payloadFields("s3", payload);
      if (isJsonObject(payload) && reportS3Wrapper(fields, payload)) fields.fail();
      const events: CloudEvent[] = [];
      const records = awsRecords(fields, request.maxRecords);
      // Each record's data is its text as sent (see `jsonElementTexts`). A record that is no
      // object refuses the payload, so when it is taken every element is a record, in order.
      const texts = records.length === 0 ? [] : jsonElementTexts(request.text(), "/Records");
      for (const [index, { record, fields: f }] of records.entries()) {
        if (reportS3Wrapper(f, record)) continue;
        const requestId = f.text("responseElements.x-amz-request-id");
        const id2 = f.text("responseElements.x-amz-id-2");
        const eventSource = f.text("eventSource");
        // S3-compatible stores (the document's comment on `eventSource`) may have no region:
        // MinIO without one configured sends `"awsRegion": ""`. Present but empty is kept, as
        // the formula writes it (`minio:s3..bucket`); only a missing region is refused.
        const region = f.get("awsRegion") === "" ? "" : f.text("awsRegion");
        const bucket = f.text("s3.bucket.name");
        const eventName = f.text("eventName");
        const subject = f.optionalText("s3.object.key");
        const eventTime = f.get("eventTime");
        const time = toTimestamp(eventTime);
        if (eventTime !== undefined && time === undefined) {
          f.problem("eventTime", "must be an RFC 3339 timestamp");
        }
        events.push(
          foreignEvent(
            {
              id: `${requestId}.${id2}`,
              source: `${eventSource}.${region}.${bucket}`,
              type: `com.amazonaws.s3.${eventName}`,
              subject,
              time,
            },
            texts?.length === records.length
              ? { kind: "json", value: record, text: texts[index]! }
              : { kind: "json", value: record },
          ),
        );
      }
      fields.throwIfProblems();
      return { kind: "events", events };
    },
  };
}
