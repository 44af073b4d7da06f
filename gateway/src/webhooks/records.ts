import { BatchTooLarge } from "../errors/errors.js";
import { isJsonObject, type PayloadFields } from "./payload-fields.js";

/**
 * Refuses a list of more records than one payload may hold (413 `batch_too_large`), before any
 * is normalised: each record becomes one event, and a 1 MiB body of `{}` records is 340,000 of
 * them, which took seconds and hundreds of megabytes to normalise only to be refused.
 *
 * @example
 * checkRecordCount(records.length, request.maxRecords);
 */
export function checkRecordCount(count: number, maxRecords: number): void {
  if (count > maxRecords) throw new BatchTooLarge(count, maxRecords);
}

/**
 * The `Records` list of an AWS event (S3 notifications, Kinesis via Lambda), each record with the
 * reader to report its problems under `Records[i].`; a payload without the list is reported, one
 * with more than `maxRecords` refused (`checkRecordCount`).
 *
 * @example
 * for (const { record, fields: f } of awsRecords(fields, request.maxRecords)) f.text("eventID");
 */
export function awsRecords(
  fields: PayloadFields,
  maxRecords: number,
): { readonly record: Readonly<Record<string, unknown>>; readonly fields: PayloadFields }[] {
  const records = fields.get("Records");
  if (!Array.isArray(records)) {
    fields.problem("Records", records === undefined ? "is missing" : "must be a list of records");
    return [];
  }
  checkRecordCount(records.length, maxRecords);
  const out: { record: Readonly<Record<string, unknown>>; fields: PayloadFields }[] = [];
  records.forEach((record: unknown, index) => {
    if (!isJsonObject(record)) fields.problem(`Records[${index}]`, "must be an object");
    else out.push({ record, fields: fields.at(record, `Records[${index}].`) });
  });
  return out;
}
