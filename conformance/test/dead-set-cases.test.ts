import { createGateway, parseConfig } from "@herald/gateway";
import { describe, expect, it } from "vitest";
import { DEFAULT_PUBLISHER_SUB } from "../src/auth/conformance-auth.js";
import { conformanceConfigYaml } from "../src/config/conformance-config.js";
import { formatReport } from "../src/report.js";
import { runConformance } from "../src/run-conformance.js";
import { startSink } from "../src/sink/sink-server.js";
import { inProcessGateway } from "./in-process-gateway.js";
import { createTestIssuer } from "./test-issuer.js";

const ONE =
  "herald: dead set: GET .../dead/{jobId} -> 200, the item GET .../dead lists; HEAD the same without a body; 404 once deleted";
const NONE =
  "herald: dead set: GET .../dead/{jobId} of an unknown job, text that is no job id, or an unknown subscription -> 404 problem";

/** A flaw a gateway could have, made by answering some requests in its place. */
type Flaw = (req: Request, real: (req: Request) => Promise<Response>) => Promise<Response>;

/**
 * The dead-set cases against Herald in process, as they are and behind flaws a gateway could
 * have: no `GET` of one dead delivery (Herald before it, 405), another shape than the page's
 * item, a 500 for text that is no job id. Each flaw must fail the case about it.
 */
describe("dead-set cases", () => {
  const target = inProcessGateway();
  const oneJob = (req: Request) =>
    req.method === "GET" && /^\/subscriptions\/[^/]+\/dead\/[^/]+$/.test(new URL(req.url).pathname);

  async function results(flaw: Flaw = (req, real) => real(req)) {
    const real = (req: Request) => target.gateway.fetch(req);
    const report = await runConformance(
      { fetch: (req) => flaw(req, real) },
      {
        sink: target.sink,
        dataDir: null,
        timeoutMs: 1500,
        only: (n) => n.startsWith("herald: dead set: "),
      },
    );
    // The setup check, then the two cases of a target without auth.
    expect(report.results).toHaveLength(3);
    return Object.fromEntries(report.results.slice(1).map((r) => [r.name, r.message ?? "ok"]));
  }

  it("passes them all without a flaw", async () => {
    expect(await results()).toStrictEqual({ [ONE]: "ok", [NONE]: "ok" });
  });

  it("fails the read case when GET of one dead delivery is not allowed (405)", async () => {
    const out = await results((req, real) =>
      oneJob(req)
        ? Promise.resolve(
            Response.json(
              {
                type: "about:blank",
                title: "Method not allowed",
                status: 405,
                detail: "GET",
                code: "method_not_allowed",
              },
              { status: 405, headers: { "content-type": "application/problem+json" } },
            ),
          )
        : real(req),
    );
    expect(out[ONE]).toMatch(/expected 200, got 405/);
  });

  it("fails the read case when the answer is not the page's item", async () => {
    const out = await results(async (req, real) => {
      const res = await real(req);
      if (!oneJob(req) || res.status !== 200) return res;
      const { event: _, ...rest } = (await res.json()) as Record<string, unknown>;
      return Response.json(rest);
    });
    expect(out[ONE]).toMatch(/is not the item the dead page lists/);
  });

  it("fails the 404 case when text that is no job id gets a 500", async () => {
    const out = await results((req, real) =>
      oneJob(req) && new URL(req.url).pathname.includes("not%20a%20job")
        ? Promise.resolve(new Response("boom", { status: 500 }))
        : real(req),
    );
    expect(out[NONE]).toMatch(/server error/);
    expect(out[ONE]).toBe("ok");
  });
});

describe("dead-set cases with auth on", () => {
  it("pass with an admin token apart from the publisher's: 401 without a token, 403 with the publisher's", async () => {
    const target = await startSink();
    const issuer = await createTestIssuer();
    const adminSub = `${DEFAULT_PUBLISHER_SUB}-admin`;
    const gw = createGateway({
      config: parseConfig(
        conformanceConfigYaml(target.url, { auth: { ...issuer, adminSub } }),
        "auth.yaml",
      ),
    });
    gw.start();
    try {
      const report = await runConformance(
        { fetch: (r) => gw.fetch(r) },
        {
          sink: target,
          dataDir: null,
          auth: {
            token: await issuer.mint(DEFAULT_PUBLISHER_SUB),
            adminToken: await issuer.mint(adminSub),
          },
          only: (name) => name.startsWith("herald: dead set: "),
        },
      );
      expect(report.failed, formatReport(report)).toBe(0);
      expect(report.results.map((r) => r.name)).toEqual(
        expect.arrayContaining([
          ONE,
          NONE,
          "herald: dead set: GET .../dead/{jobId} without a token -> 401 with a Bearer challenge",
          "herald: dead set: GET .../dead/{jobId} with a publisher's token without an admin rule -> 403",
        ]),
      );
    } finally {
      await gw.stop();
      await target.close();
    }
  });
});
