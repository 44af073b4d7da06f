import { binaryRequest, structuredRequest } from "../events/requests.js";
import { isSpecEncoded } from "../http/percent-encoding.js";
import { type ConformanceCase, check } from "./case.js";
import { expectAcceptedAndDelivered } from "./expect.js";

const HB = "HTTP protocol binding 1.0.2";
const EXT = 'CloudEvents 1.0.2 "Extension Context Attributes"';
/** A String that needs every kind of header encoding: space, quote, percent, non-ASCII. */
const AWKWARD = 'hello "wörld" 100% €😀';

/** Extension attributes pass through unchanged, whichever mode they arrive and leave in. */
export const extensionCases: readonly ConformanceCase[] = [
  {
    name: "extensions: binary in -> binary and structured out, unchanged",
    spec: `${EXT}, ${HB} §3.1.3`,
    async run(ctx) {
      const event = ctx.event({
        comexampleext: AWKWARD,
        comexamplenum: "42",
        comexamplebool: "true",
        comexamplepct: "%",
      });
      await expectAcceptedAndDelivered(ctx, binaryRequest(event), {
        attributes: event,
        data: { absent: true },
      });
    },
  },
  {
    name: "extensions: structured in -> binary and structured out, JSON types kept",
    spec: `${EXT}, JSON event format 1.0.2 §2.2`,
    async run(ctx) {
      const event = ctx.event({
        subject: AWKWARD,
        comexampleext: AWKWARD,
        comexampleint: 5,
        comexampleneg: -7,
        comexamplebool: true,
        comexampleuri: "https://example.com/a?b=c#d",
      });
      // Binary delivery compares canonical strings (5 -> "5"); structured keeps JSON types.
      await expectAcceptedAndDelivered(ctx, structuredRequest(event), {
        attributes: event,
        data: { absent: true },
      });
    },
  },
  {
    name: "extensions: header values are percent-encoded on delivery",
    spec: `${HB} §3.1.3.2 (encoding MUST)`,
    async run(ctx) {
      const event = ctx.event({ subject: AWKWARD, comexampleext: AWKWARD });
      const { binary } = await expectAcceptedAndDelivered(ctx, structuredRequest(event), {
        attributes: event,
        data: { absent: true },
      });
      for (const name of ["subject", "comexampleext"]) {
        const raw = binary.event.rawHeaders[name] ?? "";
        check(isSpecEncoded(raw), `ce-${name} was not percent-encoded as 3.1.3.2 requires: ${raw}`);
      }
    },
  },
  {
    name: "extensions: twenty extensions in one event all pass through",
    spec: EXT,
    async run(ctx) {
      const extensions = Object.fromEntries(
        Array.from({ length: 20 }, (_, i) => [`comexample${i}`, `value ${i}`]),
      );
      const event = ctx.event(extensions);
      await expectAcceptedAndDelivered(ctx, binaryRequest(event), {
        attributes: event,
        data: { absent: true },
      });
    },
  },
];
