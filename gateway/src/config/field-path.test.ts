import { expect, test } from "vitest";
import { formatFieldPath } from "./field-path.js";

test.each([
  [[], ""],
  [["listen", "port"], "listen.port"],
  [["subscriptions", 0, "filters", 1, "prefix"], "subscriptions[0].filters[1].prefix"],
  [["protocolsettings", "headers", "x-team"], 'protocolsettings.headers["x-team"]'],
  [["a", ""], 'a[""]'],
  [[0, "id"], "[0].id"],
  [["exact", "1abc"], 'exact["1abc"]'],
] as const)("%j is %s", (path, text) => {
  expect(formatFieldPath(path)).toBe(text);
});
