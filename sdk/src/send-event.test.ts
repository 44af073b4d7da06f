import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SendFailed, sendEvent } from "./send-event.js";

interface Seen {
  headers: IncomingHttpHeaders;
  body: string;
}
let seen: Seen[] = [];
let url = "";
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    seen.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
    if (req.headers["ce-type"] === "reject") {
      res.writeHead(400, { "content-type": "application/problem+json" });
      res.end(JSON.stringify({ status: 400, detail: "bad event", code: "invalid_event" }));
    } else {
      res.writeHead(202).end();
    }
  });
});

beforeAll(async () => {
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

describe("sendEvent", () => {
  it("sends binary mode with percent-encoded headers and a JSON body", async () => {
    seen = [];
    await sendEvent(
      url,
      { id: "1", source: "/s", type: "t", subject: "Euro € x", data: { a: 1 } },
      { token: "tok" },
    );
    expect(seen[0]!.headers).toMatchObject({
      "ce-specversion": "1.0",
      "ce-id": "1",
      "ce-source": "/s",
      "ce-type": "t",
      "ce-subject": "Euro%20%E2%82%AC%20x",
      "content-type": "application/json",
      authorization: "Bearer tok",
    });
    expect(seen[0]!.body).toBe('{"a":1}');
  });

  it("sends strings as they are with their datacontenttype", async () => {
    seen = [];
    await sendEvent(url, {
      id: "2",
      source: "/s",
      type: "t",
      datacontenttype: "text/csv",
      data: "a,b",
    });
    expect(seen[0]!.headers["content-type"]).toBe("text/csv");
    expect(seen[0]!.body).toBe("a,b");
  });

  it("throws SendFailed with the problem document on rejection", async () => {
    const err = await sendEvent(url, { id: "3", source: "/s", type: "reject" }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SendFailed);
    expect((err as SendFailed).status).toBe(400);
    expect((err as SendFailed).problem?.code).toBe("invalid_event");
  });
});
