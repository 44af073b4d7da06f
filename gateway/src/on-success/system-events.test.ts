import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../event/cloud-event.js";
import { correlationOf, withSystemProvenance } from "./system-events.js";

describe("withSystemProvenance", () => {
  it("stamps the gateway's provenance and drops what only the gateway writes", () => {
    const reply: CloudEvent = {
      attributes: {
        specversion: "1.0",
        id: "r-1",
        source: "/billing",
        type: "com.example.invoice",
        authtype: "user",
        authclaims: "{}",
        recordedtime: "1999-01-01T00:00:00Z",
        heralderrordest: "http://forged.example/",
        heralderrorcode: 503,
        heralderrordata: "forged",
        heraldattempts: 4,
      },
      data: { kind: "json", value: { invoice: 7 } },
    };
    const recordedAt = Date.UTC(2026, 0, 1);
    expect(withSystemProvenance(reply, { authid: "subscription:billing", recordedAt })).toEqual({
      attributes: {
        specversion: "1.0",
        id: "r-1",
        source: "/billing",
        type: "com.example.invoice",
        recordedtime: "2026-01-01T00:00:00.000Z",
        authtype: "system",
        authid: "subscription:billing",
      },
      data: { kind: "json", value: { invoice: 7 } },
    });
  });
});

describe("correlationOf", () => {
  const cause = (extra: Record<string, string | number | boolean>): CloudEvent => ({
    attributes: { specversion: "1.0", id: "e-1", source: "/orders", type: "t", ...extra },
  });

  it("starts a chain at the cause's id, and continues one the cause belongs to", () => {
    expect(correlationOf(cause({}))).toEqual({ causationid: "e-1", correlationid: "e-1" });
    expect(correlationOf(cause({ correlationid: "c-9" }))).toEqual({
      causationid: "e-1",
      correlationid: "c-9",
    });
  });

  it("continues a chain whose correlationid came as a JSON number or boolean (structured mode)", () => {
    // Binary mode carries it as the header `ce-correlationid: 42`; the chain must not depend on
    // the mode the publisher chose.
    expect(correlationOf(cause({ correlationid: 42 })).correlationid).toBe("42");
    expect(correlationOf(cause({ correlationid: true })).correlationid).toBe("true");
  });

  it("starts the chain at the cause's id when its correlationid is empty", () => {
    // The correlation extension: correlationid, "if present, MUST be a non-empty string". A
    // publisher may send `ce-correlationid:` empty; the reply and receipt must not repeat it.
    expect(correlationOf(cause({ correlationid: "" }))).toEqual({
      causationid: "e-1",
      correlationid: "e-1",
    });
  });
});
