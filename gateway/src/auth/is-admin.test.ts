import { describe, expect, test } from "vitest";
import type { AdminRule } from "../config/auth-config.js";
import { isAdmin } from "./is-admin.js";

const admins: AdminRule[] = [
  { claims: { scope: "herald:admin" } },
  { claims: { sub: "root", iss: "https://id.example.com" } },
];

describe("isAdmin", () => {
  test("any matching rule makes an administrator; scope is split", () => {
    expect(isAdmin({ sub: "ops", scope: "openid herald:admin" }, admins)).toBe(true);
    expect(isAdmin({ sub: "root", iss: "https://id.example.com" }, admins)).toBe(true);
  });

  test("every claim of a rule must match", () => {
    expect(isAdmin({ sub: "root", iss: "https://other.example.com" }, admins)).toBe(false);
    expect(isAdmin({ sub: "ops", scope: "herald:admins openid" }, admins)).toBe(false);
    expect(isAdmin({ sub: "ops", scope: "herald" }, admins)).toBe(false);
  });

  test("without rules nobody is an administrator", () => {
    expect(isAdmin({ sub: "root", scope: "herald:admin" }, [])).toBe(false);
  });
});
