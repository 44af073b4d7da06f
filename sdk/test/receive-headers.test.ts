import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MalformedMessage, receive } from "../src/receive/index.js";
import { type SinkServer, startSink, toRequest } from "./sink-server.js";

let sink: SinkServer;
beforeAll(async () => {
  sink = await startSink();
});
afterAll(async () => {
  await sink?.close();
});

/** Writes a binary-mode request with these raw header lines to the sink, byte for byte. */
async function postRaw(lines: readonly Buffer[]): Promise<Request> {
  const { port } = new URL(sink.url);
  const count = sink.received.length;
  const head = Buffer.concat([
    Buffer.from("POST /raw HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"),
    Buffer.from("ce-specversion: 1.0\r\nce-id: 1\r\nce-source: /raw\r\nce-type: t\r\n"),
    ...lines.map((line) => Buffer.concat([line, Buffer.from("\r\n")])),
    Buffer.from("Content-Length: 0\r\n\r\n"),
  ]);
  const socket = connect(Number(port), "127.0.0.1");
  socket.on("data", () => {});
  socket.end(head);
  const received = await sink.waitFor(count + 1);
  return toRequest(received[count]!);
}

describe("receive: ce-* header values over real HTTP (binding 3.1.3.2)", () => {
  it("a double-quoted value, as older senders wrote it, is unescaped before percent-decoding", async () => {
    const request = await postRaw([
      Buffer.from('ce-subject: "hello \\"world\\""'),
      Buffer.from('ce-note: "50%25 off"'),
    ]);
    const event = await receive(request);
    expect(event.subject).toBe('hello "world"');
    expect(event.note).toBe("50% off");
  });

  it("raw UTF-8 bytes in a header are read as UTF-8; invalid bytes are refused", async () => {
    const event = await receive(
      await postRaw([Buffer.concat([Buffer.from("ce-subject: "), Buffer.from("Straße", "utf8")])]),
    );
    expect(event.subject).toBe("Straße");
    const latin1 = await postRaw([
      Buffer.concat([Buffer.from("ce-subject: "), Buffer.from("Stra\xdfe", "latin1")]),
    ]);
    await expect(receive(latin1)).rejects.toThrow(MalformedMessage);
  });
});
