import { describe, expect, it } from "vitest";
import { runExample } from "./run.js";

describe("tractor-state-transfer example", () => {
  it("a worn part is ordered from the event's payload alone; a fine reading sends nothing", async () => {
    const { fine, worn, order, orders } = await runExample();
    expect(fine).toBeUndefined();
    expect(worn.source).toBe("/tractors/tractor-7");
    expect(orders).toEqual([order]);
    expect(order).toEqual({
      orderNo: "PO-1",
      eventId: worn.id,
      sku: "HX-2210",
      description: "hydraulic filter",
      quantity: 1,
      shipTo: "Hof Lindenau (52.41, 9.73)",
      forTractor: "tractor-7",
    });
  });
});
