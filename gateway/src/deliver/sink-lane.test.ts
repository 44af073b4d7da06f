import { describe, expect, it } from "vitest";
import { subscription } from "../../test/support/dispatcher-kit.js";
import { isDisposable, updateLane } from "./sink-lane.js";

describe("updateLane: a logged handshake refusal", () => {
  it("is forgotten when the subscription no longer asks for the handshake", () => {
    const lane = updateLane(undefined, subscription("s", { handshake: true }), 0);
    lane.handshakeRefusal = "webhook handshake refused: WebHook-Allowed-Origin missing";
    expect(isDisposable(lane, 0)).toBe(false);
    // Without the handshake there is no refusal to log again: the lane can go like any other,
    // and one asked again later logs its first refusal.
    updateLane(lane, subscription("s", { handshake: false }), 0);
    expect(lane.handshakeRefusal).toBeUndefined();
    expect(isDisposable(lane, 0)).toBe(true);
  });

  it("is kept while the subscription still asks for it at the same sink", () => {
    const lane = updateLane(undefined, subscription("s", { handshake: true }), 0);
    lane.handshakeRefusal = "refused";
    updateLane(lane, subscription("s", { handshake: true, retry: 3 }), 0);
    expect(lane.handshakeRefusal).toBe("refused");
  });
});

describe("updateLane: a changed rate", () => {
  it("counts the starts the sink already got in the old rate's window", () => {
    const lane = updateLane(undefined, subscription("s", { rate: { count: 5, perMs: 1_000 } }), 0);
    for (let i = 0; i < 5; i++) expect(lane.rate?.window.take(i)).toBe(true);
    // Lowered to 2/s at 100 ms: the sink got 5 in this second already, so none more until only
    // one of them (the 5th, at 4 ms) is within the last second.
    updateLane(lane, subscription("s", { rate: { count: 2, perMs: 1_000 } }), 100);
    expect(lane.rate?.window.take(100)).toBe(false);
    expect(lane.rate?.window.nextAt(100)).toBe(1_003);
  });

  it("starts empty for a new sink, which has got nothing", () => {
    const lane = updateLane(undefined, subscription("s", { rate: { count: 1, perMs: 1_000 } }), 0);
    lane.rate?.window.take(0);
    const moved = {
      ...subscription("s", { rate: { count: 2, perMs: 1_000 } }),
      sink: "http://127.0.0.1:9/other",
    };
    updateLane(lane, moved, 100);
    expect(lane.rate?.window.take(100)).toBe(true);
  });
});
