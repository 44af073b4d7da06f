import type { AttributeValue } from "../event/cloud-event.js";
import type { CesqlValue } from "./cesql-value.js";
import { INT32_MAX, INT32_MIN } from "./int32.js";

/**
 * The CESQL value of a context attribute (3.2). Herald keeps attributes with the JSON type they
 * arrived with: a JSON integer in the 32-bit range is an _Integer_, a JSON boolean a _Boolean_,
 * and everything else is a _String_ ("If the value ... is not one of the primitive CESQL types, it
 * MUST be represented by the String type"): strings as they are, including URI, URI-reference
 * and Timestamp values (3.1), and any other number in its JavaScript decimal form. Binary-mode
 * extensions arrive as header strings, so `myint = 10` there compares a String; CESQL casts it
 * (3.7), which gives the same answer.
 *
 * @example
 * attributeValue(10); // 10
 * attributeValue("2018-04-26T14:48:09+02:00"); // "2018-04-26T14:48:09+02:00"
 * attributeValue(1.5); // "1.5"
 */
export function attributeValue(value: AttributeValue): CesqlValue {
  if (typeof value !== "number") return value;
  return Number.isInteger(value) && value >= INT32_MIN && value <= INT32_MAX
    ? value + 0
    : String(value);
}
