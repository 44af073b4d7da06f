import { describe, expect, it } from "vitest";
import { hasNatsServer, runExample } from "./run.js";

// The example starts a real nats-server. Without one on PATH there is nothing to run the
// replicas on, so the test is skipped, not failed; CI has it (.ci/run installs Debian's).
describe.skipIf(!hasNatsServer())("nats-replicas example (needs nats-server on PATH)", () => {
  it("two replicas share one stream: each event delivered once, also after one is killed", async () => {
    const { accepted, counts } = await runExample();
    expect(accepted.a).toEqual(["order-1", "order-3", "order-5", "order-7", "order-9"]);
    expect(accepted.b).toHaveLength(9);
    const all = Array.from({ length: 14 }, (_, i) => `order-${i + 1}`);
    expect(counts).toEqual(Object.fromEntries(all.map((id) => [id, 1])));
  });
});
