import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../event/cloud-event.js";
import { withSystemProvenance } from "./system-events.js";

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
