import { describe, expect, test } from "vitest";
import { compileGlob, compileGlobList } from "./glob.js";

describe("compileGlob", () => {
  test("without * a glob is an exact, case-sensitive match", () => {
    const orders = compileGlob("/orders");
    expect(orders("/orders")).toBe(true);
    expect(orders("/orders/")).toBe(false);
    expect(orders("/Orders")).toBe(false);
    expect(orders("")).toBe(false);
  });

  test("* is any run of characters, / and the empty run included", () => {
    const below = compileGlob("/orders/*");
    expect(below("/orders/")).toBe(true);
    expect(below("/orders/42")).toBe(true);
    expect(below("/orders/eu/42/items")).toBe(true);
    expect(below("/orders")).toBe(false);
    expect(below("/ordersX/1")).toBe(false);
    expect(compileGlob("*")("")).toBe(true);
    expect(compileGlob("*")("anything/at all\n")).toBe(true);
  });

  test("* at the start, in the middle, several times", () => {
    expect(compileGlob("*.created")("com.example.order.created")).toBe(true);
    expect(compileGlob("*.created")("com.example.order.created.v2")).toBe(false);
    const middle = compileGlob("com.*.order.*");
    expect(middle("com.example.order.created")).toBe(true);
    expect(middle("com.a.b.order.x")).toBe(true);
    expect(middle("com.example.order")).toBe(false);
    expect(compileGlob("a**b")("ab")).toBe(true);
    expect(compileGlob("a*b*c")("a-c-b")).toBe(false);
    expect(compileGlob("a*b*c")("aXbYbZc")).toBe(true);
  });

  test("the head and the tail may not overlap", () => {
    expect(compileGlob("ab*ba")("aba")).toBe(false);
    expect(compileGlob("ab*ba")("abba")).toBe(true);
    expect(compileGlob("a*a*a")("aa")).toBe(false);
    expect(compileGlob("a*a*a")("aaa")).toBe(true);
  });

  test("regular-expression characters are literal", () => {
    const dotted = compileGlob("com.example.*");
    expect(dotted("com.example.x")).toBe(true);
    expect(dotted("comXexampleYx")).toBe(false);
    for (const special of [".", "+", "?", "(", ")", "[", "]", "{", "}", "^", "$", "|", "\\"]) {
      const pattern = `/a${special}b/*`;
      expect(compileGlob(pattern)(`/a${special}b/x`), pattern).toBe(true);
      expect(compileGlob(pattern)("/aXb/x"), pattern).toBe(false);
      expect(compileGlob(pattern)("/ab/x"), pattern).toBe(false);
    }
    expect(compileGlob("/a?")("/ab")).toBe(false);
    expect(compileGlob("/[ab]")("/a")).toBe(false);
    expect(compileGlob("/[ab]")("/[ab]")).toBe(true);
    expect(compileGlob("^/x$")("^/x$")).toBe(true);
    expect(compileGlob("/x.*")("/x")).toBe(false);
    expect(compileGlob("/x.*")("/x.")).toBe(true);
  });

  test("a hostile text stays fast (no backtracking blow-up)", () => {
    const glob = compileGlob("*a*a*a*a*a*a*a*a*b");
    const text = "a".repeat(200_000);
    const started = performance.now();
    expect(glob(text)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe("compileGlobList", () => {
  test("true when any glob matches", () => {
    const sources = compileGlobList(["/orders", "/orders/*", "/billing/*/invoices"]);
    expect(sources("/orders")).toBe(true);
    expect(sources("/orders/1")).toBe(true);
    expect(sources("/billing/eu/invoices")).toBe(true);
    expect(sources("/billing/eu/refunds")).toBe(false);
    expect(sources("/ordersX")).toBe(false);
  });

  test("an empty list matches nothing", () => {
    expect(compileGlobList([])("/orders")).toBe(false);
  });
});
