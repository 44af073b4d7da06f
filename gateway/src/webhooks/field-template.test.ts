import { describe, expect, it } from "vitest";
import { fillEventTemplate, fillTemplate } from "./field-template.js";
import { payloadFields } from "./payload-fields.js";
import { InvalidPayload } from "./webhook-errors.js";

function problemsOf(fields: ReturnType<typeof payloadFields>) {
  try {
    fields.throwIfProblems();
  } catch (err) {
    if (err instanceof InvalidPayload) return err.problems;
    throw err;
  }
  return [];
}

describe("fillTemplate", () => {
  it("fills placeholders, taking the first alternative present", () => {
    const fields = payloadFields("github", { organization: { url: "https://o" }, action: "x" });
    expect(fillTemplate("{repository.url|organization.url}", fields, "required")).toBe("https://o");
    expect(fillTemplate("com.github.a.{action}", fields, "required")).toBe("com.github.a.x");
    expect(problemsOf(fields)).toEqual([]);
  });

  it("names a required field of the wrong type once, not also as missing", () => {
    const fields = payloadFields("gitlab", { object_attributes: { state: { a: 1 } } });
    expect(
      fillTemplate("com.gitlab.issue.{object_attributes.state}", fields, "required"),
    ).toBeUndefined();
    expect(problemsOf(fields)).toEqual([
      { field: "object_attributes.state", message: "must be a string or a number" },
    ]);
  });

  it("names a wrong-typed alternative once, and no absent one as missing", () => {
    const fields = payloadFields("github", { repository: { url: ["x"] }, action: 7 });
    const row = { source: "{repository.url|organization.url}", type: "com.github.push" };
    expect(fillEventTemplate(row, fields).source).toBeUndefined();
    expect(problemsOf(fields)).toEqual([
      { field: "repository.url", message: "must be a string or a number" },
    ]);
  });

  it("reports the first alternative as missing when none is present", () => {
    const fields = payloadFields("github", {});
    expect(fillTemplate("{repository.url|organization.url}", fields, "required")).toBeUndefined();
    expect(problemsOf(fields)).toEqual([{ field: "repository.url", message: "is missing" }]);
  });
});
