import type { CloudEvent, EventData } from "../event/cloud-event.js";
import { jsonTooDeep } from "../event/json-depth.js";
import { foreignEvent } from "./foreign-event.js";
import { payloadFields } from "./payload-fields.js";
import { awsRecords } from "./records.js";
import type { WebhookAdapter } from "./webhook-adapter.js";
import { toTimestamp } from "./webhook-time.js";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The `kinesis` adapter (no CloudEvents adapter document): a Kinesis event as Lambda receives it,
 * `{ "Records": [...] }`, relayed by a forwarder, becomes one CloudEvent per record:
 *
 * | attribute                    | value                                                        |
 * | ---------------------------- | ------------------------------------------------------------ |
 * | `id`                         | `eventID` (shard id + sequence number)                       |
 * | `source`                     | `eventSourceARN`                                             |
 * | `type`                       | `com.amazonaws.kinesis.record`                               |
 * | `subject`, `partitionkey`    | `kinesis.partitionKey` (`partitionkey` is the CloudEvents partitioning extension) |
 * | `time`                       | `kinesis.approximateArrivalTimestamp` (seconds), when present |
 * | `data`                       | `kinesis.data` decoded from Base64: `application/json` when the bytes are JSON, else `application/octet-stream` |
 *
 * An `approximateArrivalTimestamp` that is present but no time (a negative number, one past the
 * year 9999, text that is not RFC 3339) refuses the payload (400), as a bad `eventTime` does in
 * S3. Kinesis has no signature a gateway could check: the forwarder authenticates with a
 * publisher JWT.
 *
 * @example
 * const adapter = createKinesisAdapter({ id: "sensors" });
 */
export function createKinesisAdapter(options: { readonly id: string }): WebhookAdapter {
  return {
    id: options.id,
    kind: "kinesis",
    auth: { scheme: "publisher" },
    records: true,
    mediaTypes: ["application/json"],
    normalise(request) {
      const fields = payloadFields("kinesis", request.json());
      const events: CloudEvent[] = [];
      for (const { fields: f } of awsRecords(fields, request.maxRecords)) {
        const id = f.text("eventID");
        const source = f.text("eventSourceARN");
        const partitionKey = f.text("kinesis.partitionKey");
        const arrival = f.get("kinesis.approximateArrivalTimestamp");
        const time = toTimestamp(arrival);
        if (arrival !== undefined && time === undefined) {
          f.problem("kinesis.approximateArrivalTimestamp", "must be seconds since the epoch");
        }
        const encoded = f.get("kinesis.data");
        if (typeof encoded !== "string" || !BASE64.test(encoded)) {
          f.problem("kinesis.data", encoded === undefined ? "is missing" : "must be Base64 text");
          continue;
        }
        const { data, contentType } = recordData(encoded);
        events.push(
          foreignEvent(
            {
              id: id ?? "",
              source: source ?? "",
              type: "com.amazonaws.kinesis.record",
              subject: partitionKey,
              time,
              partitionkey: partitionKey,
              datacontenttype: contentType,
            },
            data,
          ),
        );
      }
      fields.throwIfProblems();
      return { kind: "events", events };
    },
  };
}

function recordData(encoded: string): { data: EventData; contentType: string | undefined } {
  const binary = atob(encoded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  try {
    const text = utf8.decode(bytes);
    const value: unknown = JSON.parse(text);
    if (!jsonTooDeep(value)) return { data: { kind: "json", value, text }, contentType: undefined };
  } catch {
    // Not UTF-8 JSON: the bytes travel as they are.
  }
  return { data: { kind: "binary", value: bytes }, contentType: "application/octet-stream" };
}
