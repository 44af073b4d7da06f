import { describe, expect, it } from "vitest";
import { createTurnBatch } from "./turn-batch.js";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("createTurnBatch", () => {
  it("starts the work of one turn together at its end, in the order asked, and passes results on", async () => {
    const inTurn = createTurnBatch();
    const started: string[] = [];
    const work = (name: string) => () => {
      started.push(name);
      return Promise.resolve(name.toUpperCase());
    };
    const a = inTurn(work("a"));
    const b = inTurn(work("b"));
    // Not started while the turn that asked is still running, microtasks included.
    await Promise.resolve();
    expect(started).toEqual([]);
    const c = inTurn(work("c"));
    expect(await Promise.all([a, b, c])).toEqual(["A", "B", "C"]);
    expect(started).toEqual(["a", "b", "c"]);
  });

  it("starts everything of a turn within one callback, before the next turn's", async () => {
    const inTurn = createTurnBatch();
    const seen: string[] = [];
    const first = [inTurn(async () => seen.push("1a")), inTurn(async () => seen.push("1b"))];
    // setImmediate callbacks run in order: this one comes after the batch of the first turn.
    setImmediate(() => seen.push("between"));
    await Promise.all(first);
    const second = inTurn(async () => seen.push("2"));
    await second;
    expect(seen).toEqual(["1a", "1b", "between", "2"]);
  });

  it("runs work asked for by work of the batch in a later turn", async () => {
    const inTurn = createTurnBatch();
    const order: string[] = [];
    let inner: Promise<unknown> | undefined;
    await inTurn(async () => {
      order.push("outer");
      inner = inTurn(async () => order.push("inner"));
    });
    expect(order).toEqual(["outer"]);
    await inner;
    expect(order).toEqual(["outer", "inner"]);
  });

  it("rejects only the work that failed, whether it threw or its promise rejected", async () => {
    const inTurn = createTurnBatch();
    const threw = inTurn((): Promise<never> => {
      throw new Error("sync boom");
    });
    const rejected = inTurn(() => Promise.reject(new Error("async boom")));
    const fine = inTurn(() => Promise.resolve(42));
    await expect(threw).rejects.toThrow("sync boom");
    await expect(rejected).rejects.toThrow("async boom");
    await expect(fine).resolves.toBe(42);
    // Still usable afterwards.
    await nextTurn();
    await expect(inTurn(() => Promise.resolve("again"))).resolves.toBe("again");
  });
});
