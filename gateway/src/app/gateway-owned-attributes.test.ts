import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type GatewayOverHttp,
  startGatewayOverHttp,
} from "../../test/support/gateway-over-http.js";
import { type RecordingSink, startRecordingSink } from "../../test/support/recording-sink.js";

// A publisher must not be able to forge what only the gateway writes (DESIGN.md "Attributes the
// gateway sets"): over a real connection, in every content mode, the sink never sees them.
let sink: RecordingSink;
let http: GatewayOverHttp;

beforeAll(async () => {
  sink = await startRecordingSink();
  http = await startGatewayOverHttp(
    { store: { kind: "memory" }, subscriptions: [{ id: "all", sink: `${sink.url}/in` }] },
    "owned.json",
  );
});
afterAll(async () => {
  await http.close();
  await sink.close();
});

const FORGED = {
  heralderrordest: "https://bank.example.com/hook",
  heralderrorcode: 500,
  heralderrordata: "payment failed",
  heraldattempts: 9,
  heraldhops: 5,
  recordedtime: "1999-01-01T00:00:00Z",
  authid: "admin",
};
const OWNED = Object.keys(FORGED);

function post(path: string, contentType: string, body: string, headers = {}) {
  return fetch(`${http.base}${path}`, {
    method: "POST",
    headers: { "content-type": contentType, ...headers },
    body,
  });
}

describe("gateway-owned attributes a publisher sends are dropped, and the event accepted", () => {
  it("binary mode (POST /events)", async () => {
    const before = sink.received.length;
    const forgedHeaders = Object.fromEntries(
      Object.entries(FORGED).map(([name, value]) => [`ce-${name}`, String(value)]),
    );
    const res = await post("/events", "application/json", "{}", {
      "ce-specversion": "1.0",
      "ce-id": "bin-1",
      "ce-source": "/forger",
      "ce-type": "com.example.t",
      "ce-heraldnote": "kept",
      ...forgedHeaders,
    });
    expect(res.status).toBe(202);
    const [delivery] = (await sink.waitFor(before + 1)).slice(before);
    for (const name of OWNED.filter((n) => n !== "recordedtime" && n !== "authid")) {
      expect(delivery?.headers[`ce-${name}`], name).toBeUndefined();
    }
    expect(delivery?.headers["ce-recordedtime"]).not.toBe(FORGED.recordedtime);
    expect(delivery?.headers["ce-authtype"]).toBe("unauthenticated");
    expect(delivery?.headers["ce-authid"]).toBeUndefined();
    expect(delivery?.headers["ce-heraldnote"]).toBe("kept");
  });

  it.each([
    ["structured mode (POST /)", "/", "application/cloudevents+json", false],
    ["batch mode (POST /events)", "/events", "application/cloudevents-batch+json", true],
  ])("%s", async (_, path, type, batch) => {
    const before = sink.received.length;
    const event = {
      specversion: "1.0",
      id: `json-${path}`,
      source: "/forger",
      type: "com.example.t",
      ...FORGED,
    };
    const res = await post(path, type, JSON.stringify(batch ? [event] : event));
    expect(res.status).toBe(202);
    const [delivery] = (await sink.waitFor(before + 1)).slice(before);
    expect(delivery?.headers["ce-id"]).toBe(event.id);
    for (const name of [
      "heralderrordest",
      "heralderrorcode",
      "heralderrordata",
      "heraldattempts",
      "heraldhops",
      "authid",
    ]) {
      expect(delivery?.headers[`ce-${name}`], name).toBeUndefined();
    }
    expect(delivery?.headers["ce-recordedtime"]).not.toBe(FORGED.recordedtime);
  });
});
