import { describe, expect, it } from "vitest";
import { classifyStatus } from "./classify-status.js";

describe("classifyStatus", () => {
  it("classifies every status from 100 to 599", () => {
    const retry = new Set([408, 429]);
    for (let status = 100; status <= 599; status++) {
      const expected =
        status >= 200 && status < 300
          ? "delivered"
          : retry.has(status) || status >= 500
            ? "retry"
            : "dead";
      expect(classifyStatus(status), String(status)).toBe(expected);
    }
  });

  it("treats a status outside HTTP's range as dead", () => {
    expect(classifyStatus(0)).toBe("dead");
    expect(classifyStatus(600)).toBe("dead");
  });
});
