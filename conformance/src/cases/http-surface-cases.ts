import { batchRequest, binaryRequest, EVENTS_PATH, structuredRequest } from "../events/requests.js";
import { type ConformanceCase, check } from "./case.js";
import {
  describe,
  expectAcceptedAndDelivered,
  expectDelivered,
  expectProblem,
  expectRejected,
} from "./expect.js";

const WH = "HTTP webhook 1.0.2";
const SURFACE = 'DESIGN.md "HTTP surface"';
const ORIGIN = "conformance.herald.example";

function allowsPost(allow: string | null): boolean {
  return (allow ?? "").split(",").some((m) => m.trim().toUpperCase() === "POST");
}

/**
 * DESIGN.md lists only `POST` on `/events`, and RFC 9110 lets a server answer another method
 * there with 405 (§15.5.6, then with an `Allow` header) or 404 (§15.5.5: the server need not say
 * the resource exists for that method). Either is a problem document; a 405 must list `POST`.
 */
function methodNotAllowed(method: string): ConformanceCase {
  return {
    name: `http: ${method} /events -> 405 with Allow (or 404)`,
    spec: `${SURFACE} (only POST; errors are problems), RFC 9110 §15.5.6 (405 MUST send Allow), §15.5.5`,
    async run(ctx) {
      const res = await ctx.send({ method, path: EVENTS_PATH });
      expectProblem(res, res.status === 404 ? 404 : 405);
      if (res.status === 404) return;
      check(
        allowsPost(res.headers.get("allow")),
        `Allow does not list POST: ${res.headers.get("allow")}`,
      );
    },
  };
}

function handshake(path: string, rate: string | undefined): ConformanceCase {
  return {
    name: `http: OPTIONS ${path} abuse-protection handshake${rate ? " with WebHook-Request-Rate" : ""}`,
    spec: `${WH} §4.2`,
    async run(ctx) {
      const headers: Record<string, string> = { "WebHook-Request-Origin": ORIGIN };
      if (rate) headers["WebHook-Request-Rate"] = rate;
      const res = await ctx.send({ method: "OPTIONS", path, headers });
      // 4.2 makes the headers, not the status, the consent; Herald answers 200, any 2xx is read.
      check(res.status >= 200 && res.status < 300, `expected 200, got ${describe(res)}`);
      const origin = res.headers.get("webhook-allowed-origin");
      check(origin === ORIGIN || origin === "*", `WebHook-Allowed-Origin is ${origin}`);
      // 4.2 says the answer SHOULD have an Allow that permits POST: one that is there must.
      const allow = res.headers.get("allow");
      check(allow === null || allowsPost(allow), `Allow does not list POST: ${allow}`);
      if (rate) {
        const allowed = res.headers.get("webhook-allowed-rate") ?? "";
        check(
          allowed === "*" || /^[1-9][0-9]*$/.test(allowed),
          `WebHook-Allowed-Rate must be returned as * or a positive integer (4.2.2), got "${allowed}"`,
        );
      }
    },
  };
}

/** The gateway's HTTP surface beyond event parsing. */
export const httpSurfaceCases: readonly ConformanceCase[] = [
  {
    name: "http: POST / (binary) works like POST /events",
    spec: SURFACE,
    async run(ctx) {
      const event = ctx.event();
      await expectAcceptedAndDelivered(ctx, binaryRequest(event, { path: "/" }), {
        attributes: event,
        data: { absent: true },
      });
    },
  },
  {
    name: "http: POST / (structured) works like POST /events",
    spec: SURFACE,
    async run(ctx) {
      const event = ctx.event();
      await expectAcceptedAndDelivered(
        ctx,
        structuredRequest({ ...event, data: 1 }, undefined, "/"),
        {
          attributes: event,
          data: { json: 1 },
        },
      );
    },
  },
  {
    // The only case that asks for exactly 202: HTTP webhook 1.0.2 §2.2 also lets a target that
    // has processed the delivery answer 200, 201 or 204, which every other case accepts, so a
    // gateway that chose one of those fails here alone, under DESIGN.md's name.
    name: "http: an accepted event gets 202 in binary, structured and batch mode",
    spec: `${SURFACE} (202 when every event is accepted, i.e. durably stored); ${WH} §2.2 (202: accepted, not yet processed)`,
    async run(ctx) {
      const events = [ctx.event(), ctx.event(), ctx.event(), ctx.event()];
      const requests = {
        binary: binaryRequest(events[0]!),
        structured: structuredRequest(events[1]!),
        batch: batchRequest(events.slice(2)),
      };
      for (const [mode, request] of Object.entries(requests)) {
        const res = await ctx.send(request);
        check(res.status === 202, `${mode} mode: expected 202, got ${describe(res)}`);
      }
      for (const event of events)
        await expectDelivered(ctx, { attributes: event, data: { absent: true } });
    },
  },
  methodNotAllowed("GET"),
  methodNotAllowed("PUT"),
  methodNotAllowed("DELETE"),
  handshake(EVENTS_PATH, undefined),
  handshake(EVENTS_PATH, "120"),
  handshake("/", undefined),
  ...["/healthz", "/readyz"].map(
    (path): ConformanceCase => ({
      // DESIGN.md names the endpoints, not a status: any 2xx is healthy, as probes read it.
      name: `http: GET ${path} -> 2xx`,
      spec: `${SURFACE} (GET /healthz, GET /readyz)`,
      async run(ctx) {
        const res = await ctx.send({ method: "GET", path });
        check(res.status >= 200 && res.status < 300, `expected a 2xx, got ${describe(res)}`);
      },
    }),
  ),
  {
    name: "http: unknown path -> 404 problem",
    spec: `${SURFACE} (404)`,
    run: (ctx) => expectRejected(ctx, binaryRequest(ctx.event(), { path: "/no-such-path" }), 404),
  },
];
