import {
  batchRequest,
  binaryRequest,
  type EncodeContext,
  type EventModel,
  type Generated,
  jsonRequest,
  jsonText,
  type SentEvent,
  setHeader,
  structuredRequest,
  structuredText,
  validEvent,
  withBody,
} from "./events.js";
import type { Prng } from "./prng.js";
import type { RawRequest } from "./raw-http.js";

/** Limits the fuzz config sets, so that the 413 paths are cheap to reach. */
export const FUZZ_LIMITS = { maxEventBytes: 16_384, maxBatchEvents: 8, maxBatchBytes: 65_536 };

const BOM = "\ufeff";

/** Odd but well-formed values for an attribute, as JSON text. */
const ODD_JSON_VALUES = [
  "null",
  "{}",
  "[]",
  '{"a":1}',
  "1.0",
  "1e2",
  "-0",
  "1e400",
  "2147483648",
  "-2147483649",
  "0.5",
  '""',
  '"\\u0000"',
  '"\\ud800"',
  '"a\\udc00"',
  '"\\uffff"',
  '"\\u001b"',
  '"30"',
  '"true"',
  "true",
  '"1.0"',
];

/** A structured or batch body text with one blind edit. */
function mangleText(rng: Prng, text: string): string | Uint8Array {
  const at = rng.int(0, text.length);
  switch (rng.int(0, 9)) {
    case 0:
      return text.slice(0, at);
    case 1:
      return text.slice(0, at) + rng.oddText(4) + text.slice(at);
    case 2:
      return BOM + text;
    case 3: {
      const bytes = Buffer.from(text, "utf8");
      if (bytes.length > 0) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      return bytes;
    }
    case 4:
      return `${text}${rng.pick(["x", "}", "]", ",", "\u0000", " {}", "[]"])}`;
    case 5:
      return Buffer.from(text, "utf16le");
    case 6: {
      const deep = rng.int(1000, 200_000);
      return `{"specversion":"1.0","id":"deep","source":"/d","type":"t","data":${"[".repeat(deep)}${"]".repeat(rng.chance(0.5) ? deep : 0)}}`;
    }
    case 7:
      return text.replace(/"(specversion|id|source|type)"/, (m) =>
        rng.chance(0.5)
          ? `${m.slice(0, 2)}\\u00${m.charCodeAt(2).toString(16)}${m.slice(3)}`
          : `"${rng.word()}"`,
      );
    case 8:
      return `${text.slice(0, at)}\\ud800${text.slice(at)}`;
    default:
      return rng.pick([
        "",
        " ",
        "null",
        "0",
        '"x"',
        "[[]]",
        "{}",
        "[{}]",
        "[null]",
        "[1,2]",
        "\u0000",
      ]);
  }
}

/** A structured event object text with one member replaced by an odd value or a duplicate. */
function oddStructured(rng: Prng, model: EventModel): string {
  const text = structuredText(rng, model);
  const body = text.trim().slice(1, -1);
  const roll = rng.int(0, 6);
  const name = rng.pick([
    "specversion",
    "id",
    "source",
    "type",
    "time",
    "subject",
    "dataschema",
    "datacontenttype",
    "sampledrate",
    "severitynumber",
    "deprecated",
    "expirytime",
    "dataref",
    "fzodd",
    "Upper",
    "a_b",
    "",
    "data",
    "data_base64",
    "authid",
    "recordedtime",
    "heraldhops",
    "heralderrorcode",
  ]);
  if (roll === 0) return `{${body},"${name}":${rng.pick(ODD_JSON_VALUES)}}`;
  if (roll === 1)
    return `{${body},"data_base64":${rng.pick(['"===="', '"YQ"', '"YQ="', '"Y Q=="', '"-_8"', '"YWJj\\n"', "42", '""', `"${"QUFB".repeat(5000)}"`])}}`;
  if (roll === 2) return `{${body},"${name}":"${rng.oddText(8).replace(/["\\]/g, "")}"}`;
  if (roll === 3) {
    // extremely many attributes
    const n = rng.int(200, 3000);
    const extra: string[] = [];
    for (let i = 0; i < n; i++) extra.push(`"x${i}":"v"`);
    return `{${body},${extra.join(",")}}`;
  }
  if (roll === 4) return `{${body},"${name}":${jsonText(rng)}}`;
  if (roll === 5) return `{${body},"fzbig":"${"x".repeat(rng.pick([16_000, 70_000]))}"}`;
  return `{${body},"specversion":"1.0"}`;
}

type Headers = [string, string][];

/** A binary request with one header-level change that may break it. */
function oddBinary(rng: Prng, req: RawRequest): RawRequest {
  const headers = [...req.headers] as Headers;
  const ceIndexes = headers.flatMap(([n], i) => (n.toLowerCase().startsWith("ce-") ? [i] : []));
  const pickCe = () => rng.pick(ceIndexes);
  switch (rng.int(0, 13)) {
    case 0: {
      const [n, v] = headers[pickCe()] as [string, string];
      headers.push([n.toUpperCase(), rng.chance(0.5) ? v : `${v}x`]);
      return { ...req, headers };
    }
    case 1: {
      const i = pickCe();
      headers[i] = [(headers[i] as [string, string])[0], rng.oddText(10)];
      return { ...req, headers, headEncoding: rng.chance(0.5) ? "latin1" : "utf8" };
    }
    case 2: {
      const i = pickCe();
      headers[i] = [
        (headers[i] as [string, string])[0],
        rng.pick([
          "",
          " ",
          '""',
          '"a\\"b"',
          '"unterminated',
          "%",
          "%G0",
          "%C0%A0",
          "%ED%A0%80",
          "%EF%BF%BE",
        ]),
      ];
      return { ...req, headers };
    }
    case 3: {
      const i = pickCe();
      headers[i] = [
        (headers[i] as [string, string])[0],
        "y".repeat(rng.pick([8000, 20_000, 70_000])),
      ];
      return { ...req, headers };
    }
    case 4:
      headers.splice(pickCe(), 1);
      return { ...req, headers };
    case 5:
      headers.push([
        rng.pick([
          "ce-",
          "ce-A",
          "ce-a_b",
          "ce-a.b",
          "ce-\u00e4",
          "ce-data",
          "ce-data_base64",
          `ce-${"n".repeat(300)}`,
        ]),
        "v",
      ]);
      return { ...req, headers, headEncoding: "latin1" };
    case 6:
      return setHeader(
        req,
        "Content-Type",
        rng.pick([
          "application/json; charset=utf-16",
          "text/plain; charset=foo",
          ";;;",
          "",
          "application/json; charset=utf-8; charset=latin1",
          "application/json, text/plain",
          "application/cloudevents+json",
          "application/cloudevents-batch+json",
          "application/cloudevents+xml",
          "multipart/form-data; boundary=x",
          "text/plain; charset=iso-8859-1",
          "*/*",
          "application/json; charset=\u00e9",
        ]),
      );
    case 7:
      return withBody(
        req,
        rng.pick([rng.bytes(rng.int(0, 40)), `${BOM}{}`, "\u0000", "{", Buffer.from([0xc3, 0x28])]),
      );
    case 8:
      headers.push([
        "ce-time",
        rng.pick([
          "2024-13-01T00:00:00Z",
          "2024-01-01T23:59:60+01:00",
          "2024-01-01T00:00:00",
          "yesterday",
          "2024-02-30T00:00:00Z",
        ]),
      ]);
      return {
        ...req,
        headers: headers.filter(
          ([n], i) => n.toLowerCase() !== "ce-time" || i === headers.length - 1,
        ),
      };
    case 9: {
      const n = rng.int(100, 1500);
      for (let i = 0; i < n; i++) headers.push([`ce-many${i}`, "v"]);
      return { ...req, headers };
    }
    case 10:
      headers.push(["ce-datacontenttype", rng.pick(["text/plain", "application/json"])]);
      return { ...req, headers };
    case 11:
      headers.push([
        rng.pick([
          "ce-sampledrate",
          "ce-severitynumber",
          "ce-deprecated",
          "ce-expirytime",
          "ce-dataref",
        ]),
        rng.pick(["0", "-1", "1.0", "2147483648", "yes", "", "%20", "1e2", "TRUE"]),
      ]);
      return { ...req, headers };
    case 12:
      headers.push(["ce-specversion", rng.pick(["1.0", "0.3", "1.1", ""])]);
      return { ...req, headers };
    default:
      headers.push([
        rng.pick([
          "Content-Encoding",
          "Transfer-Encoding",
          "Expect",
          "Traceparent",
          "Content-Type",
        ]),
        rng.pick(["gzip", "identity", "100-continue", "00-zz-00", "chunked", "br, gzip"]),
      ]);
      return { ...req, headers };
  }
}

export interface EventRequestContext extends EncodeContext {
  /** A fresh unique id tag. */
  nextTag(): string;
  /** Valid events generated earlier in the run, for resends (the dedupe path). */
  readonly accepted: readonly EventModel[];
}

/**
 * One request to `POST /events` (or `/`): a valid event in some mode, kept as is (strict), sent
 * with attributes only the gateway may write (strict: they must be replaced), or broken.
 */
export function eventRequest(rng: Prng, ctx: EventRequestContext): Generated {
  const mode = rng.pick(["binary", "binary", "structured", "batch"] as const);
  const mutate = rng.chance(0.55);
  const resend = !mutate && ctx.accepted.length > 0 && rng.chance(0.08);
  if (mode === "batch") {
    const n = rng.chance(0.05) ? rng.int(9, 12) : rng.int(0, 4);
    const models = Array.from({ length: n }, () => validEvent(rng, ctx.nextTag(), false));
    if (resend && n > 0) models[0] = rng.pick(ctx.accepted);
    if (rng.chance(0.1) && n > 1) models[1] = models[0] as EventModel; // dedupe within a batch
    const events = (strict: boolean): SentEvent[] =>
      models.map((model) => ({ model, strict, viaBinary: false }));
    if (!mutate)
      return { label: "batch", req: batchRequest(rng, models, ctx), events: events(true) };
    const req = batchRequest(rng, models, ctx);
    const text = Buffer.from(req.body as Uint8Array).toString("utf8");
    if (rng.chance(0.5) && n > 0) {
      const i = rng.int(0, n - 1);
      const parts = models.map((m, j) =>
        j === i ? oddStructured(rng, m) : structuredText(rng, m),
      );
      const tracked = models
        .filter((_, j) => j !== i)
        .map((model) => ({ model, strict: false, viaBinary: false }));
      return {
        label: "batch-odd-member",
        req: withBody(req, `[${parts.join(",")}]`),
        events: tracked,
      };
    }
    if (rng.chance(0.3)) {
      const ct = rng.pick([
        "application/json",
        "application/cloudevents+json",
        "text/plain",
        undefined,
        "application/cloudevents-batch+json; charset=utf-16",
        "application/cloudevents-batch+json; charset=utf-8; charset=utf-8",
      ]);
      return { label: "batch-ct", req: setHeader(req, "Content-Type", ct), events: events(false) };
    }
    return {
      label: "batch-mangled",
      req: withBody(req, mangleText(rng, text)),
      events: events(false),
    };
  }
  const tag = ctx.nextTag();
  const binary = mode === "binary";
  const model = resend ? rng.pick(ctx.accepted) : validEvent(rng, tag, binary);
  // A resent structured event may carry typed extensions; only binary resends need strings.
  const viaBinary = binary;
  if (binary) {
    if (resend && Object.values(model.attrs).some((v) => typeof v !== "string")) {
      return {
        label: "structured-resend",
        req: structuredRequest(rng, model, ctx),
        events: [{ model, strict: true, viaBinary: false }],
      };
    }
    const req = binaryRequest(rng, model, ctx);
    if (!mutate) {
      if (rng.chance(0.15)) {
        // Attributes only the gateway writes: dropped or replaced, the event still accepted.
        const owned = rng.pick([
          "ce-authid",
          "ce-authtype",
          "ce-authclaims",
          "ce-recordedtime",
          "ce-heraldhops",
          "ce-heralderrorcode",
          "ce-heraldattempts",
        ]);
        return {
          label: "binary-owned",
          req: { ...req, headers: [...req.headers, [owned, "evil"]] },
          events: [{ model, strict: true, viaBinary }],
        };
      }
      return { label: "binary", req, events: [{ model, strict: true, viaBinary }] };
    }
    return {
      label: "binary-odd",
      req: oddBinary(rng, req),
      events: [{ model, strict: false, viaBinary }],
    };
  }
  const req = structuredRequest(rng, model, ctx);
  if (!mutate)
    return { label: "structured", req, events: [{ model, strict: true, viaBinary: false }] };
  const events = [{ model, strict: false, viaBinary: false }];
  switch (rng.int(0, 3)) {
    case 0:
      return {
        label: "structured-odd-member",
        req: withBody(req, oddStructured(rng, model)),
        events,
      };
    case 1:
      return {
        label: "structured-ct",
        req: setHeader(
          req,
          "Content-Type",
          rng.pick([
            "application/cloudevents+json; charset=iso-8859-1",
            "application/cloudevents+json; charset=utf-16",
            "application/cloudevents+json; charset=utf-8; charset=utf-8",
            "application/cloudevents+json; foo",
            "application/cloudevents+xml",
            "application/cloudevents",
            "application/cloudevents+json, text/plain",
            "text/plain",
            undefined,
          ]),
        ),
        events,
      };
    case 2:
      return {
        label: "structured-mangled",
        req: withBody(req, mangleText(rng, Buffer.from(req.body as Uint8Array).toString("utf8"))),
        events,
      };
    default:
      return {
        label: "structured-json",
        req: jsonRequest(ctx, "application/cloudevents+json", jsonText(rng)),
        events: [],
      };
  }
}
