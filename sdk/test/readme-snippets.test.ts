import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProducer, HeraldError, serviceAccountToken } from "../src/index.js";
import { heraldReceiver } from "../src/receive/index.js";
import { type Herald, startHerald } from "./herald-process.js";
import { type SinkServer, startSink } from "./sink-server.js";

// The README's snippets as a TypeScript user pastes them: `npm run typecheck` compiles this file
// with the strictest settings (exactOptionalPropertyTypes included), and the tests run them
// against herald serve. An option read from the environment is `string | undefined`.

let herald: Herald;
let sink: SinkServer;
beforeAll(async () => {
  sink = await startSink();
  herald = await startHerald({ subscriptions: [{ id: "all", sink: `${sink.url}/all` }] });
});
afterAll(async () => {
  await herald?.stop();
  await sink?.close();
});

describe("README snippets", () => {
  it("options taken from the environment may be undefined: the default applies", async () => {
    const producer = createProducer({
      endpoint: herald.events,
      source: "/images",
      token: process.env.HERALD_SNIPPET_UNSET_TOKEN,
      timeout: process.env.HERALD_SNIPPET_UNSET_TIMEOUT ? 5000 : undefined,
    });
    const sent = await producer.notification({
      type: "com.example.image.uploaded",
      subject: "images/cat.png",
      dataref: "https://images.example.com/images/cat.png",
      data: { imageId: "cat" },
    });
    const [delivery] = await sink.waitFor(1);
    expect(delivery!.headers["ce-id"]).toBe(sent.id);
    expect(delivery!.headers.authorization).toBeUndefined();
    // The same holds for the other factories' optional settings.
    expect(
      typeof serviceAccountToken({
        privateKey: "x",
        issuer: "i",
        audience: "a",
        subject: "s",
        keyId: process.env.HERALD_SNIPPET_UNSET_KID,
      }),
    ).toBe("function");
    expect(
      typeof heraldReceiver({
        signingSecret: process.env.HERALD_SNIPPET_UNSET_SECRET,
        batch: undefined,
      }),
    ).toBe("function");
  });
});

describe("README snippet: Errors", () => {
  it("switch (err.code) after instanceof HeraldError reads err.attributes", async () => {
    const producer = createProducer({ endpoint: herald.events, source: "/orders" });
    const event = { type: "com.example.order.created", time: "yesterday" };
    const seen: unknown[] = [];
    // As in the README, console.error replaced by a record of what it would print.
    try {
      await producer.send(event);
    } catch (err) {
      if (!(err instanceof HeraldError)) throw err;
      switch (err.code) {
        case "invalid_event":
          seen.push("fix the event:", err.attributes);
          break;
        case "unavailable":
        case "network_error":
        case "timeout":
          /* keep it and try later */ break;
        default:
          seen.push(err.status, err.problem?.detail);
      }
    }
    expect(seen).toEqual(["fix the event:", ["time"]]);
  });
});
