import { afterEach, describe, expect, it } from "vitest";
import { createProducer, RequestRejected } from "../src/index.js";
import { createNodeFetch } from "../src/node/index.js";
import { type SinkServer, startSink } from "./sink-server.js";

let server: SinkServer | undefined;
afterEach(async () => {
  // This test's server is taken before the first await: a hook that outlives its timeout must
  // not close the server the next test has started meanwhile.
  const held = server;
  server = undefined;
  await held?.close();
});

/** A producer with retries whose waits are recorded, not slept. */
function producerFor(
  endpoint: string,
  mode: "binary" | "structured",
  fetch?: typeof globalThis.fetch,
) {
  const waits: number[] = [];
  const producer = createProducer({
    endpoint,
    source: "/redirects",
    mode,
    ...(fetch === undefined ? {} : { fetch }),
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { producer, waits };
}

describe("a redirect from the endpoint", () => {
  it.each([301, 302, 303, 307, 308])(
    "%i is a RequestRejected naming the Location, not followed and not retried",
    async (status) => {
      // Every request to /moved is redirected; anything else would be "accepted".
      server = await startSink((r) =>
        r.path === "/moved" ? { status, headers: { location: "/elsewhere" } } : { status: 200 },
      );
      // The Node transport's message names the same absolute URL as fetch's (it said "/elsewhere").
      const transports = [undefined, createNodeFetch()];
      for (const [mode, fetch] of [
        ["binary", transports[0]],
        ["structured", transports[0]],
        ["binary", transports[1]],
      ] as const) {
        const { producer, waits } = producerFor(`${server.url}/moved`, mode, fetch);
        const err = await producer
          .stateTransfer({ type: "com.example.t", data: { n: 1 } })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RequestRejected);
        expect(err).toMatchObject({ code: "request_rejected", status });
        expect((err as Error).message).toContain(
          `redirects (${status}) to ${server.url}/elsewhere`,
        );
        expect((err as Error).message).toContain("point endpoint at the gateway");
        expect(waits).toEqual([]);
      }
      const batch = producerFor(`${server.url}/moved`, "binary").producer;
      await expect(batch.send([{ type: "com.example.t" }])).rejects.toThrow(RequestRejected);
      expect(server.at("/elsewhere")).toHaveLength(0);
      expect(server.received.map((r) => r.method)).toEqual(["POST", "POST", "POST", "POST"]);
      transports[1]!.close();
    },
  );

  it("an opaque redirect (status 0, as browsers give for redirect: manual) is the same error", async () => {
    server = await startSink(() => ({ status: 302, headers: { location: "/elsewhere" } }));
    const inits: RequestInit[] = [];
    // A browser's fetch: the 3xx comes back as an opaque-redirect response that hides everything.
    const browserFetch: typeof fetch = async (input, init) => {
      inits.push(init ?? {});
      const real = await fetch(input, init);
      await real.arrayBuffer();
      const opaque = new Response(null);
      Object.defineProperties(opaque, {
        type: { value: "opaqueredirect" },
        status: { value: 0 },
        ok: { value: false },
      });
      return opaque;
    };
    const { producer, waits } = producerFor(`${server.url}/events`, "binary", browserFetch);
    const err = await producer.send({ type: "com.example.t" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestRejected);
    expect(err).toMatchObject({ status: 0 });
    expect((err as Error).message).toMatch(/redirects to another URL.*point endpoint/);
    expect(waits).toEqual([]);
    expect(inits.map((i) => i.redirect)).toEqual(["manual"]);
    expect(server.received).toHaveLength(1);
  });
});
