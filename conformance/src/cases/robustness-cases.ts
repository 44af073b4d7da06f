import { gzipSync } from "node:zlib";
import { binaryRequest, EVENTS_PATH } from "../events/requests.js";
import type { GatewayRequest } from "../target.js";
import type { CaseContext, ConformanceCase } from "./case.js";
import { expectDelivered, expectNeverDelivered, expectProblem, isAccepted } from "./expect.js";

const SURFACE = 'DESIGN.md "HTTP surface" (problem+json, never a 5xx for bad input)';

/** Garbage in: any 4xx problem is fine, a 5xx or a non-problem answer is not. */
function garbage(name: string, build: (ctx: CaseContext) => GatewayRequest): ConformanceCase {
  return {
    name: `robustness: ${name} -> 4xx problem, no 5xx`,
    spec: SURFACE,
    async run(ctx) {
      const res = await ctx.send(build(ctx));
      expectProblem(res, res.status >= 400 && res.status < 500 ? res.status : 400);
      await expectNeverDelivered(ctx);
    },
  };
}

const post = (contentType: string, body: Uint8Array | string): GatewayRequest => ({
  method: "POST",
  path: EVENTS_PATH,
  headers: { "Content-Type": contentType },
  body,
});

/**
 * A compressed binary-mode body (`Content-Encoding: gzip`): a gateway may decode it (then the sink
 * gets the JSON) or refuse it with a 4xx problem (Herald: 415, RFC 9110 15.5.16), but passing the
 * compressed bytes on as the event's `application/json` data corrupts it.
 */
const compressedBody: ConformanceCase = {
  name: "robustness: gzip binary body is decoded or refused, never passed on compressed",
  spec: `${SURFACE}; RFC 9110 §8.4, §15.5.16`,
  async run(ctx) {
    const event = ctx.event({ datacontenttype: "application/json", subject: "gzip" });
    const json = `{"token":"${ctx.token}"}`;
    const res = await ctx.send(
      binaryRequest(event, {
        body: new Uint8Array(gzipSync(json)),
        headers: { "Content-Encoding": "gzip" },
      }),
    );
    if (isAccepted(res.status)) {
      await expectDelivered(ctx, { attributes: event, data: { json: JSON.parse(json) } });
      return;
    }
    expectProblem(res, res.status >= 400 && res.status < 500 ? res.status : 415);
    await expectNeverDelivered(ctx);
  },
};

/** Malformed requests of every kind; the gateway must answer each with a client error. */
export const robustnessCases: readonly ConformanceCase[] = [
  compressedBody,
  garbage("empty structured body", () => post("application/cloudevents+json", "")),
  garbage("structured body that is not UTF-8", () =>
    post("application/cloudevents+json", Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])),
  ),
  garbage("structured JSON null", () => post("application/cloudevents+json", "null")),
  garbage("structured envelope with deeply nested attributes", (ctx) =>
    post(
      "application/cloudevents+json",
      `{"id":"${ctx.id()}","comexampledeep":${"[".repeat(5000)}${"]".repeat(5000)}}`,
    ),
  ),
  garbage("batch that is not JSON", (ctx) =>
    post("application/cloudevents-batch+json", `[{"id":"${ctx.id()}"`),
  ),
  garbage("batch JSON null", () => post("application/cloudevents-batch+json", "null")),
  garbage("batch of nulls", () => post("application/cloudevents-batch+json", "[null,null]")),
  garbage("unknown CloudEvents batch format", (ctx) =>
    post("application/cloudevents-batch+xml", `<batch id="${ctx.id()}"/>`),
  ),
  garbage("binary request without any ce- header", () => post("application/json", "{}")),
  garbage("binary request whose attributes are all empty", (ctx) =>
    binaryRequest(
      { specversion: "", id: "", source: "", type: "" },
      { headers: { "ce-subject": ctx.id() } },
    ),
  ),
];
