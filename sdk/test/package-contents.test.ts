import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { packageProblems, packedPackage } from "../../gateway/test/support/package-contents.js";

const sdkDir = fileURLToPath(new URL("..", import.meta.url));

describe("the @herald/sdk tarball", () => {
  it("holds what exports and types name, its README, and no tests, sources or stale files", async () => {
    expect(packageProblems(sdkDir, await packedPackage(sdkDir))).toEqual([]);
  });

  it("can be require()d from CommonJS (Node 20.19+), every entry", () => {
    const require = createRequire(import.meta.url);
    expect(typeof require("@herald/sdk").createProducer).toBe("function");
    expect(typeof require("@herald/sdk/receive").receive).toBe("function");
    expect(typeof require("@herald/sdk/node").createNodeFetch).toBe("function");
  });
});
