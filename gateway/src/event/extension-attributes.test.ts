import { describe, expect, it } from "vitest";
import type { AttributeValue } from "./cloud-event.js";
import { checkKnownExtension, typedExtensions } from "./extension-attributes.js";
import { validateAttributes } from "./validate-attributes.js";

const base = { specversion: "1.0", id: "1", source: "/orders", type: "com.example.created" };
const refused = (name: string, value: AttributeValue) =>
  validateAttributes({ ...base, [name]: value }).map((v) => v.attribute);

describe("known extension attributes (cloudevents/extensions)", () => {
  it.each<[string, AttributeValue]>([
    ["dataref", "https://example.com/images/cat.png"],
    ["dataref", "/images/cat.png"],
    ["expirytime", "2030-01-01T00:00:00Z"],
    ["partitionkey", "order-42"],
    ["sequence", "00042"],
    ["sequencetype", "Integer"],
    ["sampledrate", 30],
    ["sampledrate", "30"],
    ["severitytext", "INFO"],
    ["severitynumber", 0],
    ["severitynumber", "9"],
    ["deprecated", true],
    ["deprecated", "true"],
    ["deprecationfrom", "2024-10-11T00:00:00Z"],
    ["deprecationsunset", "2024-11-12T00:00:00Z"],
    ["deprecationmigration", "https://example.com/migrate"],
  ])("accepts %s %j", (name, value) => {
    expect(refused(name, value)).toEqual([]);
  });

  it.each<[string, AttributeValue]>([
    ["dataref", "not a uri"],
    ["dataref", 5],
    ["dataref", ""],
    ["expirytime", "tomorrow"],
    ["expirytime", 1712345678],
    ["partitionkey", ""],
    ["partitionkey", 7],
    ["sequence", ""],
    ["sequence", 5],
    ["sequencetype", ""],
    ["sampledrate", 0],
    ["sampledrate", "-1"],
    ["sampledrate", "00030"],
    ["sampledrate", "1.5"],
    ["sampledrate", "2147483648"],
    ["sampledrate", true],
    ["severitytext", ""],
    ["severitynumber", -1],
    ["deprecated", "True"],
    ["deprecated", 1],
    ["deprecationfrom", "2024-10-11"],
    ["deprecationmigration", "/relative"],
  ])("refuses %s %j", (name, value) => {
    expect(refused(name, value)).toEqual([name]);
  });

  it("names the extension document in the reason", () => {
    expect(checkKnownExtension("dataref", "a b")).toMatch(
      /URI-reference.*\(extensions\/dataref\.md\)$/,
    );
    expect(checkKnownExtension("sampledrate", 0)).toBe(
      "must be at least 1 (extensions/sampledrate.md)",
    );
  });

  it("leaves other extensions to the generic rules", () => {
    expect(checkKnownExtension("comexampleextension1", "")).toBeUndefined();
    expect(refused("comexampleextension1", "")).toEqual([]);
  });

  it("types Integer and Boolean extensions that arrive as canonical strings", () => {
    const attributes = { ...base, sampledrate: "30", deprecated: "false", sequence: "7" };
    expect(typedExtensions(attributes)).toEqual({
      ...base,
      sampledrate: 30,
      deprecated: false,
      sequence: "7",
    });
    const already = { ...base, sampledrate: 30 };
    expect(typedExtensions(already)).toBe(already);
  });
});
