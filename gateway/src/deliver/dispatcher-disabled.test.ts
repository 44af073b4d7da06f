import { describe, expect, it } from "vitest";
import {
  delivered,
  events,
  fakeDeliverer,
  recordingSettle,
  subscription,
} from "../../test/support/dispatcher-kit.js";
import { createTestQueue } from "../../test/support/test-queue.js";
import { DISABLED_OUTCOME, disabledOutcomes, outcomeWhenDisabled } from "./delivery-outcome.js";
import { createDispatcher } from "./dispatcher.js";

describe("createDispatcher: the jobs of a disabled subscription", () => {
  async function settleDisabled(state: { reason: string; unusable?: true }) {
    const queue = createTestQueue();
    const { settle, settled } = recordingSettle(queue);
    const { deliverer, seen } = fakeDeliverer(async () => delivered);
    const sub = subscription("sub");
    const dispatcher = createDispatcher({
      queue,
      deliverer,
      subscriptions: (id) => (id === "sub" ? sub : undefined),
      disabled: disabledOutcomes({ isDisabled: () => true, find: () => ({ disabled: state }) }),
      settle,
    });
    await queue.add("sub", ...events("e", 2));
    dispatcher.start();
    await dispatcher.idle();
    await dispatcher.stop({ deadlineMs: 1_000 });
    return { settled, seen };
  }

  it("are not sent and settle as the 410 did", async () => {
    const { settled, seen } = await settleDisabled({ reason: "410 Gone from the sink" });
    expect(seen).toHaveLength(0);
    expect(settled.map((s) => s.outcome)).toStrictEqual([DISABLED_OUTCOME, DISABLED_OUTCOME]);
  });

  it("settle with the outcome of why it is disabled: an unusable stored definition is no 410", async () => {
    const reason = "this Herald cannot use its stored definition (x); PUT a new one or DELETE it";
    const { settled, seen } = await settleDisabled({ reason, unusable: true });
    expect(seen).toHaveLength(0);
    for (const { outcome } of settled) {
      expect(outcome).toStrictEqual({
        kind: "dead",
        status: 0,
        error: `not sent: ${reason}, then redrive`,
      });
    }
    expect(settled).toHaveLength(2);
    expect(outcomeWhenDisabled({ reason: "410 Gone" })).toBe(DISABLED_OUTCOME);
    expect(outcomeWhenDisabled(undefined)).toBe(DISABLED_OUTCOME);
  });
});
