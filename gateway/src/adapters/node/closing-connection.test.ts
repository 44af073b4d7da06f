import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { type ServedInTempDir, serveInTempDir } from "../../../test/support/serve-in-temp-dir.js";

let served: ServedInTempDir;
beforeAll(async () => {
  served = await serveInTempDir(
    "limits: { maxEventBytes: 1024 }\nstore: { kind: sqlite, path: h.db }\n",
    "herald-closing-",
  );
});
afterAll(() => served.close());

const accepted = async () => {
  const text = await (await fetch(`${served.server.url}/metrics`)).text();
  return Number(/^herald_events_accepted_total (\d+)$/m.exec(text)?.[1] ?? 0);
};

/** A connection that keeps sending after the server closed its side, as an uploading client. */
async function open(): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect({ port: served.port, allowHalfOpen: true });
  await new Promise((ok) => socket.once("connect", ok));
  let text = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => {
    text += chunk;
  });
  socket.on("end", () => {
    text += "<FIN>";
  });
  socket.on("error", () => {});
  return { socket, received: () => text };
}

/**
 * Ends the client's side and waits for the server to close the connection (it has then parsed
 * all it will), then has one more event stored over a new connection: anything the closed
 * connection made the server store was stored before it (group commits keep arrival order).
 * Returns how many events were accepted in all, that last one left out.
 */
async function settle(socket: Socket): Promise<number> {
  socket.end();
  await new Promise((closed) => (socket.closed ? closed(undefined) : socket.once("close", closed)));
  const fence = await fetch(`${served.server.url}/events`, {
    method: "POST",
    headers: {
      "ce-specversion": "1.0",
      "ce-id": `fence-${Math.random()}`,
      "ce-source": "/t",
      "ce-type": "t.t",
    },
  });
  expect(fence.status).toBe(202);
  return (await accepted()) - 1;
}

const event = (id: string, length = 2) =>
  `POST /events HTTP/1.1\r\nHost: x\r\nce-specversion: 1.0\r\nce-id: ${id}\r\nce-source: /t\r\n` +
  `ce-type: t.t\r\nContent-Length: ${length}\r\n\r\n`;

// RFC 9112 9.6: a server that sends "close" MUST NOT process further requests on the connection.
// The connection lingers after a 413 so the client reads it; a request sent meanwhile was
// processed, its event stored, and its answer never sent.
it("does not process a request sent after an answer that closed the connection", async () => {
  const before = await accepted();
  const { socket, received } = await open();
  socket.write(event("over", 5000));
  await vi.waitFor(() => expect(received()).toMatch(/<FIN>$/), { timeout: 2_000 });
  expect(received()).toMatch(/^HTTP\/1\.1 413 [\s\S]*connection: close/i);
  socket.write(`${"x".repeat(5000)}${event("after")}{}`);
  expect(await settle(socket)).toBe(before);
});

// Every event stored is answered: a refusal among pipelined requests either keeps the
// connection (its body was read through) and the rest are answered, or closes it and the rest
// are not processed.
it("answers every pipelined request it processes around a 413", async () => {
  const before = await accepted();
  const { socket, received } = await open();
  socket.write(`${event("p1")}{}${event("p2", 5000)}${"x".repeat(5000)}${event("p3")}{}`);
  await vi.waitFor(() => expect(received()).toMatch(/HTTP\/1\.1 413 /), { timeout: 2_000 });
  const stored = await settle(socket);
  const answered202 = received().match(/HTTP\/1\.1 202 /g)?.length ?? 0;
  expect(answered202).toBeGreaterThanOrEqual(1);
  expect(stored).toBe(before + answered202);
});
