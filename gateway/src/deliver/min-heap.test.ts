import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MinHeap } from "./min-heap.js";

describe("MinHeap", () => {
  it("pops records in order of `at`", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 })), (values) => {
        const heap = new MinHeap<{ at: number }>();
        for (const at of values) heap.push({ at });
        expect(heap.size).toBe(values.length);
        const popped: number[] = [];
        for (let item = heap.pop(); item !== undefined; item = heap.pop()) popped.push(item.at);
        expect(popped).toEqual([...values].sort((a, b) => a - b));
        expect(heap.peek()).toBeUndefined();
      }),
    );
  });

  it("keeps order across interleaved pushes and pops, and after filter", () => {
    const heap = new MinHeap<{ at: number; id: string }>();
    heap.push({ at: 5, id: "a" });
    heap.push({ at: 1, id: "b" });
    expect(heap.pop()?.id).toBe("b");
    heap.push({ at: 3, id: "c" });
    heap.push({ at: 4, id: "d" });
    heap.filter((item) => item.id !== "c");
    expect([heap.pop()?.id, heap.pop()?.id, heap.pop()]).toEqual(["d", "a", undefined]);
  });
});
