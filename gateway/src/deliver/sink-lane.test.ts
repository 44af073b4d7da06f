import { describe, expect, it } from "vitest";
import { subscription } from "../../test/support/dispatcher-kit.js";
import { isDisposable, updateLane } from "./sink-lane.js";

describe("updateLane: a logged handshake refusal", () => {
  it("is forgotten when the subscription no longer asks for the handshake", () => {
    const lane = updateLane(undefined, subscription("s", { handshake: true }));
    lane.handshakeRefusal = "webhook handshake refused: WebHook-Allowed-Origin missing";
    expect(isDisposable(lane, 0)).toBe(false);
    // Without the handshake there is no refusal to log again: the lane can go like any other,
    // and one asked again later logs its first refusal.
    updateLane(lane, subscription("s", { handshake: false }));
    expect(lane.handshakeRefusal).toBeUndefined();
    expect(isDisposable(lane, 0)).toBe(true);
  });

  it("is kept while the subscription still asks for it at the same sink", () => {
    const lane = updateLane(undefined, subscription("s", { handshake: true }));
    lane.handshakeRefusal = "refused";
    updateLane(lane, subscription("s", { handshake: true, retry: 3 }));
    expect(lane.handshakeRefusal).toBe("refused");
  });
});
