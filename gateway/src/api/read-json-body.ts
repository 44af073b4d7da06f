import { formatFieldPath } from "../config/field-path.js";
import { MalformedRequest, UnsupportedMediaType } from "../errors/errors.js";
import { jsonTooDeep, MAX_JSON_DEPTH } from "../event/json-depth.js";
import { findDuplicateMember } from "../event/json-duplicate-member.js";
import { isJsonEssence, parseMediaType } from "../event/media-type.js";
import { jsonSyntaxReason } from "../http/json-syntax-reason.js";
import { refuseRepeatedParameter } from "../http/refuse-repeated-parameter.js";
import { readBody } from "../ingest/read-body.js";

/** Largest admin API request body: a subscription is a few hundred bytes; 64 KiB is plenty. */
export const MAX_ADMIN_BODY_BYTES = 65_536;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The charsets a JSON body may be labelled with: UTF-8 (RFC 8259 8.1: JSON between systems "MUST
 * be encoded using UTF-8") and its subset US-ASCII, as ingest accepts them.
 */
const JSON_CHARSETS: ReadonlySet<string> = new Set(["utf-8", "utf8", "us-ascii"]);

/**
 * Reads an admin API request body as JSON: the media type must be JSON (`application/json` or a
 * `+json` type, else 415) in UTF-8 (a `charset` other than UTF-8 or US-ASCII is 415: the body is
 * never read as something other than what its label says), the body at most `limit` bytes (else
 * 413, never buffered whole), valid UTF-8 (ASCII under `charset=us-ascii`) and valid JSON (else 400), with no member name twice in one object (else 400: `JSON.parse`
 * keeps the last, other readers the first, and the config loader refuses repeats), and no deeper
 * than `MAX_JSON_DEPTH` levels, so validating it cannot overflow the stack.
 *
 * @example
 * const raw = await readJsonBody(c.req.raw); // unknown JSON value
 */
export async function readJsonBody(
  request: Request,
  limit = MAX_ADMIN_BODY_BYTES,
): Promise<unknown> {
  const type = parseMediaType(request.headers.get("content-type"));
  if (type === undefined || !isJsonEssence(type.essence)) {
    throw new UnsupportedMediaType(
      "send the body as JSON with Content-Type: application/json",
      "application/json",
    );
  }
  refuseRepeatedParameter(request.headers.get("content-type") ?? "", "application/json");
  const charset = type.params.get("charset")?.toLowerCase();
  if (charset !== undefined && !JSON_CHARSETS.has(charset)) {
    throw new UnsupportedMediaType(
      `charset ${type.params.get("charset")} is not supported; send JSON as charset=utf-8 (RFC 8259 8.1)`,
      "application/json",
    );
  }
  const bytes = await readBody(request, limit);
  if (charset === "us-ascii") {
    // Read as UTF-8 it would be accepted, but as text the client did not say it sent.
    const at = bytes.findIndex((byte) => byte > 0x7f);
    if (at !== -1) {
      throw new MalformedRequest(
        `the body is labelled charset=us-ascii but byte ${at} is 0x${bytes[at]?.toString(16)}, not ASCII`,
      );
    }
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new MalformedRequest("the body is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? `: ${jsonSyntaxReason(text)}` : "";
    throw new MalformedRequest(`the body is not valid JSON${reason}`);
  }
  if (jsonTooDeep(value)) {
    throw new MalformedRequest(`the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  const repeated = findDuplicateMember(text);
  if (repeated !== undefined) {
    throw new MalformedRequest(
      `the body names "${formatFieldPath(repeated)}" more than once; send each member once (RFC 8259 section 4: with repeated names, readers disagree on which one counts)`,
    );
  }
  return value;
}
