import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { type ServedInTempDir, serveInTempDir } from "../../../test/support/serve-in-temp-dir.js";

let served: ServedInTempDir;
beforeAll(async () => {
  served = await serveInTempDir(
    "limits: { maxEventBytes: 1024 }\nstore: { kind: sqlite, path: h.db }\n",
    "herald-expect-",
  );
});
afterAll(() => served.close());

/** A connection that collects what the server sends. */
async function open(): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect(served.port, "127.0.0.1");
  await new Promise((ok) => socket.once("connect", ok));
  let text = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    text += chunk;
  });
  socket.on("error", () => {});
  return { socket, received: () => text };
}

const head = (id: string, length: number) =>
  "POST /events HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\nce-specversion: 1.0\r\n" +
  `ce-id: ${id}\r\nce-source: /t\r\nce-type: t.t\r\nContent-Type: application/json\r\n` +
  `Content-Length: ${length}\r\nConnection: close\r\n\r\n`;

// RFC 9110 10.1.1: 100-continue lets a server refuse before the content is sent. Node sent the
// 100 before the gateway looked at the request, so a body over the limit was uploaded anyway.
it("refuses a Content-Length over the limit without inviting the body first", async () => {
  const { socket, received } = await open();
  socket.write(head("big", 5000));
  await vi.waitFor(() => expect(received()).toMatch(/\r\n\r\n\{.*\}$/s), { timeout: 2_000 });
  expect(received()).toMatch(/^HTTP\/1\.1 413 /);
  expect(received()).toContain('"code":"payload_too_large"');
  socket.destroy();
});

it("sends 100 (Continue) for a body it will read, then takes the event", async () => {
  const { socket, received } = await open();
  socket.write(head("small", 7));
  await vi.waitFor(() => expect(received()).toBe("HTTP/1.1 100 Continue\r\n\r\n"), {
    timeout: 2_000,
  });
  socket.write('{"a":1}');
  await vi.waitFor(() => expect(received()).toMatch(/HTTP\/1\.1 202 /), { timeout: 2_000 });
  socket.destroy();
});

it("sends 100 (Continue) on the routes read through Hono once the route reads the body", async () => {
  const { socket, received } = await open();
  socket.write(
    "POST /subscriptions HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\n" +
      "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
  );
  await vi.waitFor(() => expect(received()).toBe("HTTP/1.1 100 Continue\r\n\r\n"), {
    timeout: 2_000,
  });
  socket.write("{}");
  await vi.waitFor(() => expect(received()).toMatch(/HTTP\/1\.1 400 /), { timeout: 2_000 });
  socket.destroy();
});

it.each([
  [
    "an admin body over its limit",
    "POST /subscriptions",
    "Content-Type: application/json\r\nContent-Length: 2000000",
    413,
  ],
  [
    "an admin body that is not JSON",
    "POST /subscriptions",
    "Content-Type: text/plain\r\nContent-Length: 10",
    415,
  ],
  ["a route that does not exist", "POST /nowhere", "Content-Length: 10", 404],
  [
    "an event over the limit, sent to an absolute-form target",
    "POST http://gw/events",
    "ce-specversion: 1.0\r\nce-id: a\r\nce-source: /t\r\nce-type: t\r\nContent-Length: 5000",
    413,
  ],
])("refuses %s without inviting the body first", async (_, line, headers, status) => {
  const { socket, received } = await open();
  socket.write(
    `${line} HTTP/1.1\r\nHost: gw\r\nExpect: 100-continue\r\n${headers}\r\nConnection: close\r\n\r\n`,
  );
  await vi.waitFor(() => expect(received()).toMatch(/\r\n\r\n\{.*\}$/s), { timeout: 2_000 });
  expect(received()).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  socket.destroy();
});
