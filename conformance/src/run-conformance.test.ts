import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SINK_PATHS } from "./config/subscriptions.js";
import { decodeHeaderValue, percentEncode } from "./http/percent-encoding.js";
import { formatSummary, NOT_RUN_UNANSWERED, UNANSWERED_LIMIT } from "./report.js";
import { runConformance } from "./run-conformance.js";
import { type SinkServer, startSink } from "./sink/sink-server.js";

/**
 * A toy relay that understands binary mode only, without validation: it delivers each event to
 * the two catch-all sinks. Enough to exercise the runner end to end; it fails most cases.
 */
function toyRelay(sinkUrl: string, status = 202) {
  return async (req: Request): Promise<Response> => {
    const attributes: Record<string, string> = {};
    req.headers.forEach((value, name) => {
      if (name.startsWith("ce-")) attributes[name.slice(3)] = decodeHeaderValue(value);
    });
    const body = new Uint8Array(await req.arrayBuffer());
    const contentType = req.headers.get("content-type");
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(attributes)) headers[`ce-${k}`] = percentEncode(v);
    if (contentType) headers["content-type"] = contentType;
    const envelope = { ...attributes, ...(contentType ? { datacontenttype: contentType } : {}) };
    await fetch(`${sinkUrl}${SINK_PATHS.binary}`, { method: "POST", headers, body });
    await fetch(`${sinkUrl}${SINK_PATHS.structured}`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify(
        body.byteLength
          ? { ...envelope, data_base64: Buffer.from(body).toString("base64") }
          : envelope,
      ),
    });
    return new Response(null, { status });
  };
}

describe("runConformance", () => {
  let sink: SinkServer;
  beforeAll(async () => {
    sink = await startSink();
  });
  afterAll(() => sink.close());

  it("stops after a failed setup check and reports every case as not run", async () => {
    const report = await runConformance(
      { fetch: async () => new Response("boom", { status: 500 }) },
      { sink, dataDir: null },
    );
    expect(report.passed).toBe(0);
    expect(report.results[0]).toMatchObject({
      ok: false,
      message: expect.stringMatching(/expected 202 \(or 200, 201, 204\), got 500 boom/),
    });
    expect(
      report.results.slice(1).every((r) => r.message === "not run: the setup check failed"),
    ).toBe(true);
    expect(report.failed).toBe(report.results.length);
  });

  it("explains a target that accepts but never delivers", async () => {
    const report = await runConformance(
      { fetch: async () => new Response(null, { status: 202 }) },
      { sink, dataDir: null, timeoutMs: 50, only: () => false },
    );
    expect(report.results).toHaveLength(1);
    expect(report.results[0]?.message).toMatch(/timed out after 50 ms.*conformanceSubscriptions/s);
    // A CLI user whose config names a fixed port but who left --sink-port out learns why.
    expect(report.results[0]?.message).toMatch(/--sink-port/);
  });

  it("names what differs, without the config hint, when the setup event arrives changed", async () => {
    // Routing works (both catch-alls get the event), so "is the target configured ...?" would
    // send the reader after the wrong problem: the event gains data on the way.
    const relay = toyRelay(sink.url);
    const report = await runConformance(
      {
        fetch: (req) =>
          relay(new Request(req.url, { method: "POST", headers: req.headers, body: "surprise" })),
      },
      { sink, dataDir: null, timeoutMs: 2000, only: () => false },
    );
    expect(report.results[0]?.ok).toBe(false);
    expect(report.results[0]?.message).toMatch(/delivery differs/);
    expect(report.results[0]?.message).not.toMatch(/conformanceSubscriptions/);
  });

  it("passes what a relay gets right and fails what it gets wrong", async () => {
    const names = [
      "binary: event accepted and delivered unchanged in both modes",
      "binary: ce- header names are case-insensitive",
      "binary: percent-decoding is exactly one pass (%2541 -> %41)",
      "binary: overlong UTF-8 after decoding (%C0%A0) -> 400",
      "http: GET /events -> 405 with Allow (or 404)",
    ];
    const seen: string[] = [];
    const relay = toyRelay(sink.url);
    const report = await runConformance(
      {
        fetch: async (req) => {
          if (req.method !== "POST") return new Response(null, { status: 404 });
          try {
            return await relay(req);
          } catch {
            return new Response(null, { status: 500 });
          }
        },
      },
      {
        sink,
        dataDir: null,
        timeoutMs: 2000,
        only: (n) => names.includes(n),
        onResult: (r) => seen.push(r.name),
      },
    );
    const outcome = Object.fromEntries(report.results.map((r) => [r.name, r.ok]));
    expect(outcome).toEqual({
      "setup: the target accepts an event and delivers it to the conformance sink": true,
      [names[0]!]: true,
      [names[1]!]: true,
      [names[2]!]: true,
      [names[3]!]: false,
      [names[4]!]: false,
    });
    expect(report.results.find((r) => r.name === names[3])?.message).toMatch(/server error/);
    expect(seen).toEqual(report.results.map((r) => r.name));
  });

  it.each([200, 204])(
    "takes a %i for an accepted event everywhere but the one case that checks DESIGN.md's 202",
    async (status) => {
      // HTTP webhook 1.0.2 §2.2 lets a target that processed the delivery answer 200, 201 or 204;
      // only DESIGN.md fixes 202, so a gateway that chose another must fail that case alone.
      const names = [
        "binary: event accepted and delivered unchanged in both modes",
        "binary: ce- header names are case-insensitive",
        "http: an accepted event gets 202 in binary, structured and batch mode",
      ];
      const relay = toyRelay(sink.url, status);
      const report = await runConformance(
        { fetch: (req) => relay(req) },
        { sink, dataDir: null, timeoutMs: 2000, only: (n) => names.includes(n) },
      );
      const outcome = Object.fromEntries(report.results.map((r) => [r.name, r.ok]));
      expect(outcome).toEqual({
        "setup: the target accepts an event and delivers it to the conformance sink": true,
        [names[0]!]: true,
        [names[1]!]: true,
        [names[2]!]: false,
      });
      expect(report.results.find((r) => r.name === names[2])?.message).toMatch(
        new RegExp(`binary mode: expected 202, got ${status}`),
      );
    },
  );

  it("stops sending once the target stopped answering, and says so", async () => {
    const relay = toyRelay(sink.url);
    let answered = 0;
    const report = await runConformance(
      {
        // Passes the setup check, then never answers again.
        fetch: (req) => (answered++ === 0 ? relay(req) : new Promise<Response>(() => {})),
      },
      // Room for the relay's first answer on a loaded machine (it posts to the sink first).
      { sink, dataDir: null, timeoutMs: 2000, requestTimeoutMs: 1000 },
    );
    const [setup, ...cases] = report.results;
    expect(setup?.ok).toBe(true);
    const ran = cases.filter((r) => r.message !== NOT_RUN_UNANSWERED);
    expect(ran).toHaveLength(UNANSWERED_LIMIT);
    for (const r of ran) expect(r.message).toMatch(/no response within 1000 ms/);
    expect(cases.length).toBeGreaterThan(UNANSWERED_LIMIT + 10);
    expect(report.passed).toBe(1);
    expect(formatSummary(report)).toContain(
      `${cases.length - UNANSWERED_LIMIT} not run: the target stopped answering`,
    );
  });

  it("reports unreadable official data as one failure", async () => {
    const report = await runConformance(
      { fetch: async () => new Response(null, { status: 500 }) },
      { sink, dataDir: "/nonexistent/conformance-data", only: (n) => n.startsWith("official") },
    );
    expect(report.results.map((r) => r.name)).toContain(
      "official: load the cloudevents/conformance data",
    );
  });
});
