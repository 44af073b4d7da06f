import { describe, expect, it } from "vitest";
import { sendEvent } from "./send-event.js";

describe("sendEvent", () => {
  it("an event without a source is a TypeError that says so, not one about createProducer", () => {
    const fetch = () => Promise.resolve(new Response(null, { status: 202 }));
    const error = new TypeError(
      "sendEvent: the event needs a source (a URI-reference such as /orders)",
    );
    expect(() =>
      sendEvent("http://gateway.test/events", { type: "t", source: "" }, { fetch }),
    ).toThrow(error);
    // A missing one is caught by the compiler first (nothing fills it in, unlike a producer's).
    // @ts-expect-error: source is required
    expect(() => sendEvent("http://gateway.test/events", { type: "t" }, { fetch })).toThrow(error);
    const maybe: string | undefined = process.env.HERALD_TEST_UNSET_SOURCE;
    // @ts-expect-error: a source that may be undefined
    expect(() => sendEvent("http://gateway.test/events", { type: "t", source: maybe })).toThrow(
      error,
    );
  });

  it("sends an event with its own source", async () => {
    const seen: Request[] = [];
    const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return new Response(null, { status: 202 });
    };
    const sent = await sendEvent(
      "http://gateway.test/events",
      { type: "t", source: "/s" },
      { fetch },
    );
    expect(sent.source).toBe("/s");
    expect(seen[0]!.headers.get("ce-source")).toBe("/s");
  });
});
