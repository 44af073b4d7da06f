import { request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { recordingLogger } from "../../test/support/dispatcher-kit.js";
import {
  type GatewayOverHttp,
  startGatewayOverHttp,
} from "../../test/support/gateway-over-http.js";
import { rawExchange, statusOf } from "../../test/support/raw-exchange.js";
import { type RecordingSink, startRecordingSink } from "../../test/support/recording-sink.js";
import { githubSignature } from "../../test/support/webhook-gateway.js";

const SECRET = "over-http-secret";
/** A GitLab secret token beyond ASCII: GitLab sends it in the header as UTF-8 bytes. */
const GITLAB_TOKEN = "café-tök-秘密";
let sink: RecordingSink;
let http: GatewayOverHttp;
let base: string;
const logger = recordingLogger();

beforeAll(async () => {
  sink = await startRecordingSink();
  const config = {
    limits: { maxEventBytes: 2048 },
    store: { kind: "memory" },
    subscriptions: [{ id: "pushes", types: ["com.github.push"], sink: `${sink.url}/pushes` }],
    adapters: [
      { id: "github-main", kind: "github", secret: SECRET },
      { id: "gitlab-main", kind: "gitlab", secret: GITLAB_TOKEN },
    ],
  };
  http = await startGatewayOverHttp(config, "http.json", { logger });
  base = http.base;
});
afterAll(async () => {
  await http.close();
  await sink.close();
});

/** A POST over a real socket; `chunked` sends the body without Content-Length. */
function post(path: string, headers: Record<string, string>, body: string, chunked = false) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(`${base}${path}`, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.on("error", reject);
    if (chunked) {
      req.write(body.slice(0, 10));
      req.end(body.slice(10));
    } else {
      req.end(body);
    }
  });
}

describe("webhooks through the Node listener, delivered to a real sink", () => {
  it("a signed GitHub push arrives at the sink as a binary-mode CloudEvent", async () => {
    const payload = JSON.stringify({
      ref: "refs/heads/main",
      repository: { url: "https://github.com/octo-org/hello-world" },
    });
    const res = await post(
      "/webhooks/github-main",
      {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "d6a6b5c0-0000-11ef-8000-000000000001",
        "x-hub-signature-256": githubSignature(SECRET, payload),
      },
      payload,
      true,
    );
    expect(res.status).toBe(202);
    const [received] = await sink.waitFor(1);
    expect(received?.path).toBe("/pushes");
    expect(received?.headers).toMatchObject({
      "ce-id": "d6a6b5c0-0000-11ef-8000-000000000001",
      "ce-source": "https://github.com/octo-org/hello-world",
      "ce-type": "com.github.push",
      "ce-subject": "refs/heads/main",
      "ce-authtype": "api_key",
      "ce-authid": "github-main",
      "content-type": "application/json",
    });
    expect(received?.body.toString()).toBe(payload);
  });

  it("answers problem documents over HTTP: 401, 404, 405, 413", async () => {
    const payload = JSON.stringify({ ref: "x" });
    const unsigned = await post(
      "/webhooks/github-main",
      { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": "u" },
      payload,
    );
    expect(unsigned.status).toBe(401);
    expect(JSON.parse(unsigned.body).code).toBe("invalid_signature");
    const unknown = await post("/webhooks/nope", { "content-type": "application/json" }, "{}");
    expect(unknown.status).toBe(404);
    const get = await new Promise<number>((resolve) => {
      request(`${base}/webhooks/github-main`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end();
    });
    expect(get).toBe(405);
    // An adapter id nobody configured is 404 whatever the method, as for POST and OPTIONS (a GET
    // was 405, as if the adapter existed).
    for (const method of ["GET", "PUT", "DELETE"]) {
      const status = await new Promise<number>((resolve) => {
        request(`${base}/webhooks/nope`, { method }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).end();
      });
      expect(status).toBe(404);
    }
    const big = JSON.stringify({ filler: "x".repeat(4096) });
    const tooLarge = await post(
      "/webhooks/github-main",
      {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "big",
        "x-hub-signature-256": githubSignature(SECRET, big),
      },
      big,
    );
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.body).code).toBe("payload_too_large");
  });

  it("a body just within maxEventBytes is 413 when its event is not, and the detail says why", async () => {
    const payload = { ref: "refs/heads/main", repository: { url: "https://github.com/o/r" } };
    const filler = 2048 - 40 - JSON.stringify({ ...payload, filler: "" }).length;
    const body = JSON.stringify({ ...payload, filler: "x".repeat(filler) });
    const res = await post(
      "/webhooks/github-main",
      {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "just-within",
        "x-hub-signature-256": githubSignature(SECRET, body),
      },
      body,
    );
    expect(res.status).toBe(413);
    const problem = JSON.parse(res.body);
    expect(problem).toMatchObject({ code: "payload_too_large", limit: 2048 });
    expect(problem.detail).toMatch(
      /^the event is \d+ bytes \(its attributes and data\); the limit is 2048$/,
    );
  });

  it("takes a GitLab secret token beyond ASCII, sent as UTF-8 bytes (was 401: read as Latin-1)", async () => {
    const payload = JSON.stringify({
      object_kind: "push",
      checkout_sha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
      repository: { homepage: "http://example.com/mike/diaspora" },
    });
    // As GitLab sends it: the token's UTF-8 bytes in the header (a string socket write is UTF-8).
    const send = (token: string) =>
      rawExchange(
        Number(new URL(base).port),
        "POST /webhooks/gitlab-main HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n" +
          "Content-Type: application/json\r\nX-Gitlab-Event: Push Hook\r\n" +
          `X-Gitlab-Token: ${token}\r\nContent-Length: ${payload.length}\r\n\r\n${payload}`,
      );
    expect(statusOf(await send(GITLAB_TOKEN))).toBe(202);
    const wrong = await send("café-tök-秘");
    expect(statusOf(wrong)).toBe(401);
    expect(wrong).toContain('"code":"invalid_signature"');
  });

  it("answers the webhook handshake (OPTIONS) on a configured adapter's path, 404 on another", async () => {
    const handshake = await fetch(`${base}/webhooks/github-main`, {
      method: "OPTIONS",
      headers: { "WebHook-Request-Origin": "github.example.com", "WebHook-Request-Rate": "60" },
    });
    expect(handshake.status).toBe(200);
    expect(handshake.headers.get("webhook-allowed-origin")).toBe("github.example.com");
    expect(handshake.headers.get("webhook-allowed-rate")).toBe("60");
    expect(handshake.headers.get("allow")).toBe("POST, OPTIONS");
    const unknown = await fetch(`${base}/webhooks/nope`, {
      method: "OPTIONS",
      headers: { "WebHook-Request-Origin": "github.example.com" },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("content-type")).toBe("application/problem+json");
  });

  it.each([
    ["content-length", 'Content-Length: 1000\r\n\r\n{"ref":'],
    ["chunked", 'Transfer-Encoding: chunked\r\n\r\n6\r\n{"ref"\r\n'],
  ])(
    "a client that goes away mid-body (%s) is refused as malformed, not logged as a server error",
    async (_, rest) => {
      const before = logger.lines.length;
      const socket = connect(Number(new URL(base).port), "127.0.0.1");
      await new Promise<void>((ok) => socket.once("connect", () => ok()));
      // The headers and part of the body go out; then the connection drops.
      socket.write(
        "POST /webhooks/github-main HTTP/1.1\r\nHost: gw.test\r\n" +
          "Content-Type: application/json\r\nX-GitHub-Event: push\r\n" +
          `X-Hub-Signature-256: sha256=${"0".repeat(64)}\r\n${rest}`,
        () => socket.destroy(),
      );
      const outcome = async () =>
        logger.lines
          .slice(before)
          .find((line) => line.fields?.path === "/webhooks/github-main" && line.level !== "info");
      await vi.waitFor(async () => {
        expect(await outcome()).toBeDefined();
      });
      expect(await outcome()).toMatchObject({
        level: "debug",
        message: "request refused",
        // The detail the client was told, so an operator sees why without a packet capture.
        fields: { status: 400, code: "malformed_request", detail: expect.stringMatching(/body/) },
      });
    },
  );
});
