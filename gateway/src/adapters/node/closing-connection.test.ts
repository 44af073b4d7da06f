import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { silentLogger } from "../../ports/logger.js";
import { type RunningServer, serve } from "./serve.js";

let dir: string;
let server: RunningServer;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-closing-"));
  await writeFile(
    join(dir, "herald.yaml"),
    "limits: { maxEventBytes: 1024 }\nstore: { kind: sqlite, path: h.db }\n",
  );
  server = await serve({
    configPath: "herald.yaml",
    port: 0,
    noAuth: true,
    cwd: dir,
    env: {},
    logger: silentLogger,
    print: () => {},
    watchConfig: false,
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const accepted = async () => {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^herald_events_accepted_total (\d+)$/m.exec(text)?.[1] ?? 0);
};

/** A connection that keeps sending after the server closed its side, as an uploading client. */
async function open(): Promise<{ socket: Socket; received: () => string }> {
  const socket = connect({ port: Number(new URL(server.url).port), allowHalfOpen: true });
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
  await new Promise((wait) => setTimeout(wait, 300));
  expect(await accepted()).toBe(before);
  socket.destroy();
});

// Every event stored is answered: a refusal among pipelined requests either keeps the
// connection (its body was read through) and the rest are answered, or closes it and the rest
// are not processed.
it("answers every pipelined request it processes around a 413", async () => {
  const before = await accepted();
  const { socket, received } = await open();
  socket.write(`${event("p1")}{}${event("p2", 5000)}${"x".repeat(5000)}${event("p3")}{}`);
  await vi.waitFor(() => expect(received()).toMatch(/HTTP\/1\.1 413 /), { timeout: 2_000 });
  await new Promise((wait) => setTimeout(wait, 300));
  const answered202 = received().match(/HTTP\/1\.1 202 /g)?.length ?? 0;
  expect(answered202).toBeGreaterThanOrEqual(1);
  expect(await accepted()).toBe(before + answered202);
  socket.destroy();
});
