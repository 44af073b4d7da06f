import { describe, expect, it } from "vitest";
import { consumeResponse } from "./consume-response.js";

/** A body of `chunks`, recording how far it was pulled and whether it was cancelled. */
function trackedResponse(chunks: Uint8Array[], failAfter?: number) {
  const state = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (failAfter !== undefined && state.pulled === failAfter) {
        controller.error(new Error("reset"));
        return;
      }
      const chunk = chunks[state.pulled++];
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { response: new Response(body), state };
}

const bytes = (...values: number[]) => new Uint8Array(values);

describe("consumeResponse", () => {
  it("reads the body to its end, keeping the first bytes", async () => {
    const { response, state } = trackedResponse([bytes(1, 2), bytes(3, 4), bytes(5)]);
    expect(await consumeResponse(response, 3)).toEqual({ head: bytes(1, 2, 3), complete: false });
    expect(state).toEqual({ pulled: 4, cancelled: false });
    expect(response.bodyUsed).toBe(true);
  });

  it("keeps nothing when asked for nothing, and the whole of a short body otherwise", async () => {
    expect(await consumeResponse(trackedResponse([bytes(1)]).response, 0)).toEqual({
      head: bytes(),
      complete: false,
    });
    expect(await consumeResponse(trackedResponse([bytes(1)]).response, 10)).toEqual({
      head: bytes(1),
      complete: true,
    });
    expect(await consumeResponse(new Response(null), 10)).toEqual({
      head: bytes(),
      complete: true,
    });
  });

  it("cancels a body larger than the drain limit instead of reading on", async () => {
    const chunk = new Uint8Array(10);
    const { response, state } = trackedResponse(Array(100).fill(chunk));
    const answer = await consumeResponse(response, 5, 25);
    expect(answer.head.length).toBe(5);
    expect(answer.complete).toBe(false);
    expect(state).toEqual({ pulled: 3, cancelled: true });
  });

  it("returns what it read when the body fails half-way", async () => {
    const { response } = trackedResponse([bytes(1), bytes(2), bytes(3)], 2);
    expect(await consumeResponse(response, 10)).toEqual({ head: bytes(1, 2), complete: false });
  });
});
