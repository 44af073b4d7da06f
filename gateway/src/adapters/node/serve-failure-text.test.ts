import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type RecordingSink, startRecordingSink } from "../../../test/support/recording-sink.js";
import { type ScriptedSink, startScriptedSink } from "../../../test/support/scripted-sink.js";
import type { Logger } from "../../ports/logger.js";
import { type RunningServer, serve } from "./serve.js";

// A sink's error answer is failure text (the dead set, the log, `heralderrordata`): the
// subscription's secrets must not show in it, whole or in part, wherever the sink puts them.

const TOKEN = "tkn_9f8e7d6c5b4a39281706-very-long-token";
const BASIC = Buffer.from("svc-user:p4ssw0rd-long").toString("base64");

let dir: string;
let server: RunningServer | undefined;
let dlq: RecordingSink;
const sinks: ScriptedSink[] = [];
const logged: Record<string, unknown>[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, fields) => logged.push({ message, ...fields }),
  error: (message, fields) => logged.push({ message, ...fields }),
};

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-secrets-"));
  dlq = await startRecordingSink(204);
  logged.length = 0;
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const sink of sinks.splice(0)) await sink.close();
  await dlq.close();
  await rm(dir, { recursive: true, force: true });
});

/** `herald serve` on a SQLite file with one subscription per sink, ids a, b, ... */
async function start(subscriptions: readonly Record<string, unknown>[]) {
  await writeFile(
    join(dir, "herald.json"),
    JSON.stringify({ store: { kind: "sqlite", path: "h.db" }, subscriptions }),
  );
  server = await serve({
    configPath: "herald.json",
    port: 0,
    noAuth: true,
    cwd: dir,
    env: {},
    logger,
    print: () => {},
    watchConfig: false,
  });
  return server;
}

async function sinkAnswering(status: number, body: (authorization: string) => string) {
  const sink = await startScriptedSink([
    (request) => ({ status, body: body(String(request.headers.authorization)) }),
  ]);
  sinks.push(sink);
  return sink;
}

async function publish(url: string, type: string) {
  const res = await fetch(`${url}/events`, {
    method: "POST",
    headers: { "ce-specversion": "1.0", "ce-id": type, "ce-source": "/t", "ce-type": type },
  });
  expect(res.status).toBe(202);
}

async function deadError(url: string, id: string): Promise<string> {
  // Its own deadline, under the test's: a delivery that never dies fails here, by name.
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for a dead job of ${id}`);
    const page = (await (await fetch(`${url}/subscriptions/${id}/dead`)).json()) as {
      items: { failure: { error: string } }[];
    };
    const [item] = page.items;
    if (item !== undefined) return item.failure.error;
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

const subscription = (id: string, sink: string, authorization: string, extra = {}) => ({
  id,
  types: [id],
  sink,
  protocolsettings: { headers: { authorization } },
  delivery: { retry: 0, ...extra },
});

describe("herald serve: secrets in a sink's error answer", () => {
  it("hides a token the sink echoes without its auth scheme, and Basic credentials decoded", async () => {
    const credentialsOf = (auth: string) => auth.split(" ")[1] ?? "";
    const bearer = await sinkAnswering(401, (auth) => `invalid token ${credentialsOf(auth)}`);
    const basic = await sinkAnswering(401, (auth) => {
      const [user, password] = Buffer.from(credentialsOf(auth), "base64").toString().split(":");
      return `invalid credentials ${credentialsOf(auth)} (${user}:${password}; ${password})`;
    });
    const gw = await start([
      subscription("bearer", bearer.url, `Bearer ${TOKEN}`),
      subscription("basic", basic.url, `Basic ${BASIC}`),
    ]);
    await publish(gw.url, "bearer");
    await publish(gw.url, "basic");

    expect(await deadError(gw.url, "bearer")).toBe("invalid token [redacted]");
    expect(await deadError(gw.url, "basic")).toBe(
      "invalid credentials [redacted] ([redacted]; [redacted])",
    );
    const text = JSON.stringify(logged);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(BASIC);
    expect(text).not.toContain("p4ssw0rd-long");
  });

  it("never leaves part of a secret where the 1024 bytes of failure text end", async () => {
    // 1000 bytes, then the token: a cut at 1024 bytes goes through it.
    const sink = await sinkAnswering(400, () => `${"a".repeat(1000)} token=${TOKEN} and more`);
    const gw = await start([
      subscription("cut", sink.url, `Bearer ${TOKEN}`, { deadLetterSink: `${dlq.url}/dlq` }),
      subscription("kept", sink.url, `Bearer ${TOKEN}`),
    ]);
    await publish(gw.url, "cut");
    await publish(gw.url, "kept");

    const kept = await deadError(gw.url, "kept");
    expect(kept).toBe(`${"a".repeat(1000)} token=`);
    const [letter] = await dlq.waitFor(1);
    const data = decodeURIComponent(String(letter?.headers["ce-heralderrordata"]));
    expect(data).toBe(`${"a".repeat(1000)} token=`);
    for (const text of [kept, data, JSON.stringify(logged)]) {
      // Not even its first 8 characters.
      expect(text).not.toContain(TOKEN.slice(0, 8));
    }
  });

  it("keeps failure text within 1024 bytes where hiding short secrets lengthens it", async () => {
    // An 8-character header value, echoed 128 times in the first KiB: "[redacted]" is longer.
    const sink = await sinkAnswering(400, () => "K3y-8ch!".repeat(200));
    const gw = await start([
      {
        id: "short",
        types: ["short"],
        sink: sink.url,
        protocolsettings: { headers: { "x-api-key": "K3y-8ch!" } },
        delivery: { retry: 0 },
      },
    ]);
    await publish(gw.url, "short");
    const error = await deadError(gw.url, "short");
    expect(Buffer.byteLength(error)).toBeLessThanOrEqual(1024);
    expect(error).not.toContain("K3y-8ch!");
    const [line] = logged.filter((l) => l.message === "delivery failed; kept as dead");
    expect(Buffer.byteLength(String(line?.error))).toBeLessThanOrEqual(1024);
  });
});

describe("herald serve: a dead-letter sink that fails too", () => {
  it("says why in the dead set, also after 1024 bytes of the sink's own answer", async () => {
    const sink = await sinkAnswering(500, () => "x".repeat(2_000));
    const refusing = await startScriptedSink([{ status: 410, body: "dead-letter queue retired" }]);
    sinks.push(refusing);
    const gw = await start([
      {
        id: "long",
        types: ["long"],
        sink: sink.url,
        delivery: { retry: 0, deadLetterSink: refusing.url },
      },
    ]);
    await publish(gw.url, "long");

    const error = await deadError(gw.url, "long");
    expect(Buffer.byteLength(error)).toBeLessThanOrEqual(1024);
    expect(error).toMatch(/^x+ \(dead-letter sink: HTTP 410: dead-letter queue retired\)$/);
  });
});
