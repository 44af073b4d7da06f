import { describe, expect, it } from "vitest";
import { uuidv7 } from "./uuid-v7.js";

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("uuidv7 (RFC 9562 5.7)", () => {
  it("has version 7, the RFC variant, and the milliseconds in its first 48 bits", () => {
    const ms = Date.UTC(2030, 0, 2, 3, 4, 5, 678);
    const id = uuidv7(ms);
    expect(id).toMatch(FORMAT);
    expect(Number.parseInt(id.replace(/-/g, "").slice(0, 12), 16)).toBe(ms);
  });

  it("sorts in creation order, also many within one millisecond", () => {
    const ms = Date.UTC(2031, 5, 6);
    const ids = Array.from({ length: 5000 }, () => uuidv7(ms));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("never goes backwards when the clock does", () => {
    const a = uuidv7(Date.UTC(2032, 0, 1, 0, 0, 1));
    const b = uuidv7(Date.UTC(2032, 0, 1, 0, 0, 0));
    expect(b > a).toBe(true);
  });
});
