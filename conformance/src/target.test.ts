import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTransport } from "./target.js";

describe("createTransport", () => {
  let seen: IncomingMessage[] = [];
  let bodies: string[] = [];
  let url: string;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      seen.push(req);
      bodies.push(body);
      res.writeHead(202, { "x-reply": "yes" });
      res.end("ok");
    });
  });
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends header names with their case, a body, and a bearer token over HTTP", async () => {
    seen = [];
    bodies = [];
    const send = createTransport({ url }, { token: "t0k", requestTimeoutMs: 2000 });
    const res = await send({
      method: "POST",
      path: "/events",
      headers: { "CE-Id": "1" },
      body: "hello",
    });
    send.close();
    expect(res.status).toBe(202);
    expect(res.headers.get("x-reply")).toBe("yes");
    expect(new TextDecoder().decode(res.body)).toBe("ok");
    expect(seen[0]?.url).toBe("/base/events");
    expect(seen[0]?.rawHeaders).toEqual(
      expect.arrayContaining(["CE-Id", "1", "Authorization", "Bearer t0k"]),
    );
    expect(bodies[0]).toBe("hello");
  });

  it("calls an in-process fetch handler with a Request", async () => {
    let got: Request | undefined;
    const send = createTransport(
      {
        fetch: async (req) => {
          got = req;
          return new Response("x", { status: 415 });
        },
      },
      { requestTimeoutMs: 2000 },
    );
    const res = await send({
      method: "POST",
      path: "/",
      headers: { "content-type": "a/b" },
      body: "{}",
    });
    expect(res.status).toBe(415);
    expect(new URL(got!.url).pathname).toBe("/");
    expect(got?.headers.get("authorization")).toBeNull();
    expect(await got?.text()).toBe("{}");
  });

  it("lets one request drop the run's token or send another one", async () => {
    const seenAuth: (string | null)[] = [];
    const send = createTransport(
      {
        fetch: async (req) => {
          seenAuth.push(req.headers.get("authorization"));
          return new Response(null, { status: 202 });
        },
      },
      { token: "run-token", requestTimeoutMs: 2000 },
    );
    await send({ method: "POST", path: "/events" });
    await send({ method: "POST", path: "/events", bearer: null });
    await send({ method: "POST", path: "/events", bearer: "other" });
    await send({ method: "POST", path: "/events", bearer: null, headers: { Authorization: "x" } });
    expect(seenAuth).toEqual(["Bearer run-token", null, "Bearer other", "x"]);
  });

  it("bounds a request that never answers", async () => {
    const send = createTransport(
      { fetch: () => new Promise<Response>(() => {}) },
      { requestTimeoutMs: 20 },
    );
    await expect(send({ method: "GET", path: "/events" })).rejects.toThrow(
      /no response within 20 ms/,
    );
  });

  it("rejects a target that is neither", () => {
    expect(() => createTransport({} as never, { requestTimeoutMs: 1 })).toThrow(TypeError);
  });
});
