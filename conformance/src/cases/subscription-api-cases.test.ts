import { describe, expect, it } from "vitest";
import { subscriptionApiCases } from "./subscription-api-cases.js";

const names = (auth?: Parameters<typeof subscriptionApiCases>[0]) =>
  subscriptionApiCases(auth).map((c) => c.name);

describe("subscriptionApiCases", () => {
  it("names every case in its group, each once", () => {
    const all = names({ token: "p", adminToken: "a" });
    // Checks of Herald's own choices say so first (README "Herald-specific cases").
    expect(all.every((n) => /^(?:herald: )?subscriptions-api: /.test(n))).toBe(true);
    expect(all.filter((n) => n.startsWith("herald: "))).toHaveLength(3);
    expect(new Set(all).size).toBe(all.length);
  });

  it("adds the admin-token cases only for an authenticated target", () => {
    const open = names();
    expect(open.some((n) => /401|403/.test(n))).toBe(false);
    const shared = names({ token: "p" });
    expect(shared.filter((n) => n.includes("401"))).toHaveLength(1);
    expect(shared.some((n) => n.includes("403"))).toBe(false);
    expect(names({ token: "p", adminToken: "p" }).some((n) => n.includes("403"))).toBe(false);
    expect(names({ token: "p", adminToken: "a" }).filter((n) => n.includes("403"))).toHaveLength(1);
  });
});
