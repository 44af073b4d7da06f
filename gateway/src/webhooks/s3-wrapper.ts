import type { PayloadFields } from "./payload-fields.js";

/**
 * What an S3 forwarder most often posts by mistake, instead of S3's own notification: the event
 * its Lambda function received from an SQS queue (`eventSource: aws:sqs`, the notification in
 * `body`) or an SNS topic (`EventSource: aws:sns`, in `Sns.Message`), an SNS message itself (the
 * body of an SQS message of an S3 -> SNS -> SQS fan-out: `Type: Notification`, in `Message`), or
 * an EventBridge event (`detail-type`, with no `Records`). Such a payload would otherwise be refused with a list of
 * missing S3 fields, which does not tell the user what to change; this names the wrapper instead.
 * Reports it through `fields`, the reader of `value` (a record, or the payload), and says whether
 * it was one.
 *
 * @example
 * if (reportS3Wrapper(f, record)) continue;
 */
export function reportS3Wrapper(
  fields: PayloadFields,
  value: Readonly<Record<string, unknown>>,
): boolean {
  if (value.eventSource === "aws:sqs") {
    fields.problem(
      "eventSource",
      "is aws:sqs: this is an SQS message, not an S3 notification; post the notification in its body",
    );
    return true;
  }
  if (value.EventSource === "aws:sns") {
    fields.problem(
      "EventSource",
      "is aws:sns: this is an SNS message, not an S3 notification; post the notification in its Sns.Message",
    );
    return true;
  }
  // An SNS message as SNS posts it, or as an SQS queue subscribed to the topic holds it in its
  // body (S3 -> SNS -> SQS fan-out): the notification is the string `Message`.
  if (
    value.Type === "Notification" &&
    typeof value.TopicArn === "string" &&
    typeof value.Message === "string" &&
    !Object.hasOwn(value, "Records")
  ) {
    fields.problem(
      "Type",
      "is Notification: this is an SNS message, not an S3 notification; post the notification in its Message (or use an sns adapter)",
    );
    return true;
  }
  if (Object.hasOwn(value, "detail-type") && !Object.hasOwn(value, "Records")) {
    fields.problem(
      "detail-type",
      "is present: this is an EventBridge event, not an S3 notification (aws-s3.md maps S3's Records); use a mapping adapter, or S3 event notifications",
    );
    return true;
  }
  return false;
}
