import { describe, expect, it } from "vitest";
import { DELIVERY_PATH_PREFIXES } from "../src/config/subscriptions.js";
import { runConformance } from "../src/run-conformance.js";
import { inProcessGateway } from "./in-process-gateway.js";

type Json = Record<string, unknown>;
/** Rewrites a subscription the suite creates before Herald sees it: the flaw under test. */
type Flaw = (subscription: Json) => Json;

/**
 * The delivery cases against Herald in process, each behind a flaw a gateway could have, made by
 * rewriting the subscription a case creates (`POST /subscriptions`): no retries, no dead-letter
 * sink, batch mode ignored, every failure treated alike. Each flaw must fail the case about it.
 */
describe("delivery cases", () => {
  const target = inProcessGateway();

  async function results(flaw: Flaw) {
    const report = await runConformance(
      {
        async fetch(req) {
          if (req.method !== "POST" || new URL(req.url).pathname !== "/subscriptions") {
            return target.gateway.fetch(req);
          }
          const body = JSON.stringify(flaw((await req.json()) as Json));
          return target.gateway.fetch(
            new Request(req.url, { method: "POST", headers: req.headers, body }),
          );
        },
      },
      {
        sink: target.sink,
        dataDir: null,
        timeoutMs: 1500,
        only: (n) => n.startsWith("delivery: "),
      },
    );
    expect(report.results.length).toBe(8);
    return Object.fromEntries(report.results.slice(1).map((r) => [r.name, r.message ?? "ok"]));
  }
  const delivery = (s: Json) => (s.delivery ?? {}) as Json;

  it("passes them all without a flaw", async () => {
    expect(Object.values(await results((s) => s))).toEqual(Array(7).fill("ok"));
  });

  it("fails the retry cases when a 5xx, 429 or 408 is not retried", async () => {
    const out = await results((s) => ({ ...s, delivery: { ...delivery(s), retry: 0 } }));
    for (const answer of ["a 5xx", "a 429", "a 408"]) {
      expect(out[`delivery: ${answer} answer is retried, and the event then delivered`]).toMatch(
        /timed out .* a retry of/,
      );
    }
  });

  it("fails the signing case when deliveries are not signed, or signed with another key", async () => {
    const name =
      "delivery: signingSecret signs every delivery (Standard Webhooks webhook-id, -timestamp, -signature)";
    const unsigned = await results((s) => {
      const { signingSecret: _, ...rest } = delivery(s);
      return { ...s, delivery: rest };
    });
    expect(unsigned[name]).toMatch(/no webhook-id header/);
    const otherKey = `whsec_${Buffer.from("another key, 24 bytes!!!").toString("base64")}`;
    const wrong = await results((s) =>
      delivery(s).signingSecret === undefined
        ? s
        : { ...s, delivery: { ...delivery(s), signingSecret: otherKey } },
    );
    expect(wrong[name]).toMatch(/webhook-signature .* has no v1,/);
  });

  it("fails the dead-letter cases when the event is not dead-lettered", async () => {
    const out = await results((s) => {
      const { deadLetterSink: _, ...rest } = delivery(s);
      return { ...s, delivery: rest };
    });
    const failed = Object.entries(out).filter(([, m]) => m !== "ok");
    expect(failed.map(([n]) => n)).toEqual([
      "delivery: a 400 is not retried; the event goes to the dead-letter sink with heralderror* attributes",
      "delivery: after the last retry of a 5xx, the event goes to the dead-letter sink with heralderror* attributes",
    ]);
    for (const [, m] of failed) expect(m).toMatch(/timed out .*dead-letter/);
  });

  it("fails the 400 case when a refused delivery is retried like a 5xx", async () => {
    // The sink moved to one that answers 500: retried, so the sink sees more than one attempt.
    const out = await results((s) => ({
      ...s,
      sink: String(s.sink).replace(
        DELIVERY_PATH_PREFIXES.rejecting,
        DELIVERY_PATH_PREFIXES.failing,
      ),
    }));
    expect(
      out[
        "delivery: a 400 is not retried; the event goes to the dead-letter sink with heralderror* attributes"
      ],
    ).toMatch(/heralderrordest|heralderrorcode|attempts/);
  });

  it("fails the batch case when mode batch is delivered one event at a time", async () => {
    const out = await results((s) => ({ ...s, delivery: { ...delivery(s), mode: "structured" } }));
    expect(out["delivery: mode batch delivers in the JSON batch format"]).toMatch(
      /came as application\/cloudevents\+json/,
    );
  });
});
