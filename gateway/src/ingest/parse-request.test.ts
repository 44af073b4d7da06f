import { describe, expect, it } from "vitest";
import { MAX_VIOLATIONS_LISTED } from "../errors/errors.js";
import { HeraldError } from "../errors/herald-error.js";
import { requestSource } from "./ingest-source.js";
import { parseRequest as parseSource } from "./parse-request.js";

const parseRequest = (request: Request, lim: Parameters<typeof parseSource>[1]) =>
  parseSource(requestSource(request), lim);

const limits = { maxEventBytes: 1024, maxBatchEvents: 3, maxBatchBytes: 3000 };
const ce = {
  "ce-specversion": "1.0",
  "ce-id": "1",
  "ce-source": "/s",
  "ce-type": "com.example.t",
};
const event = { specversion: "1.0", id: "1", source: "/s", type: "com.example.t" };

function post(headers: Record<string, string>, body?: BodyInit) {
  return new Request("http://gw/events", { method: "POST", headers, body: body ?? null });
}

async function failure(request: Request, lim = limits) {
  try {
    await parseRequest(request, lim);
  } catch (err) {
    if (err instanceof HeraldError) return err;
    throw err;
  }
  throw new Error("expected parseRequest to fail");
}

describe("binary mode (HTTP binding 3.1)", () => {
  it("maps ce- headers to attributes and Content-Type to datacontenttype", async () => {
    const { mode, events } = await parseRequest(
      post({ ...ce, "content-type": "application/json", "ce-myext": "v" }, '{"a":1}'),
      limits,
    );
    expect(mode).toBe("binary");
    expect(events[0]!.attributes).toEqual({
      ...event,
      datacontenttype: "application/json",
      myext: "v",
    });
    expect(events[0]!.data).toEqual({
      kind: "binary",
      value: new TextEncoder().encode('{"a":1}'),
    });
  });

  it("checks known extensions and types their canonical strings (cloudevents/extensions)", async () => {
    const err = await failure(post({ ...ce, "ce-dataref": "a%20b", "ce-expirytime": "soon" }));
    expect(err.code).toBe("invalid_event");
    expect(err.extensions.attributes).toEqual(["dataref", "expirytime"]);
    // dataref is a URI too: the hint about the one round of percent-decoding applies.
    expect(err.message).toContain("dataref: must be a URI-reference");
    expect(JSON.stringify(err.extensions.errors)).toContain(
      "header ce-dataref is percent-decoded once",
    );
    const { events } = await parseRequest(
      post({ ...ce, "ce-sampledrate": "30", "ce-deprecated": "true", "ce-sequence": "0042" }),
      limits,
    );
    expect(events[0]!.attributes).toEqual({
      ...event,
      deprecated: true,
      sampledrate: 30,
      sequence: "0042",
    });
  });

  it("treats header names case-insensitively", async () => {
    const { events } = await parseRequest(
      post({ "CE-SpecVersion": "1.0", "Ce-Id": "1", "CE-SOURCE": "/s", "ce-Type": "t" }),
      limits,
    );
    expect(events[0]!.attributes).toEqual({ specversion: "1.0", id: "1", source: "/s", type: "t" });
    expect(events[0]!.data).toBeUndefined();
  });

  it("unquotes and percent-decodes values once", async () => {
    const { events } = await parseRequest(
      post({ ...ce, "ce-subject": "Euro%20%E2%82%AC", "ce-note": '"a b"', "ce-raw": "%2541" }),
      limits,
    );
    expect(events[0]!.attributes).toMatchObject({ subject: "Euro €", note: "a b", raw: "%41" });
  });

  it("rejects invalid UTF-8 after decoding, naming the attribute", async () => {
    const err = await failure(post({ ...ce, "ce-subject": "%C0%A0" }));
    expect(err.status).toBe(400);
    expect(err.extensions.attributes).toEqual(["subject"]);
  });

  it("says only why a header it could not decode is wrong, not that its attribute is missing", async () => {
    const err = await failure(post({ ...ce, "ce-id": "a%zz", "ce-source": "%C0%A0" }));
    expect(err.extensions.errors).toEqual([
      { attribute: "id", message: "header ce-id has an invalid percent-encoding at position 1" },
      {
        attribute: "source",
        message: "header ce-source is not valid UTF-8 after percent-decoding",
      },
    ]);
  });

  it("says a URI header is percent-decoded once when its decoded value is no URI", async () => {
    const err = await failure(post({ ...ce, "ce-source": "/a%20b" }));
    expect(err.extensions.errors).toEqual([
      {
        attribute: "source",
        message:
          "must be a URI-reference (RFC 3986); encode other characters (after decoding: header ce-source is percent-decoded once, HTTP binding 3.1.3.2, so a % in the URI itself is sent as %25)",
      },
    ]);
    const { events } = await parseRequest(post({ ...ce, "ce-source": "/a%2520b" }), limits);
    expect(events[0]!.attributes.source).toBe("/a%20b");
  });

  it("rejects ce-datacontenttype (3.1.1)", async () => {
    const err = await failure(post({ ...ce, "ce-datacontenttype": "text/plain" }));
    expect(err.extensions.attributes).toEqual(["datacontenttype"]);
  });

  it("rejects a decoded control character", async () => {
    const err = await failure(post({ ...ce, "ce-subject": "a%0Ab" }));
    expect(err.extensions.attributes).toEqual(["subject"]);
  });

  it("reports every missing required attribute", async () => {
    const err = await failure(post({ "ce-specversion": "1.0" }));
    expect(err.code).toBe("invalid_event");
    expect(err.extensions.attributes).toEqual(["id", "source", "type"]);
  });

  it("refuses a ce- header repeated in the raw header lines, in any case, naming the attribute", async () => {
    const raw = [
      ...Object.entries(ce).flat(),
      "CE-TYPE",
      "t2",
      "CE-SUBJECT",
      "a",
      "Ce-Subject",
      "b",
    ];
    const err = await parseSource(requestSource(post(ce), raw), limits).then(
      () => undefined,
      (e: unknown) => e as HeraldError,
    );
    expect(err?.code).toBe("invalid_event");
    expect(err?.extensions.attributes).toEqual(["type", "subject"]);
    expect(err?.extensions.errors).toContainEqual({
      attribute: "type",
      message: "header ce-type is repeated; each attribute is exactly one header (3.1.3)",
    });
  });

  it("orders the attributes the same whatever order the headers came in: required first, then by name", async () => {
    const sent = [
      ["ce-zeta", "z"],
      ["ce-type", "t"],
      ["ce-subject", "s"],
      ["ce-source", "/s"],
      ["ce-id", "1"],
      ["ce-alpha", "a"],
      ["ce-specversion", "1.0"],
    ];
    const expected = ["specversion", "id", "source", "type", "alpha", "subject", "zeta"];
    // Node hands Herald the header lines as sent; a Fetch Headers (Workers) iterates them sorted.
    const asSent = await parseSource(requestSource(post({}), sent.flat()), limits);
    const sorted = await parseRequest(post(Object.fromEntries(sent)), limits);
    expect(Object.keys(asSent.events[0]!.attributes)).toStrictEqual(expected);
    expect(Object.keys(sorted.events[0]!.attributes)).toStrictEqual(expected);
  });

  it("gives that order for every order of the headers", async () => {
    const permutations = (names: string[]): string[][] =>
      names.length <= 1
        ? [names]
        : names.flatMap((name, i) =>
            permutations([...names.slice(0, i), ...names.slice(i + 1)]).map((rest) => [
              name,
              ...rest,
            ]),
          );
    const values: Record<string, string> = {
      specversion: "1.0",
      id: "1",
      source: "/s",
      type: "t",
      b: "x",
      a: "y",
    };
    const expected = ["specversion", "id", "source", "type", "a", "b"];
    for (const order of permutations(Object.keys(values))) {
      const lines = order.flatMap((name) => [`ce-${name}`, values[name] as string]);
      const parsed = await parseSource(requestSource(post({}), lines), limits);
      expect(Object.keys(parsed.events[0]!.attributes)).toStrictEqual(expected);
    }
  });

  it("counts headers and body against maxEventBytes", async () => {
    const err = await failure(post({ ...ce, "ce-big": "x".repeat(1000) }, "y".repeat(100)));
    expect(err.status).toBe(413);
    const body = await failure(post(ce, "y".repeat(2000)));
    expect(body.code).toBe("payload_too_large");
  });
});

describe("structured mode (HTTP binding 3.2, JSON format)", () => {
  const structured = (body: unknown, type = "application/cloudevents+json; charset=UTF-8") =>
    post({ "content-type": type }, typeof body === "string" ? body : JSON.stringify(body));

  it("refuses extension Integers written with a fraction or exponent (JSON format 2.2)", async () => {
    for (const written of ["1.0", "1e2", "-3E0", "2.50e1"]) {
      const err = await failure(
        structured(`{"specversion":"1.0","id":"1","source":"/s","type":"t","n":${written}}`),
      );
      expect(err.code).toBe("invalid_event");
      expect(err.extensions.errors).toEqual([
        {
          attribute: "n",
          message:
            "must be an integer written without a fraction or exponent, such as 100 (JSON format 2.2)",
        },
      ]);
    }
    // 1.5 is refused as before, once; in a batch the index is named.
    const half = await failure(structured({ ...event, n: 1.5 }));
    expect(half.extensions.errors).toEqual([{ attribute: "n", message: "must be an integer" }]);
    const batch = await failure(
      structured(
        '[{"specversion":"1.0","id":"1","source":"/s","type":"t","n":7,"data":1.0},{"specversion":"1.0","id":"2","source":"/s","type":"t","n":7.0}]',
        "application/cloudevents-batch+json",
      ),
    );
    expect(batch.extensions).toMatchObject({ index: 1, attributes: ["n"] });
  });

  it("refuses a member given twice, in any spelling, naming it, as a repeated ce- header is", async () => {
    // JSON.parse keeps the last `source`; a proxy in front of Herald may have checked the first.
    const err = await failure(
      structured(
        '{"specversion":"1.0","id":"1","source":"/ok","type":"t","sour\\u0063e":"/other"}',
      ),
    );
    expect(err.code).toBe("invalid_event");
    expect(err.extensions.errors).toEqual([
      {
        attribute: "source",
        message:
          "is given twice in the event object; send it once (JSON readers disagree on which one counts)",
      },
    ]);
    const inBatch = await failure(
      structured(
        '[{"specversion":"1.0","id":"1","source":"/s","type":"t"},{"specversion":"1.0","id":"2","id":"3","source":"/s","type":"t","data":{"a":1,"a":2}}]',
        "application/cloudevents-batch+json",
      ),
    );
    // The data is the producer's: a name repeated inside it is not Herald's to judge.
    expect(inBatch.extensions).toMatchObject({ index: 1, attributes: ["id"] });
  });

  it("says only that a member of the wrong JSON type is wrong, not that it is missing", async () => {
    const err = await failure(structured({ ...event, id: ["1"] }));
    expect(err.extensions.errors).toEqual([
      { attribute: "id", message: "must be a string, an integer or a boolean" },
    ]);
  });

  it("says an array is a batch and names the batch media type", async () => {
    const err = await failure(structured([event]));
    expect(err.code).toBe("invalid_event");
    expect(err.message).toBe(
      "event: must be a JSON object; a JSON array of events is a batch: send it as application/cloudevents-batch+json (JSON format 4)",
    );
  });

  it("parses a JSON event with data", async () => {
    const { mode, events } = await parseRequest(
      structured({ ...event, ext: 5, flag: true, data: { a: 1 } }),
      limits,
    );
    expect(mode).toBe("structured");
    expect(events[0]).toEqual({
      attributes: { ...event, ext: 5, flag: true },
      data: { kind: "json", value: { a: 1 }, text: '{"a":1}' },
    });
  });

  it("compares media types case-insensitively", async () => {
    const { mode } = await parseRequest(structured(event, "Application/CloudEvents+JSON"), limits);
    expect(mode).toBe("structured");
  });

  it("decodes data_base64 to bytes", async () => {
    const { events } = await parseRequest(
      structured({
        ...event,
        datacontenttype: "application/octet-stream",
        data_base64: "AAEC/w==",
      }),
      limits,
    );
    expect(events[0]!.data).toEqual({ kind: "binary", value: new Uint8Array([0, 1, 2, 255]) });
  });

  it("keeps string data of a non-JSON type as text and treats null members as absent", async () => {
    const { events } = await parseRequest(
      structured({ ...event, subject: null, datacontenttype: "text/plain", data: "hi" }),
      limits,
    );
    expect(events[0]).toEqual({
      attributes: { ...event, datacontenttype: "text/plain" },
      data: { kind: "text", value: "hi" },
    });
  });

  it("keeps an explicit null data for JSON", async () => {
    const { events } = await parseRequest(structured({ ...event, data: null }), limits);
    expect(events[0]!.data).toEqual({ kind: "json", value: null, text: "null" });
  });

  it.each([
    [{ ...event, data: 1, data_base64: "AA==" }, "data_base64"],
    [{ ...event, data_base64: "not base64!" }, "data_base64"],
    [{ ...event, datacontenttype: "text/plain", data: { a: 1 } }, "data"],
    [{ ...event, ext: { nested: true } }, "ext"],
    [{ ...event, ext: [1] }, "ext"],
    [{ ...event, specversion: 1 }, "specversion"],
  ])("rejects %j naming %s", async (body, attribute) => {
    const err = await failure(structured(body));
    expect(err.status).toBe(400);
    expect(err.extensions.attributes).toEqual([attribute]);
  });

  it.each([
    ["not json", "malformed_request"],
    ["[1]", "invalid_event"],
    ["null", "invalid_event"],
  ])("rejects body %s", async (body, code) => {
    expect((await failure(structured(body))).code).toBe(code);
  });

  it("rejects invalid UTF-8 in the body", async () => {
    const err = await failure(
      post({ "content-type": "application/cloudevents+json" }, new Uint8Array([0x7b, 0xff, 0x7d])),
    );
    expect(err.code).toBe("malformed_request");
  });

  it.each([
    "application/cloudevents+xml",
    "application/cloudevents+avro",
    "application/cloudevents",
    "application/cloudevents+json; charset=latin1",
    "application/cloudevents-batch+xml",
  ])("answers 415 for %s", async (type) => {
    const err = await failure(post({ "content-type": type }, "{}"));
    expect(err.status).toBe(415);
    expect(err.code).toBe("unsupported_media_type");
  });

  it("refuses string data with a lone surrogate, naming data (JSON format 3.1.1)", async () => {
    const body = JSON.stringify({ ...event, datacontenttype: "text/plain", data: "a\ud800b" });
    expect(body).toContain("\\ud800");
    const err = await failure(post({ "content-type": "application/cloudevents+json" }, body));
    expect(err.code).toBe("invalid_event");
    expect(err.extensions.errors).toEqual([
      {
        attribute: "data",
        message:
          "must be properly encoded text (JSON format 3.1.1): it holds an unpaired surrogate (U+D800), which has no UTF-8 form",
      },
    ]);
  });

  it.each([
    ["text/plain; charset=us-ascii", "café", "charset us-ascii", "é (U+00E9)"],
    ["text/plain; charset=ISO-8859-1", "10 €", "charset iso-8859-1", "€ (U+20AC)"],
    ["application/xml; charset=utf-16", "<a/>", "charset utf-16", "utf-8, us-ascii or iso-8859-1"],
    ["application/json; charset=windows-1252", { a: 1 }, "charset windows-1252", "data_base64"],
  ])(
    "refuses data that datacontenttype %s cannot carry, naming data and the charset",
    async (datacontenttype, data, charset, detail) => {
      const body = JSON.stringify([{ ...event, datacontenttype, data }]);
      const err = await failure(
        post({ "content-type": "application/cloudevents-batch+json" }, body),
      );
      expect(err.code).toBe("invalid_event");
      expect(err.extensions.attributes).toEqual(["data"]);
      const [only] = err.extensions.errors as { message: string }[];
      expect(only?.message).toContain(charset);
      expect(only?.message).toContain(detail);
    },
  );

  it("accepts string data its charset can carry, and bytes under any charset", async () => {
    for (const [datacontenttype, data] of [
      ["text/plain; charset=iso-8859-1", "café ÿ"],
      ["text/plain; charset=latin1", "x"],
      ["text/plain; charset=us-ascii", "cafe"],
      ["text/plain; charset=utf-8", "€ 😀"],
      ["text/plain", "€ 😀"],
      ["application/json; charset=iso-8859-1", "€"],
    ]) {
      const body = JSON.stringify({ ...event, datacontenttype, data });
      const { events } = await parseRequest(
        post({ "content-type": "application/cloudevents+json" }, body),
        limits,
      );
      expect(events[0]?.data?.value).toBe(data);
    }
    const bytes = JSON.stringify({
      ...event,
      datacontenttype: "text/plain; charset=utf-16",
      data_base64: "AGEAYg==",
    });
    const { events } = await parseRequest(
      post({ "content-type": "application/cloudevents+json" }, bytes),
      limits,
    );
    expect(events[0]?.data?.kind).toBe("binary");
  });

  it("applies maxEventBytes", async () => {
    const err = await failure(structured({ ...event, data: "x".repeat(2000) }));
    expect(err.status).toBe(413);
  });
});

describe("batch mode (HTTP binding 3.3, JSON batch format)", () => {
  const batch = (body: unknown) =>
    post(
      { "content-type": "application/cloudevents-batch+json" },
      typeof body === "string" ? body : JSON.stringify(body),
    );

  it("accepts an empty batch", async () => {
    expect(await parseRequest(batch([]), limits)).toEqual({ mode: "batch", events: [] });
  });

  it("parses every event in order", async () => {
    const { events } = await parseRequest(
      batch([
        { ...event, id: "a" },
        { ...event, id: "b" },
      ]),
      limits,
    );
    expect(events.map((e) => e.attributes.id)).toEqual(["a", "b"]);
  });

  it("rejects the whole batch naming the first bad index", async () => {
    const err = await failure(batch([event, { ...event, id: "" }, { ...event, time: "x" }]));
    expect(err.status).toBe(400);
    expect(err.extensions.index).toBe(1);
    expect(err.extensions.errors).toEqual([
      { attribute: "id", message: "must not be empty", index: 1 },
      expect.objectContaining({ attribute: "time", index: 2 }),
    ]);
  });

  it("says in the detail which event each violation belongs to when several are invalid", async () => {
    const one = await failure(batch([event, { ...event, id: "" }]));
    expect(one.message).toBe("event 1 of the batch is invalid: id: must not be empty");
    const two = await failure(batch([event, { ...event, id: "" }, 7]));
    expect(two.message).toBe(
      "2 events of the batch are invalid, the first is event 1: " +
        "event 1: id: must not be empty; event 2: event: must be a JSON object",
    );
  });

  it("rejects a non-array body", async () => {
    expect((await failure(batch(event))).code).toBe("malformed_request");
  });

  it("applies maxBatchEvents", async () => {
    const err = await failure(batch([event, event, event, event]));
    expect(err.status).toBe(413);
    expect(err.code).toBe("batch_too_large");
  });

  it("applies maxEventBytes to each event", async () => {
    const err = await failure(batch([event, { ...event, data: "x".repeat(1100) }]));
    expect(err.status).toBe(413);
    expect(err.extensions.index).toBe(1);
  });
});

describe("hostile attribute names", () => {
  it("rejects __proto__ in structured and binary mode instead of dropping it", async () => {
    const structured = post(
      { "content-type": "application/cloudevents+json" },
      `{"specversion":"1.0","id":"1","source":"/s","type":"t","__proto__":"x"}`,
    );
    expect((await failure(structured)).extensions.attributes).toEqual(["__proto__"]);
    const binary = post({ ...ce, "ce-__proto__": "x" });
    expect((await failure(binary)).extensions.attributes).toEqual(["__proto__"]);
  });
});

describe("hostile nesting", () => {
  const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
  const head = `{"specversion":"1.0","id":"1","source":"/s","type":"t","data":`;

  it("rejects data nested deeper than the limit in structured mode", async () => {
    const err = await failure(
      post({ "content-type": "application/cloudevents+json" }, `${head}${deep(100_000)}}`),
      { maxEventBytes: 262_144, maxBatchEvents: 10, maxBatchBytes: 1_048_576 },
    );
    expect(err.status).toBe(400);
    expect(err.extensions.attributes).toEqual(["data"]);
  });

  it("rejects it in a batch too, naming the index, without overflowing the stack", async () => {
    const err = await failure(
      post(
        { "content-type": "application/cloudevents-batch+json" },
        `[${JSON.stringify(event)},${head}${deep(100_000)}}]`,
      ),
      { maxEventBytes: 262_144, maxBatchEvents: 10, maxBatchBytes: 1_048_576 },
    );
    expect(err.status).toBe(400);
    expect(err.extensions.index).toBe(1);
  });

  it("accepts data nested within the limit", async () => {
    const { events } = await parseRequest(
      post({ "content-type": "application/cloudevents+json" }, `${head}${deep(100)}}`),
      limits,
    );
    expect(events).toHaveLength(1);
  });
});

describe("helpful errors", () => {
  it("says how to send an event when no ce- headers came at all", async () => {
    const err = await failure(post({ "content-type": "application/json" }, '{"a":1}'));
    expect(err.message).toContain("no CloudEvent found");
    expect(err.extensions.attributes).toEqual(["specversion", "id", "source", "type"]);
  });

  it("names a bare ce- header", async () => {
    const err = await failure(post({ ...ce, "ce-": "x" }));
    expect(err.extensions.attributes).toEqual(["ce-"]);
  });
});

describe("charset labels for structured JSON", () => {
  it.each(["utf-8", "UTF8", "us-ascii"])("accepts charset=%s", async (charset) => {
    const { mode } = await parseRequest(
      post(
        { "content-type": `application/cloudevents+json; charset=${charset}` },
        JSON.stringify(event),
      ),
      limits,
    );
    expect(mode).toBe("structured");
  });

  it("reads the charset parameter, never a ;charset= inside another parameter's quoted value", async () => {
    const body = JSON.stringify(event);
    const { mode } = await parseRequest(
      post({ "content-type": 'application/cloudevents+json; x="a;charset=latin1"' }, body),
      limits,
    );
    expect(mode).toBe("structured");
    const refused = await failure(
      post({ "content-type": 'application/cloudevents+json; x="a;b"; charset=utf-16' }, body),
    );
    expect(refused.code).toBe("unsupported_media_type");
  });

  it.each([
    "application/cloudevents+json; charset=iso-8859-1; charset=utf-8",
    "application/cloudevents+json; charset=utf-8; CHARSET=utf-8",
    "application/cloudevents-batch+json; charset=latin1; charset=utf-8",
  ])("answers 415 naming the parameter given twice in %s (RFC 6838 4.3)", async (type) => {
    const body = type.includes("batch") ? JSON.stringify([event]) : JSON.stringify(event);
    const err = await failure(post({ "content-type": type }, body));
    expect(err.code).toBe("unsupported_media_type");
    expect(err.message).toContain("gives the parameter charset twice");
  });

  // The one charset mismatch a UTF-8 reader would not notice: 8-bit bytes under us-ascii.
  it("refuses a byte over 0x7F under charset=us-ascii, in structured and batch mode", async () => {
    const body = JSON.stringify({ ...event, subject: "café" });
    const one = await failure(
      post({ "content-type": "application/cloudevents+json; charset=US-ASCII" }, body),
    );
    expect(one.code).toBe("malformed_request");
    expect(one.message).toBe(
      `the body is labelled charset=us-ascii but byte ${body.indexOf("é")} is 0xc3, which is not US-ASCII; label UTF-8 JSON charset=utf-8`,
    );
    const batch = await failure(
      post({ "content-type": "application/cloudevents-batch+json; charset=us-ascii" }, `[${body}]`),
    );
    expect(batch.code).toBe("malformed_request");
    // The same text with é escaped is US-ASCII, and accepted.
    const escaped = body.replace("é", "\\u00e9");
    const { events } = await parseRequest(
      post({ "content-type": "application/cloudevents+json; charset=us-ascii" }, escaped),
      limits,
    );
    expect(events[0]!.attributes.subject).toBe("café");
  });
});

describe("in-process requests", () => {
  it("checks the real body length, not only Content-Length", async () => {
    const request = new Request("http://gw/events", {
      method: "POST",
      headers: { ...ce, "content-length": "10" },
      body: "x".repeat(2000),
    });
    expect((await failure(request)).status).toBe(413);
  });
});

describe("batch byte limit", () => {
  it("refuses a batch body over maxBatchBytes before parsing it", async () => {
    const many = `[${Array(1000).fill("{}").join(",")}]`; // 3001 bytes
    const err = await failure(post({ "content-type": "application/cloudevents-batch+json" }, many));
    expect(err.status).toBe(413);
    expect(err.extensions).toMatchObject({ limit: 3000 });
  });
});

describe("invalid_event: the list of violations is bounded", () => {
  it(`lists the first ${MAX_VIOLATIONS_LISTED} violations and counts the rest in the detail`, async () => {
    const bad = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`e${i}`, { no: 1 }]));
    const body = JSON.stringify({ ...event, ...bad });
    const err = await failure(post({ "content-type": "application/cloudevents+json" }, body), {
      ...limits,
      maxEventBytes: 65_536,
    });
    expect(err.code).toBe("invalid_event");
    const errors = err.extensions.errors as unknown[];
    expect(errors).toHaveLength(MAX_VIOLATIONS_LISTED);
    expect(errors[0]).toEqual({ attribute: "e0", message: expect.any(String) });
    expect(err.extensions.attributes).toHaveLength(MAX_VIOLATIONS_LISTED);
    expect(err.message).toMatch(/ \(and 490 more\)$/);
  });
});
