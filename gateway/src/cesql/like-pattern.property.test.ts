import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileLikePattern } from "./like-pattern.js";

/** The reference: LIKE as a regular expression over code points (3.4.3). */
function reference(pattern: string): (text: string) => boolean {
  const chars = [...pattern];
  let source = "";
  for (let index = 0; index < chars.length; index += 1) {
    const char = chars[index]!;
    const next = chars[index + 1];
    if (char === "\\" && (next === "%" || next === "_")) {
      source += next; // a literal % or _ (neither is special in a regular expression)
      index += 1;
    } else if (char === "%") source += "[\\s\\S]*";
    else if (char === "_") source += "[\\s\\S]";
    else source += char.replace(/[.*+?^${}()|[\]\\/-]/gu, "\\$&");
  }
  const regex = new RegExp(`^${source}$`, "u");
  return (text) => regex.test(text);
}

// Few characters, so patterns and texts share them: astral ones (two UTF-16 units, one
// character), some with the same first unit, a combining mark, and LIKE's own `%`, `_`, `\`.
const alphabet = fc.constantFrom("a", "b", "😀", "😁", "\u0301", "é", "%", "_", "\\");
const text = fc.array(alphabet, { maxLength: 12 }).map((chars) => chars.join(""));
const pattern = fc
  .array(fc.oneof(alphabet, fc.constantFrom("%", "_", "\\%", "\\_")), { maxLength: 8 })
  .map((parts) => parts.join(""));

describe("compileLikePattern agrees with a regular expression over code points", () => {
  it("on random patterns and texts", () => {
    fc.assert(
      fc.property(pattern, fc.array(text, { minLength: 1, maxLength: 8 }), (p, texts) => {
        const matches = compileLikePattern(p);
        const expected = reference(p);
        for (const t of texts)
          expect(matches(t), `${JSON.stringify(p)} on ${JSON.stringify(t)}`).toBe(expected(t));
      }),
      { numRuns: 5000 },
    );
  });

  it("with segments longer than 32 characters (the multi-word state)", () => {
    const long = fc.array(fc.constantFrom("a", "b", "_", "😀"), { minLength: 30, maxLength: 70 });
    fc.assert(
      fc.property(
        long,
        fc.array(fc.constantFrom("a", "b", "😀"), { maxLength: 120 }),
        (middle, chars) => {
          const p = `%${middle.join("")}%`;
          const t = chars.join("");
          expect(compileLikePattern(p)(t)).toBe(reference(p)(t));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
