import { describe, expect, it } from "vitest";
import { runExample } from "./run.js";

describe("dead-letter-redrive example", () => {
  it("retries, dead-letters with the reason, keeps as dead and redrives once the sink is back", async () => {
    const { billing, deadLetter, dead, redrive, shipped, deadAfter } = await runExample();

    // retry: 3 -> four attempts, each answered 503, then one send to the dead-letter sink.
    expect(billing.map((r) => r.status)).toEqual([503, 503, 503, 503]);
    expect(billing.every((r) => r.event.id === "order-1")).toBe(true);
    // Binary mode (the default): every attribute travels as a ce-* header, so the two Integers
    // (heralderrorcode, heraldattempts) arrive as their text.
    expect(deadLetter.event).toMatchObject({
      id: "order-1",
      type: "com.example.order.created",
      data: { total: 42 },
      heralderrordest: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/billing$/),
      heralderrorcode: "503",
      heralderrordata: expect.stringContaining("down for maintenance"),
      heraldattempts: "4",
      authid: "orders",
    });

    // No dead-letter sink: kept as dead, listed with its failure.
    expect(dead.items).toHaveLength(1);
    expect(dead.items[0]).toMatchObject({
      attempts: 3,
      failure: { status: 503, error: expect.stringContaining("down for maintenance") },
      event: { id: "order-2", type: "com.example.order.paid" },
    });
    expect(redrive).toEqual({ redriven: 1 });
    expect(shipped).toMatchObject({ status: 204, event: { id: "order-2", data: { total: 42 } } });
    expect(deadAfter.items).toEqual([]);
  });
});
