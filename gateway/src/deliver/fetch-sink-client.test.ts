import { describe, expect, it } from "vitest";
import type { DeliveryMessage } from "./build-delivery-message.js";
import { createFetchSinkClient } from "./fetch-sink-client.js";
import { describeSinkClient } from "./sink-client.case.js";
import { SinkNetworkError, SinkTimeout } from "./sink-error.js";

describeSinkClient("fetch (global)", () => createFetchSinkClient((request) => fetch(request)));

describe("createFetchSinkClient", () => {
  const message: DeliveryMessage = {
    url: "http://sink.test/hook",
    method: "POST",
    headers: { "ce-id": "1" },
    body: "{}",
  };

  it("hands fetch a POST that does not follow redirects, with an abort signal", async () => {
    const requests: Request[] = [];
    const client = createFetchSinkClient(async (request) => {
      requests.push(request);
      return new Response("gone", { status: 410, headers: { "retry-after": "5" } });
    });
    const answer = await client.send(message, 5_000);
    expect(answer).toMatchObject({
      status: 410,
      retryAfter: "5",
      head: new TextEncoder().encode("gone"),
    });
    expect(answer.header("Retry-After")).toBe("5");
    const [request] = requests;
    expect(request?.method).toBe("POST");
    expect(request?.redirect).toBe("manual");
    expect(request?.headers.get("ce-id")).toBe("1");
    expect(await request?.text()).toBe("{}");
    expect(request?.signal.aborted).toBe(false);
  });

  it("aborts the request at the timeout and rejects with SinkTimeout", async () => {
    const client = createFetchSinkClient(
      (request) =>
        new Promise<Response>((_resolve, reject) => {
          request.signal.addEventListener("abort", () => reject(request.signal.reason));
        }),
    );
    await expect(client.send(message, 10)).rejects.toEqual(new SinkTimeout(10));
  });

  it("turns whatever fetch throws or rejects with into SinkNetworkError with its text", async () => {
    const throwing = createFetchSinkClient(() => {
      throw new Error("sync boom");
    });
    const thrown = await throwing.send(message, 5_000).catch((err: unknown) => err);
    expect(thrown).toBeInstanceOf(SinkNetworkError);
    expect(thrown).toMatchObject({ message: "sync boom" });
    const rejecting = createFetchSinkClient(() => Promise.reject("plain string"));
    await expect(rejecting.send(message, 5_000)).rejects.toMatchObject({
      code: "sink_network_error",
      message: "plain string",
    });
  });

  it("refuses to be created without a fetch", () => {
    expect(() => createFetchSinkClient(undefined as never)).toThrow(TypeError);
  });
});
