import { describe, expect, it } from "vitest";
import type { DeadJob } from "./delivery-queue.js";
import { MemoryDeadSet } from "./memory-dead-set.js";

const job = (id: number): DeadJob => {
  const failure = { status: 400, error: "got 400", at: 0 };
  const event = { attributes: { specversion: "1.0", id: String(id), source: "/s", type: "t" } };
  return {
    id: String(id),
    subscriptionId: "sub",
    event,
    attempts: 1,
    lastFailure: failure,
    failure,
  };
};
const ids = (set: MemoryDeadSet, from = 0) => [...set.after(from)].map((j) => Number(j.id));

describe("MemoryDeadSet", () => {
  it("reads in id order whatever the order of burial, from any place", () => {
    const set = new MemoryDeadSet();
    for (const id of [5, 1, 9, 3, 7]) set.add(job(id));
    expect(ids(set)).toEqual([1, 3, 5, 7, 9]);
    expect(ids(set, 3)).toEqual([5, 7, 9]);
    expect(ids(set, 4)).toEqual([5, 7, 9]);
    expect(ids(set, 9)).toEqual([]);
    set.add(job(2));
    expect(ids(set, 1)).toEqual([2, 3, 5, 7, 9]);
    expect(set.ids()).toEqual(["1", "2", "3", "5", "7", "9"]);
  });

  it("skips removed jobs and lists a job buried again (after a redrive) once", () => {
    const set = new MemoryDeadSet();
    for (let id = 1; id <= 6; id++) set.add(job(id));
    expect(set.delete("2")).toBe(true);
    expect(set.delete("2")).toBe(false);
    set.delete("6");
    expect(ids(set)).toEqual([1, 3, 4, 5]);
    // Redriven and dead again, out of order and at the end.
    set.delete("3");
    set.add(job(3));
    set.delete("5");
    set.add(job(5));
    set.add(job(5));
    expect(ids(set)).toEqual([1, 3, 4, 5]);
    expect(set.size).toBe(4);
    expect(set.get("5")?.id).toBe("5");
    expect(set.has("6")).toBe(false);
  });

  it("names its newest job, buried in or out of order, removed ones passed over", () => {
    const set = new MemoryDeadSet();
    expect(set.newestId()).toBe(0);
    for (const id of [5, 1, 9, 3]) set.add(job(id));
    expect(set.newestId()).toBe(9);
    set.delete("9");
    set.delete("5");
    expect(set.newestId()).toBe(3);
    set.add(job(4));
    expect(set.newestId()).toBe(4);
    set.delete("1");
    set.delete("3");
    set.delete("4");
    expect(set.newestId()).toBe(0);
  });

  it("stays right through many removals and burials (compaction)", () => {
    const set = new MemoryDeadSet();
    const model = new Set<number>();
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed % n;
    };
    for (let step = 0; step < 20_000; step++) {
      const id = 1 + random(3_000);
      if (random(3) === 0) {
        expect(set.delete(String(id))).toBe(model.delete(id));
      } else {
        set.add(job(id));
        model.add(id);
      }
      if (step % 1_000 === 0) {
        const from = random(3_000);
        expect(ids(set, from)).toEqual([...model].filter((i) => i > from).sort((a, b) => a - b));
      }
    }
    expect(ids(set)).toEqual([...model].sort((a, b) => a - b));
    set.clear();
    expect(ids(set)).toEqual([]);
    expect(set.size).toBe(0);
  });
});
