import { describe, expect, it } from "vitest";
import { createProducer } from "./producer.js";

interface PartOrder {
  readonly sku: string;
  readonly quantity: number;
}

describe("stateTransfer", () => {
  const requests: Request[] = [];
  const producer = createProducer({
    endpoint: "http://gateway.test/events",
    source: "/tractors/tractor-7",
    fetch: async (input, init) => {
      requests.push(new Request(input, init));
      return new Response(null, { status: 202 });
    },
  });

  it("state that may be missing is a compile error; missing, a TypeError before sending", async () => {
    const found = new Map<string, PartOrder>([["t7", { sku: "HX-2210", quantity: 1 }]]);
    const order = found.get("t8"); // PartOrder | undefined
    // @ts-expect-error: the state may be undefined; a state transfer must carry it
    const missing = producer.stateTransfer({ type: "com.example.part.ordered", data: order });
    await expect(missing).rejects.toThrow(
      new TypeError("stateTransfer: data is the state the consumer needs; it is required"),
    );
    // @ts-expect-error: no state at all
    const none = producer.stateTransfer({ type: "com.example.part.ordered", data: undefined });
    await expect(none).rejects.toThrow(TypeError);
    expect(requests).toEqual([]);
    // Any state goes: an object, null, a string, bytes.
    await producer.stateTransfer({ type: "com.example.part.ordered", data: found.get("t7")! });
    await producer.stateTransfer({ type: "com.example.part.cleared", data: null });
    await producer.stateTransfer({ type: "com.example.part.note", data: "ok" });
    await producer.stateTransfer({ type: "com.example.part.raw", data: new Uint8Array([1]) });
    expect(requests).toHaveLength(4);
  });
});
