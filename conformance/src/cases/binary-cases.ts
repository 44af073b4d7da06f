import { binaryRequest } from "../events/requests.js";
import type { ConformanceCase } from "./case.js";
import {
  expectAcceptedAndDelivered,
  expectDelivered,
  expectNeverDelivered,
  expectProblem,
  expectRejected,
  isAccepted,
} from "./expect.js";

const HB = "HTTP protocol binding 1.0.2";
const JSON_BODY = '{"message":"Hello World!"}';

/**
 * A binary-mode event whose `ce-subject` header is sent raw, and the subject a conforming receiver
 * must decode from it (binding 3.1.3.2).
 */
function subjectHeaderCase(name: string, raw: string, decoded: string): ConformanceCase {
  return {
    name: `binary: ${name}`,
    spec: `${HB} §3.1.3.2`,
    async run(ctx) {
      const event = ctx.event();
      await expectAcceptedAndDelivered(
        ctx,
        binaryRequest(event, { headers: { "ce-subject": raw } }),
        { attributes: { ...event, subject: decoded }, data: { absent: true } },
      );
    },
  };
}

/** A `ce-subject` header value a conforming receiver must reject (binding 3.1.3.2). */
function badSubjectHeaderCase(name: string, raw: string): ConformanceCase {
  return {
    name: `binary: ${name} -> 400`,
    spec: `${HB} §3.1.3.2`,
    run: (ctx) =>
      expectRejected(ctx, binaryRequest(ctx.event(), { headers: { "ce-subject": raw } }), 400, {
        attributes: ["subject"],
      }),
  };
}

/**
 * A `ce-subject` value that is no valid percent-encoding or quoted-string. 3.1.3.2 gives no outcome
 * for it (it only requires rejecting escapes that decode to invalid UTF-8), so a gateway may refuse
 * it with a 400 naming `subject` or keep the text as sent; it must not deliver anything else.
 */
function malformedSubjectHeaderCase(name: string, raw: string): ConformanceCase {
  return {
    name: `binary: ${name} -> 400, or kept as sent`,
    spec: `${HB} §3.1.3.2 (no outcome given for a malformed value; RFC 3986 §2.1, RFC 9110 §5.6.4)`,
    async run(ctx) {
      const event = ctx.event();
      const res = await ctx.send(binaryRequest(event, { headers: { "ce-subject": raw } }));
      if (isAccepted(res.status)) {
        await expectDelivered(ctx, {
          attributes: { ...event, subject: raw },
          data: { absent: true },
        });
        return;
      }
      expectProblem(res, 400, { attributes: ["subject"] });
      await expectNeverDelivered(ctx);
    },
  };
}

/** Binary content mode (HTTP protocol binding 1.0.2, section 3.1). */
export const binaryCases: readonly ConformanceCase[] = [
  {
    name: "binary: event accepted and delivered unchanged in both modes",
    spec: `${HB} §3.1`,
    async run(ctx) {
      const event = ctx.event({ datacontenttype: "application/json", subject: "binary" });
      await expectAcceptedAndDelivered(ctx, binaryRequest(event, { body: JSON_BODY }), {
        attributes: event,
        data: { json: JSON.parse(JSON_BODY) },
      });
    },
  },
  {
    name: "binary: ce- header names are case-insensitive",
    spec: `${HB} §3.1.3.1`,
    async run(ctx) {
      const event = ctx.event({ subject: "mixed-case" });
      const headers = {
        "CE-SPECVERSION": "1.0",
        "Ce-Id": String(event.id),
        "cE-sOuRcE": String(event.source),
        "CE-Type": String(event.type),
        "Ce-SubJect": "mixed-case",
        "CE-COMEXAMPLEEXT": "upper",
      };
      await expectAcceptedAndDelivered(
        ctx,
        { method: "POST", path: "/events", headers },
        { attributes: { ...event, comexampleext: "upper" }, data: { absent: true } },
      );
    },
  },
  {
    name: "binary: Content-Type becomes datacontenttype",
    spec: `${HB} §3.1.1`,
    async run(ctx) {
      const event = ctx.event({ datacontenttype: "application/xml; charset=utf-8" });
      const body = '<much wow="xml"/>';
      await expectAcceptedAndDelivered(ctx, binaryRequest(event, { body }), {
        attributes: event,
        data: { bytes: new TextEncoder().encode(body) },
      });
    },
  },
  {
    name: "binary: body bytes pass through unchanged (data_base64 in structured delivery)",
    spec: `${HB} §3.1.2, JSON event format 1.0.2 §3.1.1`,
    async run(ctx) {
      const event = ctx.event({ datacontenttype: "application/octet-stream" });
      const body = Uint8Array.from({ length: 256 }, (_, i) => (i * 7 + 255) % 256);
      await expectAcceptedAndDelivered(ctx, binaryRequest(event, { body }), {
        attributes: event,
        data: { bytes: body },
      });
    },
  },
  {
    name: "binary: event without data or Content-Type accepted",
    spec: `${HB} §3.1, CloudEvents 1.0.2 "Event Data" (OPTIONAL)`,
    async run(ctx) {
      const event = ctx.event();
      await expectAcceptedAndDelivered(ctx, binaryRequest(event), {
        attributes: event,
        data: { absent: true },
      });
    },
  },
  subjectHeaderCase(
    "quoted-string header value is unescaped",
    '"quoted \\"value\\""',
    'quoted "value"',
  ),
  subjectHeaderCase("quoted value is then percent-decoded", '"a%20b"', "a b"),
  subjectHeaderCase("percent-decoding is exactly one pass (%2541 -> %41)", "%2541", "%41"),
  subjectHeaderCase(
    "non-ASCII via percent-encoded UTF-8",
    "Euro%20%E2%82%AC%20%F0%9F%98%80",
    "Euro € 😀",
  ),
  subjectHeaderCase("lower-case hex and needless encoding accepted", "%e2%82%ac%41", "€A"),
  // Percent-decoding, not form decoding: "+" is a plus sign.
  subjectHeaderCase("a plus sign stays a plus sign", "a+b%2Bc", "a+b+c"),
  // Senders before 1.0.2 did not have to encode spaces, and receivers MUST still accept them.
  subjectHeaderCase("unencoded spaces accepted", "hello big world", "hello big world"),
  badSubjectHeaderCase("overlong UTF-8 after decoding (%C0%A0)", "%C0%A0"),
  badSubjectHeaderCase("invalid UTF-8 byte after decoding (%FF)", "caf%FF"),
  badSubjectHeaderCase("truncated UTF-8 sequence after decoding (%E2%82)", "%E2%82"),
  // U+D800 encoded as if it were a character: UTF-8 (RFC 3629 §3) excludes surrogates.
  badSubjectHeaderCase("encoded UTF-16 surrogate after decoding (%ED%A0%80)", "a%ED%A0%80b"),
  malformedSubjectHeaderCase("malformed percent-encoding (%zz)", "a%zzb"),
  malformedSubjectHeaderCase("unterminated quoted-string", '"abc'),
];
