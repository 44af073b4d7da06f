import { checkInteger } from "../event/attribute-rules.js";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { jsonElementTexts } from "./json-element-texts.js";
import { evaluateJsonPointer } from "./json-pointer.js";
import { payloadFields } from "./payload-fields.js";
import { checkRecordCount } from "./records.js";
import type { WebhookAdapter } from "./webhook-adapter.js";
import { toTimestamp } from "./webhook-time.js";

/**
 * Where one attribute of a mapped event comes from: a constant, or the payload's value at a JSON
 * Pointer (RFC 6901), with an optional `prefix` put before it and a `default` for when the
 * pointer finds nothing.
 */
export type MappedValue =
  | { readonly constant: string }
  | { readonly pointer: string; readonly prefix?: string; readonly default?: string };

export interface MappingAdapterOptions {
  readonly id: string;
  /** Attribute name -> where its value comes from. `source` and `type` are required. */
  readonly attributes: Readonly<Record<string, MappedValue>>;
  /** A JSON Pointer to a list in the payload: one event per element (pointers then start there). */
  readonly records?: string;
}

/** Attributes whose mapping must find a value; the others are left out when it finds none. */
const REQUIRED = new Set(["id", "source", "type"]);
/** Core attributes are strings; extensions keep JSON booleans and 32-bit integers. */
const CORE = new Set(["id", "source", "type", "subject", "time", "dataschema"]);

/**
 * The `mapping` adapter: any JSON webhook becomes CloudEvents by configured rules. Each attribute
 * is a constant or a JSON Pointer into the payload (or into each element of `records`);
 * `source` and `type` must be configured; `id` defaults to the SHA-256 (hex) of the body (plus
 * `-` and the element's index with `records`), so the same body posted again is deduplicated;
 * `time` defaults to the receipt time. `data` is the payload (or the element), as JSON: its
 * text as sent (`jsonElementTexts` for an element).
 * Authenticated with a publisher JWT (in `Authorization`, or `?access_token=` in the webhook URL
 * for senders that cannot set headers).
 *
 * @example
 * createMappingAdapter({ id: "shop", attributes: {
 *   source: { constant: "/shop" },
 *   type: { pointer: "/event", prefix: "com.example.shop." },
 *   subject: { pointer: "/order/id" },
 * } });
 */
export function createMappingAdapter(options: MappingAdapterOptions): WebhookAdapter {
  const { attributes, records } = options;
  if (attributes.source === undefined || attributes.type === undefined) {
    throw new TypeError("createMappingAdapter: attributes.source and attributes.type are required");
  }
  return {
    id: options.id,
    kind: "mapping",
    auth: { scheme: "publisher" },
    records: records !== undefined,
    // Any JSON webhook: `application/json`, and JSON under a `+json` type of its own.
    mediaTypes: ["application/json"],
    readsAnyJson: true,
    async normalise(request) {
      const payload = request.json();
      const fields = payloadFields("mapping", payload);
      let items: readonly unknown[] = [payload];
      let elementTexts: readonly string[] | undefined;
      if (records !== undefined) {
        const list = evaluateJsonPointer(payload, records);
        if (!Array.isArray(list)) {
          fields.problem(records, list === undefined ? "is missing" : "must be a list");
          return fields.fail();
        }
        checkRecordCount(list.length, request.maxRecords);
        items = list;
        // Each element's data is its text as sent, as a whole body's is (JSON.stringify of the
        // parsed element rounded integers past 2^53).
        const texts = jsonElementTexts(request.text(), records);
        if (texts?.length === list.length) elementTexts = texts;
      }
      const digest = new Uint8Array(
        await crypto.subtle.digest("SHA-256", request.body as Uint8Array<ArrayBuffer>),
      );
      const bodyHash = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
      const events: CloudEvent[] = items.map((item, index) => {
        const at = records === undefined ? "" : `${records}/${index}`;
        const out: Record<string, AttributeValue> = {
          specversion: "1.0",
          id: records === undefined ? bodyHash : `${bodyHash}-${index}`,
          time: new Date(request.receivedAt).toISOString(),
        };
        for (const [name, rule] of Object.entries(attributes)) {
          const value = mappedValue(name, rule, item);
          if (value === undefined) {
            if (REQUIRED.has(name))
              fields.problem(
                `${at}${"pointer" in rule ? rule.pointer : ""}`,
                `is missing (the ${name} attribute)`,
              );
            else if (name !== "time") delete out[name];
          } else if (value === null) {
            fields.problem(
              `${at}${"pointer" in rule ? rule.pointer : ""}`,
              `must be a string, a number or a boolean (the ${name} attribute)`,
            );
          } else {
            out[name] = value;
          }
        }
        out.datacontenttype = "application/json";
        const text = records === undefined ? request.text() : elementTexts?.[index];
        return {
          attributes: out,
          data:
            text === undefined
              ? { kind: "json", value: item }
              : { kind: "json", value: item, text },
        };
      });
      fields.throwIfProblems();
      return { kind: "events", events };
    },
  };
}

/** The attribute value, `undefined` when the pointer finds nothing, `null` for a wrong type. */
function mappedValue(
  name: string,
  rule: MappedValue,
  item: unknown,
): AttributeValue | null | undefined {
  if ("constant" in rule) return rule.constant;
  const found = evaluateJsonPointer(item, rule.pointer);
  if (found === undefined || found === null || found === "") {
    return rule.default;
  }
  if (name === "time") {
    const time = toTimestamp(found);
    if (time !== undefined) return time;
  }
  const prefix = rule.prefix ?? "";
  if (typeof found === "string") return prefix + found;
  if (typeof found === "number" && Number.isFinite(found)) {
    const keepNumber = !CORE.has(name) && prefix === "" && checkInteger(found) === undefined;
    return keepNumber ? found : prefix + String(found);
  }
  if (typeof found === "boolean")
    return !CORE.has(name) && prefix === "" ? found : prefix + String(found);
  return null;
}
