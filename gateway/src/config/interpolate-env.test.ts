// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} in these strings is config text under test.
import { describe, expect, test } from "vitest";
import { interpolateEnv } from "./interpolate-env.js";

describe("interpolateEnv", () => {
  const env = { HOST: "example.com", EMPTY: "", PORT: "8080" };

  test("replaces every reference and keeps the text around them", () => {
    expect(interpolateEnv("https://${HOST}:${PORT}/x", env)).toEqual({
      value: "https://example.com:8080/x",
      errors: [],
    });
  });

  test("leaves text without references alone, including a lone $", () => {
    expect(interpolateEnv("price: $5 {x}", env)).toEqual({ value: "price: $5 {x}", errors: [] });
  });

  test("a set but empty variable is the empty string", () => {
    expect(interpolateEnv("[${EMPTY}]", env)).toEqual({ value: "[]", errors: [] });
  });

  test("${NAME:-default} uses the default when unset or empty", () => {
    expect(interpolateEnv("${MISSING:-fallback}", env).value).toBe("fallback");
    expect(interpolateEnv("${EMPTY:-fallback}", env).value).toBe("fallback");
    expect(interpolateEnv("${HOST:-fallback}", env).value).toBe("example.com");
    expect(interpolateEnv("${MISSING:-}", env)).toEqual({ value: "", errors: [] });
    expect(interpolateEnv("${MISSING:-a b:c}", env).value).toBe("a b:c");
  });

  test("$${ is a literal ${", () => {
    expect(interpolateEnv("$${HOST} and ${HOST}", env)).toEqual({
      value: "${HOST} and example.com",
      errors: [],
    });
  });

  test("values are not interpolated again", () => {
    expect(interpolateEnv("${A}", { A: "${B}", B: "no" }).value).toBe("${B}");
  });

  test("a missing variable is an error naming it, and the reference is kept", () => {
    expect(interpolateEnv("x-${SECRET}-${HOST}", env)).toEqual({
      value: "x-${SECRET}-example.com",
      errors: ["environment variable SECRET is not set"],
    });
  });

  test("reports every failed reference", () => {
    expect(interpolateEnv("${A}${B}", {}).errors).toEqual([
      "environment variable A is not set",
      "environment variable B is not set",
    ]);
  });

  test("malformed references are errors", () => {
    expect(interpolateEnv("${}", env).errors).toEqual([
      "invalid reference ${}: expected ${NAME} or ${NAME:-default}",
    ]);
    expect(interpolateEnv("${1ABC}", env).errors).toEqual([
      "invalid reference ${1ABC}: expected ${NAME} or ${NAME:-default}",
    ]);
    expect(interpolateEnv("${A-B}", env).errors).toEqual([
      "invalid reference ${A-B}: expected ${NAME} or ${NAME:-default}",
    ]);
    expect(interpolateEnv("abc ${HOST", env).errors).toEqual([
      "unclosed ${ (write $${ for a literal ${)",
    ]);
  });

  test("a default holding another reference is an error, not the text '${B' and a stray '}'", () => {
    expect(interpolateEnv("Bearer ${A:-${B}}", { B: "b" })).toEqual({
      value: "Bearer ${A:-${B}}",
      errors: [
        "invalid reference ${A:-${B}}: a default cannot hold another reference (nesting is not supported)",
      ],
    });
    expect(interpolateEnv("${A:-${B}}", { A: "a" }).errors).toHaveLength(1);
  });

  test("names are case-sensitive", () => {
    expect(interpolateEnv("${host}", env).errors).toEqual(["environment variable host is not set"]);
  });
});
