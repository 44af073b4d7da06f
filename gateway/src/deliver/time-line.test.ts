import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TimeLine } from "./time-line.js";

describe("TimeLine", () => {
  it("pops in time order whatever order records arrive in", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 1_000 }), fc.constant(-1)), {
          maxLength: 300,
        }),
        (ops) => {
          // -1 pops; anything else pushes a record due then.
          const line = new TimeLine<{ at: number }>();
          const model: number[] = [];
          for (const op of ops) {
            if (op === -1) {
              model.sort((a, b) => a - b);
              expect(line.pop()?.at).toBe(model.shift());
            } else {
              line.push({ at: op });
              model.push(op);
            }
            expect(line.size).toBe(model.length);
            expect(line.peek()?.at).toBe(model.length === 0 ? undefined : Math.min(...model));
          }
        },
      ),
    );
  });

  it("keeps only what filter accepts, still in order", () => {
    const line = new TimeLine<{ at: number }>();
    for (const at of [1, 2, 3, 4, 5, 0, 2.5]) line.push({ at });
    line.filter((item) => item.at !== 2 && item.at !== 0);
    const popped: number[] = [];
    for (let item = line.pop(); item !== undefined; item = line.pop()) popped.push(item.at);
    expect(popped).toEqual([1, 2.5, 3, 4, 5]);
  });

  it("stays in order across many records consumed from the front", () => {
    const line = new TimeLine<{ at: number }>();
    for (let i = 0; i < 5_000; i++) line.push({ at: i });
    for (let i = 0; i < 4_000; i++) expect(line.pop()?.at).toBe(i);
    line.push({ at: 10 });
    expect(line.pop()?.at).toBe(10);
    expect(line.pop()?.at).toBe(4_000);
    expect(line.size).toBe(999);
  });
});
