import { expect, test } from "vitest";
import { HeraldError } from "../errors/herald-error.js";
import { ConfigInvalid, formatConfigIssue } from "./config-invalid.js";

test("formats file:line:column field: message, leaving out what is unknown", () => {
  expect(
    formatConfigIssue({
      file: "herald.yaml",
      line: 12,
      column: 7,
      field: "subscriptions[0].sink",
      message: "must be an absolute http(s) URL",
    }),
  ).toBe("herald.yaml:12:7 subscriptions[0].sink: must be an absolute http(s) URL");
  expect(formatConfigIssue({ file: "h.yaml", line: 1, column: 1, field: "", message: "bad" })).toBe(
    "h.yaml:1:1 bad",
  );
  expect(formatConfigIssue({ file: "request body", field: "id", message: "is required" })).toBe(
    "request body id: is required",
  );
});

test("a coded HeraldError, one line per issue, issues as problem extensions", () => {
  const issues = [
    { file: "a.yaml", line: 1, column: 2, field: "x", message: "one" },
    { file: "a.yaml", line: 3, column: 4, field: "y", message: "two" },
  ];
  const error = new ConfigInvalid(issues);
  expect(error).toBeInstanceOf(HeraldError);
  expect(error.name).toBe("ConfigInvalid");
  expect(error.code).toBe("config_invalid");
  expect(error.status).toBe(400);
  expect(error.title).toBe("Invalid configuration");
  expect(error.message).toBe("a.yaml:1:2 x: one\na.yaml:3:4 y: two");
  expect(error.issues).toBe(issues);
  expect(error.extensions).toEqual({ errors: issues });
});
