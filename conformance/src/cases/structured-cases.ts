import { binaryRequest, structuredRequest } from "../events/requests.js";
import type { ConformanceCase } from "./case.js";
import { expectAcceptedAndDelivered, expectRejected } from "./expect.js";

const HB = "HTTP protocol binding 1.0.2";
const JF = "JSON event format 1.0.2";

/** Structured content mode with the JSON event format (binding 3.2, JSON format 3). */
export const structuredCases: readonly ConformanceCase[] = [
  {
    name: "structured: application/cloudevents+json; charset=UTF-8 accepted and delivered",
    spec: `${HB} §3.2.1, ${JF} §3`,
    async run(ctx) {
      const event = ctx.event({
        datacontenttype: "application/json",
        time: "2018-04-05T17:31:00Z",
      });
      const data = { appinfoA: "abc", appinfoB: 123, appinfoC: true };
      await expectAcceptedAndDelivered(ctx, structuredRequest({ ...event, data }), {
        attributes: event,
        data: { json: data },
      });
    },
  },
  {
    name: "structured: media type compared case-insensitively",
    spec: `${HB} §3 (RFC 9110 §8.3.1)`,
    async run(ctx) {
      const event = ctx.event();
      await expectAcceptedAndDelivered(
        ctx,
        structuredRequest(
          { ...event, data: [1, 2] },
          "Application/CloudEvents+JSON; Charset=utf-8",
        ),
        { attributes: event, data: { json: [1, 2] } },
      );
    },
  },
  {
    name: "structured: data_base64 is delivered as the decoded bytes",
    spec: `${JF} §3.1.2`,
    async run(ctx) {
      const event = ctx.event({ datacontenttype: "application/vnd.apache.thrift.binary" });
      const bytes = Uint8Array.from([0, 1, 2, 253, 254, 255, 10, 13]);
      const data_base64 = Buffer.from(bytes).toString("base64");
      await expectAcceptedAndDelivered(ctx, structuredRequest({ ...event, data_base64 }), {
        attributes: event,
        data: { bytes },
      });
    },
  },
  {
    name: "structured: data_base64 with a JSON datacontenttype is delivered as those bytes",
    spec: `${JF} §3.1.2 (data_base64 MUST be decoded into binary)`,
    async run(ctx) {
      const event = ctx.event({ datacontenttype: "application/json" });
      const bytes = new TextEncoder().encode('{ "spaced" : [1, 2] }\n');
      const data_base64 = Buffer.from(bytes).toString("base64");
      await expectAcceptedAndDelivered(ctx, structuredRequest({ ...event, data_base64 }), {
        attributes: event,
        data: { bytes },
      });
    },
  },
  {
    name: "structured: string data with a non-JSON datacontenttype",
    spec: `${JF} §3.1.2`,
    async run(ctx) {
      const event = ctx.event({ datacontenttype: "text/xml" });
      const data = '<much wow="xml"/> ü';
      await expectAcceptedAndDelivered(ctx, structuredRequest({ ...event, data }), {
        attributes: event,
        data: { bytes: new TextEncoder().encode(data) },
      });
    },
  },
  {
    name: "structured: JSON string data is not parsed again",
    spec: `${JF} §3.1.2`,
    async run(ctx) {
      const event = ctx.event({ datacontenttype: "application/json" });
      const data = '{"looks":"like JSON"}';
      await expectAcceptedAndDelivered(ctx, structuredRequest({ ...event, data }), {
        attributes: event,
        data: { json: data },
      });
    },
  },
  {
    name: "structured: no datacontenttype means JSON data",
    spec: `${JF} §3.1.2`,
    async run(ctx) {
      const event = ctx.event();
      await expectAcceptedAndDelivered(
        ctx,
        structuredRequest({ ...event, data: { a: [1, "x", null] } }),
        { attributes: event, data: { json: { a: [1, "x", null] } } },
      );
    },
  },
  {
    name: "structured: a +json datacontenttype carries data as a JSON value",
    spec: `${JF} §3.1.2 (*/*+json is JSON-formatted content)`,
    async run(ctx) {
      const event = ctx.event({ datacontenttype: "application/vnd.example+json; charset=utf-8" });
      const data = { items: [1, "two", { three: null }] };
      await expectAcceptedAndDelivered(ctx, structuredRequest({ ...event, data }), {
        attributes: event,
        data: { json: data },
      });
    },
  },
  {
    name: "structured: explicit null data is kept, not dropped",
    spec: `${JF} §3.1.1 ("data" null is distinct from the absence of "data")`,
    async run(ctx) {
      const event = ctx.event({ datacontenttype: "application/json" });
      await expectAcceptedAndDelivered(ctx, structuredRequest({ ...event, data: null }), {
        attributes: event,
        data: { json: null },
      });
    },
  },
  {
    name: "structured: ce- headers beside the JSON envelope do not change the event",
    spec: `${HB} §3.2.3 (a structured message MAY also carry the binary-mode headers)`,
    async run(ctx) {
      const event = ctx.event({ subject: "headers too" });
      const data = { mode: "structured" };
      const { headers: ceHeaders } = binaryRequest(event);
      const request = structuredRequest({ ...event, data });
      await expectAcceptedAndDelivered(
        ctx,
        { ...request, headers: { ...ceHeaders, ...request.headers } },
        { attributes: event, data: { json: data } },
      );
    },
  },
  {
    name: "structured: null attribute treated as unset",
    spec: `${JF} §2.2`,
    async run(ctx) {
      const event = ctx.event();
      await expectAcceptedAndDelivered(
        ctx,
        structuredRequest({ ...event, subject: null, time: null, comexampleext: null }),
        { attributes: event, data: { absent: true } },
      );
    },
  },
  {
    name: "structured: both data and data_base64 -> 400",
    spec: `${JF} §3.1.1 (mutually exclusive)`,
    run: (ctx) =>
      expectRejected(
        ctx,
        structuredRequest({ ...ctx.event(), data: "x", data_base64: "eA==" }),
        400,
        {
          anyOf: ["data", "data_base64"],
        },
      ),
  },
  {
    name: "structured: data_base64 that is not Base64 -> 400",
    spec: `${JF} §2.2 (Binary: RFC 4648 Base64)`,
    run: (ctx) =>
      expectRejected(ctx, structuredRequest({ ...ctx.event(), data_base64: "not base64!" }), 400, {
        anyOf: ["data_base64", "data"],
      }),
  },
  {
    name: "structured: unsupported format application/cloudevents+xml -> 415",
    spec: `${HB} §3, HTTP webhook 1.0.2 §2.2 (415)`,
    run: (ctx) =>
      expectRejected(
        ctx,
        structuredRequest(`<event id="${ctx.id()}"/>`, "application/cloudevents+xml"),
        415,
      ),
  },
  {
    name: "structured: body that is not JSON -> 400",
    spec: `${JF} §3`,
    run: (ctx) => expectRejected(ctx, structuredRequest(`{"id":"${ctx.id()}",`), 400),
  },
  {
    name: "structured: JSON that is not an object -> 400",
    spec: `${JF} §3 (an event is a JSON object)`,
    run: (ctx) => expectRejected(ctx, structuredRequest([ctx.event()]), 400),
  },
];
