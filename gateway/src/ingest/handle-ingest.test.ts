import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Logger } from "../ports/logger.js";
import { createIngestHandler } from "./handle-ingest.js";
import { requestSource } from "./ingest-source.js";
import { createPublishGate } from "./publish-gate.js";

// What ingest logs: trace ids always, payloads only when asked.

function capture() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push({ level, message, ...(fields === undefined ? {} : { fields }) });
  const logger: Logger = {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
  };
  return { lines, logger };
}

function handler(logger: Logger, logPayloads: boolean) {
  const accepted: CloudEvent[] = [];
  const ingest = createIngestHandler({
    limits: { maxEventBytes: 262_144, maxBatchEvents: 100, maxBatchBytes: 1_048_576 },
    auth: undefined,
    clock: { now: () => Date.UTC(2026, 0, 1) },
    accept: async (events) => {
      accepted.push(...events);
      return { events: events.length, duplicates: 0, deliveries: 0 };
    },
    gate: createPublishGate(),
    logger,
    logPayloads,
  });
  return { ingest, accepted };
}

const request = () =>
  new Request("http://gw/events", {
    method: "POST",
    headers: {
      "ce-specversion": "1.0",
      "ce-id": "p-1",
      "ce-source": "/s",
      "ce-type": "t",
      "content-type": "application/json",
      authorization: "Bearer secret-token-value",
      traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    },
    body: '{"card":"4111 1111 1111 1111"}',
  });

describe("ingest logging", () => {
  it("logs the trace ids but neither the payload nor the token by default", async () => {
    const { lines, logger } = capture();
    await handler(logger, false).ingest(requestSource(request()));
    const text = JSON.stringify(lines);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({
      trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
      span_id: "00f067aa0ba902b7",
    });
    expect(text).not.toContain("4111");
    expect(text).not.toContain("secret-token-value");
  });

  it("adds each accepted event, data included, when payload logging is on", async () => {
    const { lines, logger } = capture();
    await handler(logger, true).ingest(requestSource(request()));
    expect(lines[0]?.level).toBe("debug");
    expect(lines[0]?.fields?.payloads).toMatchObject([
      { attributes: { id: "p-1", source: "/s" }, data: '{"card":"4111 1111 1111 1111"}' },
    ]);
    expect(JSON.stringify(lines)).not.toContain("secret-token-value");
  });
});
