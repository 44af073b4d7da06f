import type { IncomingHttpHeaders } from "node:http";
import { isDeepStrictEqual } from "node:util";
import { GATEWAY_ADDED_ATTRIBUTES } from "../../../conformance/src/events/compare.js";
import { type Attr, dataBytes, type EventModel, type SentEvent } from "./events.js";

/** One request a sink received. */
export interface Delivery {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A webhook the gateway accepted, and whether its request was unedited. */
export interface AcceptedMarker {
  readonly marker: string;
  readonly strict: boolean;
}

const keyOf = (attrs: Record<string, unknown>) =>
  `${String(attrs.source)}\u0000${String(attrs.id)}`;

function decodeHeader(value: string): string {
  return decodeURIComponent(value);
}

/** The attributes of a binary-mode delivery (ce-* headers, percent-decoded). */
function binaryAttrs(d: Delivery): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(d.headers)) {
    if (name.startsWith("ce-") && typeof value === "string")
      out[name.slice(3)] = decodeHeader(value);
  }
  const ct = d.headers["content-type"];
  if (typeof ct === "string") out.datacontenttype = ct;
  return out;
}

function dataMatches(
  model: EventModel,
  bytes: Buffer | undefined,
  structured: Record<string, unknown> | undefined,
): string | undefined {
  const data = model.data;
  let got: Buffer | undefined = bytes;
  if (structured !== undefined) {
    if ("data_base64" in structured) got = Buffer.from(String(structured.data_base64), "base64");
    else if ("data" in structured) {
      if (data?.kind === "json") {
        return isDeepStrictEqual(structured.data, JSON.parse(data.text))
          ? undefined
          : `data ${JSON.stringify(structured.data)} is not ${data.text}`;
      }
      if (data?.kind === "text")
        return structured.data === data.text
          ? undefined
          : `data ${JSON.stringify(structured.data)} is not ${JSON.stringify(data.text)}`;
      return `data ${JSON.stringify(structured.data).slice(0, 100)} where none or bytes were sent`;
    } else got = undefined;
  }
  if (data === undefined)
    return got === undefined || got.length === 0
      ? undefined
      : `data ${got.length} bytes where none was sent`;
  // Binary mode cannot tell zero bytes of data from none (an empty body).
  if (got === undefined && dataBytes(data).length === 0) return undefined;
  if (got === undefined) return "no data";
  if (data.kind === "json") {
    try {
      return isDeepStrictEqual(JSON.parse(got.toString("utf8")), JSON.parse(data.text))
        ? undefined
        : `data ${got.toString("utf8")} is not ${data.text}`;
    } catch {
      return `data ${JSON.stringify(got.toString("latin1"))} is not JSON`;
    }
  }
  return Buffer.from(dataBytes(data)).equals(got)
    ? undefined
    : `data bytes ${got.toString("hex")} are not ${Buffer.from(dataBytes(data)).toString("hex")}`;
}

function attrsMatch(model: EventModel, got: Record<string, unknown>, asText: boolean): string[] {
  const out: string[] = [];
  const want: Record<string, Attr> = { ...model.attrs };
  for (const [name, value] of Object.entries(want)) {
    const expected = asText ? String(value) : value;
    if (
      name === "datacontenttype" &&
      got[name] === undefined &&
      model.data?.kind === "json" &&
      !asText
    )
      continue;
    if (!isDeepStrictEqual(got[name], expected))
      out.push(`${name}: ${JSON.stringify(got[name])} is not ${JSON.stringify(expected)}`);
  }
  for (const name of Object.keys(got)) {
    if (
      name in want ||
      GATEWAY_ADDED_ATTRIBUTES.includes(name) ||
      name === "data" ||
      name === "data_base64"
    )
      continue;
    if (name === "datacontenttype") continue;
    out.push(`extra attribute ${name}: ${JSON.stringify(got[name])}`);
  }
  return out;
}

/**
 * Waits until every accepted event reached both sinks (`/{name}/s` structured, `/{name}/b`
 * binary) and every accepted webhook's marker the structured one; then checks each arrived
 * exactly once, as sent (strict events: every attribute and the data; the provenance the
 * gateway's). Returns what is wrong, and `warnings` for edited requests whose events could not
 * be found (their id or source may have been the edit).
 */
export async function checkDeliveries(
  accepted: readonly SentEvent[],
  markers: readonly AcceptedMarker[],
  deliveries: () => readonly Delivery[],
  name: string,
  waitUntil: (done: () => boolean, o: { timeoutMs: number; what: string }) => Promise<void>,
): Promise<{ problems: string[]; warnings: string[] }> {
  const strictKeys = new Map<string, SentEvent>();
  // A resent event may have been accepted under several tokens; the one stored is any of them.
  const authids = new Map<string, Set<string | undefined>>();
  const looseKeys = new Map<string, string>();
  for (const e of accepted) {
    const key = keyOf(e.model.attrs);
    if (e.strict) {
      if (!strictKeys.has(key)) strictKeys.set(key, e);
      authids.set(key, (authids.get(key) ?? new Set()).add(e.authid));
    } else looseKeys.set(key, e.request ?? "");
  }
  const index = () => {
    const s = new Map<string, Record<string, unknown>[]>();
    const b = new Map<string, { attrs: Record<string, string>; d: Delivery }[]>();
    for (const d of deliveries()) {
      if (d.path === `/${name}/s`) {
        const event = JSON.parse(d.body.toString("utf8")) as Record<string, unknown>;
        s.set(keyOf(event), [...(s.get(keyOf(event)) ?? []), event]);
      } else if (d.path === `/${name}/b`) {
        const attrs = binaryAttrs(d);
        b.set(keyOf(attrs), [...(b.get(keyOf(attrs)) ?? []), { attrs, d }]);
      }
    }
    return { s, b };
  };
  const strictMarkers = markers.filter((m) => m.strict).map((m) => m.marker);
  const arrived = () => {
    const { s, b } = index();
    const text = deliveries()
      .filter((d) => d.path === `/${name}/s`)
      .map((d) => d.body.toString("utf8"))
      .join("\n");
    return (
      [...strictKeys.keys()].every((k) => s.has(k) && b.has(k)) &&
      strictMarkers.every((m) => text.includes(m))
    );
  };
  const problems: string[] = [];
  const warnings: string[] = [];
  const waitStarted = performance.now();
  try {
    await waitUntil(arrived, {
      timeoutMs: Number(process.env.HERALD_FUZZ_DELIVERY_MS ?? 30_000),
      what: "every accepted event at the sinks",
    });
  } catch {
    // reported below, event by event
  }
  if (process.env.HERALD_FUZZ_VERBOSE)
    console.log(
      `deliveries complete ${Math.round(performance.now() - waitStarted)} ms after the last answer`,
    );
  const { s, b } = index();
  for (const [key, sent] of strictKeys) {
    const id = JSON.stringify(key);
    const structured = s.get(key) ?? [];
    const binary = b.get(key) ?? [];
    if (structured.length !== 1 || binary.length !== 1) {
      problems.push(
        `${id}: delivered ${structured.length}x structured, ${binary.length}x binary (want 1 each)`,
      );
      continue;
    }
    const event = structured[0] as Record<string, unknown>;
    const { attrs, d } = binary[0] as { attrs: Record<string, string>; d: Delivery };
    for (const p of attrsMatch(sent.model, event, false)) problems.push(`${id} structured ${p}`);
    for (const p of attrsMatch(sent.model, attrs, true)) problems.push(`${id} binary ${p}`);
    const dataS = dataMatches(sent.model, undefined, event);
    const sentData = `(sent ${JSON.stringify(sent.model.attrs.datacontenttype)} ${JSON.stringify(sent.model.data)}, binary ingest ${sent.viaBinary})`;
    if (dataS !== undefined) problems.push(`${id} structured ${dataS} ${sentData}`);
    const dataB = dataMatches(sent.model, d.body, undefined);
    if (dataB !== undefined) problems.push(`${id} binary ${dataB} ${sentData}`);
    const subs = authids.get(key) ?? new Set([sent.authid]);
    const authOk = [...subs].some((sub) =>
      sub === undefined
        ? event.authtype === "unauthenticated"
        : event.authtype === "service_account" && event.authid === sub,
    );
    if (!authOk) {
      problems.push(
        `${id} structured authtype ${JSON.stringify(event.authtype)} authid ${JSON.stringify(event.authid)}, not one of ${JSON.stringify([...subs])}`,
      );
    }
    if (typeof event.recordedtime !== "string" || event.recordedtime === "evil")
      problems.push(`${id} recordedtime ${JSON.stringify(event.recordedtime)}`);
  }
  for (const [key, request] of looseKeys) {
    if (strictKeys.has(key)) continue;
    const n = (s.get(key) ?? []).length;
    if (n !== 1)
      warnings.push(
        `${JSON.stringify(key)} (edited request): delivered ${n}x structured; ${request}`,
      );
  }
  const text = deliveries()
    .filter((d) => d.path === `/${name}/s`)
    .map((d) => d.body.toString("utf8"))
    .join("\n");
  for (const m of markers) {
    if (text.includes(m.marker)) continue;
    (m.strict ? problems : warnings).push(
      `webhook ${m.marker}${m.strict ? "" : " (edited)"} accepted but never delivered`,
    );
  }
  return { problems, warnings };
}
