import { isJsonObject, type PayloadFields } from "./payload-fields.js";

/**
 * The `Records` list of an AWS event (S3 notifications, Kinesis via Lambda), each record with the
 * reader to report its problems under `Records[i].`; a payload without the list is reported.
 *
 * @example
 * for (const { record, fields: f } of awsRecords(fields)) f.text("eventID");
 */
export function awsRecords(
  fields: PayloadFields,
): { readonly record: Readonly<Record<string, unknown>>; readonly fields: PayloadFields }[] {
  const records = fields.get("Records");
  if (!Array.isArray(records)) {
    fields.problem("Records", records === undefined ? "is missing" : "must be a list of records");
    return [];
  }
  const out: { record: Readonly<Record<string, unknown>>; fields: PayloadFields }[] = [];
  records.forEach((record: unknown, index) => {
    if (!isJsonObject(record)) fields.problem(`Records[${index}]`, "must be an object");
    else out.push({ record, fields: fields.at(record, `Records[${index}].`) });
  });
  return out;
}
