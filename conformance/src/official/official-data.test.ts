import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultDataDir } from "./data-dir.js";
import { loadFeatureCases, parseFeature } from "./feature-cases.js";
import { loadYamlEvents, parseYamlEvents } from "./yaml-events.js";

describe("parseYamlEvents", () => {
  it("keeps specversion and time as written, trims values, keeps Data verbatim", () => {
    const [e] = parseYamlEvents(
      [
        "Mode: structured",
        "ContextAttributes:",
        "  specversion: 1.0",
        "  time: 2018-04-05T03:56:24Z",
        "  id: 1",
        "  Extensions:",
        "    ext : |",
        '      {"v": 5}',
        "TransportExtensions:",
        '  user-agent: "foo"',
        "Data: |",
        "  {}",
      ].join("\n"),
      "a.yaml",
    );
    expect(e).toEqual({
      file: "a.yaml",
      index: 1,
      mode: "structured",
      attributes: { specversion: "1.0", time: "2018-04-05T03:56:24Z", id: "1", ext: '{"v": 5}' },
      transportHeaders: { "user-agent": "foo" },
      data: "{}\n",
    });
  });

  it("defaults to binary mode and skips empty documents", () => {
    const events = parseYamlEvents(
      "ContextAttributes:\n  id: a\n---\n---\nContextAttributes:\n  id: b\n",
      "f",
    );
    expect(events.map((e) => [e.mode, e.attributes.id, e.index])).toEqual([
      ["binary", "a", 1],
      ["binary", "b", 3],
    ]);
  });

  it("rejects an unknown Mode", () => {
    expect(() => parseYamlEvents("Mode: avro\n", "f")).toThrow(/unknown Mode/);
  });
});

describe("the shared cloudevents/conformance data", () => {
  const dir = defaultDataDir();

  it("is found relative to the package", () => {
    expect(dir).toMatch(/shared[/\\]conformance-data[/\\]http$/);
  });

  it("holds 8 specversion 1.0 events and 7 specversion 0.3 events", async () => {
    const events = await loadYamlEvents(dir);
    const versions = events.map((e) => e.attributes.specversion);
    expect(versions.filter((v) => v === "1.0")).toHaveLength(8);
    expect(versions.filter((v) => v === "0.3")).toHaveLength(7);
    const v1 = events.find((e) => e.file === join("yaml", "v1.yaml") && e.mode === "structured");
    expect(v1?.attributes).toMatchObject({
      comexampleextension2: '{"othervalue": 5}',
      time: "2018-04-05T03:56:24Z",
    });
  });

  it("holds the 4 parse cases of the HTTP feature", async () => {
    const cases = await loadFeatureCases(dir);
    expect(cases.map((c) => c.title)).toEqual([
      "Binary content mode (application/json)",
      "Binary content mode (application/json; charset=utf-8)",
      "Structured content mode (application/cloudevents+json)",
      "Structured content mode (application/cloudevents+json; charset=utf-8)",
    ]);
  });
});

describe("parseFeature", () => {
  it("substitutes examples into request, table and title, and dedents doc strings", async () => {
    const text = await readFile(
      join(defaultDataDir(), "features", "http-protocol-binding.feature"),
      "utf8",
    );
    const [binary, , structured] = parseFeature(text, "f.feature");
    expect(binary).toEqual({
      file: "f.feature",
      title: "Binary content mode (application/json)",
      headers: {
        "ce-specversion": "1.0",
        "ce-type": "com.example.someevent",
        "ce-time": "2018-04-05T03:56:24Z",
        "ce-id": "1234-1234-1234",
        "ce-source": "/mycontext/subcontext",
        "Content-Type": "application/json",
      },
      body: '{\n    "message": "Hello World!"\n}',
      attributes: {
        id: "1234-1234-1234",
        specversion: "1.0",
        type: "com.example.someevent",
        source: "/mycontext/subcontext",
        time: "2018-04-05T03:56:24Z",
        datacontenttype: "application/json",
      },
      data: { message: "Hello World!" },
    });
    expect(structured?.headers).toEqual({ "Content-Type": "application/cloudevents+json" });
    expect(JSON.parse(structured?.body ?? "")).toMatchObject({
      id: "1234-1234-1234",
      data: { message: "Hello World!" },
    });
  });
});
