import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { packageProblems, packedPackage } from "./support/package-contents.js";

const gatewayDir = fileURLToPath(new URL("..", import.meta.url));

describe("the @herald/gateway tarball", () => {
  it("holds what exports, types and bin name, a README, and no tests, sources or stale files", async () => {
    const packed = await packedPackage(gatewayDir);
    expect(packageProblems(gatewayDir, packed)).toEqual([]);
    expect(packed.files).toContain("bin/herald.js");
  });

  it("can be require()d from CommonJS (Node 20.19+), every entry", () => {
    const require = createRequire(import.meta.url);
    expect(typeof require("@herald/gateway").createGateway).toBe("function");
    expect(typeof require("@herald/gateway/node").serve).toBe("function");
    expect(typeof require("@herald/gateway/workers").createHeraldWorker).toBe("function");
  });
});
