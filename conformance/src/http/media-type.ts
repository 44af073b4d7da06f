/**
 * The `type/subtype` of a `Content-Type` value, lower-cased: media types compare
 * case-insensitively (RFC 9110 8.3.1). Empty string when there is none.
 *
 * @example
 * mediaTypeEssence("Application/CloudEvents+JSON; charset=UTF-8") // => "application/cloudevents+json"
 */
export function mediaTypeEssence(value: string | null | undefined): string {
  if (!value) return "";
  const semi = value.indexOf(";");
  return (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/**
 * True when a media type declares JSON content: subtype `json` or a `+json` suffix (JSON event
 * format 1.0.2, section 3.1.1).
 *
 * @example
 * isJsonMediaType("application/json; charset=utf-8") // => true
 * isJsonMediaType("text/plain")                       // => false
 */
export function isJsonMediaType(value: string | null | undefined): boolean {
  const essence = mediaTypeEssence(value);
  return essence.endsWith("/json") || essence.endsWith("+json");
}

/** The JSON event format's media type (JSON event format 1.0.2, section 3). */
export const CLOUDEVENTS_JSON = "application/cloudevents+json";
/** The JSON batch format's media type (JSON event format 1.0.2, section 4.2). */
export const CLOUDEVENTS_BATCH_JSON = "application/cloudevents-batch+json";
/** RFC 9457 problem details. */
export const PROBLEM_JSON = "application/problem+json";
