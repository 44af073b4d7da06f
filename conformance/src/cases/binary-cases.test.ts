import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SINK_PATHS } from "../config/subscriptions.js";
import { decodeHeaderValue, percentEncode } from "../http/percent-encoding.js";
import { runConformance } from "../run-conformance.js";
import { type SinkServer, startSink } from "../sink/sink-server.js";

const MALFORMED = [
  "binary: malformed percent-encoding (%zz) -> 400, or kept as sent",
  "binary: unterminated quoted-string -> 400, or kept as sent",
];

/**
 * A binary-mode relay that delivers each event to both catch-alls. `onMalformed` says what it
 * does with a header value it cannot decode: refuse the request, keep the raw text, or drop the
 * attribute (which no reading of 3.1.3.2 allows).
 */
function relay(sinkUrl: string, onMalformed: "refuse" | "keep" | "drop") {
  return async (req: Request): Promise<Response> => {
    const event: Record<string, string> = {};
    for (const [name, raw] of req.headers) {
      if (!name.startsWith("ce-")) continue;
      try {
        event[name.slice(3)] = decodeHeaderValue(raw);
      } catch {
        if (onMalformed === "refuse") {
          const problem = {
            type: "about:blank",
            title: "Bad Request",
            status: 400,
            detail: `${name} is malformed`,
            code: "invalid_event",
            attributes: [name.slice(3)],
          };
          return Response.json(problem, {
            status: 400,
            headers: { "content-type": "application/problem+json" },
          });
        }
        if (onMalformed === "keep") event[name.slice(3)] = raw;
      }
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(event)) headers[`ce-${k}`] = percentEncode(v);
    await fetch(`${sinkUrl}${SINK_PATHS.binary}`, { method: "POST", headers });
    await fetch(`${sinkUrl}${SINK_PATHS.structured}`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify(event),
    });
    return new Response(null, { status: 202 });
  };
}

describe("binary cases: a header value that is no valid encoding", () => {
  let sink: SinkServer;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(() => sink.close());

  const outcomes = async (onMalformed: "refuse" | "keep" | "drop") => {
    const report = await runConformance(
      { fetch: relay(sink.url, onMalformed) },
      { sink, dataDir: null, timeoutMs: 2000, only: (n) => MALFORMED.includes(n) },
    );
    return report.results.slice(1).map((r) => [r.name, r.ok]);
  };

  it("passes a gateway that refuses it with a 400 naming the attribute", async () => {
    expect(await outcomes("refuse")).toEqual(MALFORMED.map((n) => [n, true]));
  });

  it("passes a gateway that keeps the text as sent (3.1.3.2 gives no outcome)", async () => {
    expect(await outcomes("keep")).toEqual(MALFORMED.map((n) => [n, true]));
  });

  it("fails a gateway that accepts it and delivers something else", async () => {
    expect(await outcomes("drop")).toEqual(MALFORMED.map((n) => [n, false]));
  });
});
