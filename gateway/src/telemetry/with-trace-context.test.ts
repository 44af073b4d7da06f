import { describe, expect, it } from "vitest";
import type { AttributeValue, CloudEvent } from "../event/cloud-event.js";
import { withTraceContext } from "./with-trace-context.js";

const PRODUCER = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const INGEST = {
  traceId: "0af7651916cd43dd8448eb211c80319c",
  spanId: "b7ad6b7169203331",
  flags: 1,
};
const INGEST_PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

function event(extra: Record<string, AttributeValue>): CloudEvent {
  return {
    attributes: { specversion: "1.0", id: "1", source: "/t", type: "t", ...extra },
    data: { kind: "json", value: { n: 1 } },
  };
}

describe("withTraceContext (distributed-tracing extension)", () => {
  it("keeps a valid traceparent and tracestate as sent: the same event", () => {
    const given = event({ traceparent: PRODUCER, tracestate: "rojo=00f067aa0ba902b7,congo=t61" });
    expect(withTraceContext(given, INGEST)).toBe(given);
    const alone = event({ traceparent: PRODUCER });
    expect(withTraceContext(alone, INGEST)).toBe(alone);
  });

  it("keeps a valid tracestate with blanks around its members exactly as sent (W3C 3.3.1.2)", () => {
    for (const tracestate of ["rojo=00f067aa0ba902b7, congo=t61", " a=1 , b=2", "a=1,,b=2"]) {
      const given = event({ traceparent: PRODUCER, tracestate });
      expect(withTraceContext(given, INGEST)).toBe(given);
    }
  });

  it("sets both from the context when the traceparent is missing or not W3C", () => {
    for (const traceparent of [undefined, "garbage", `00-${"0".repeat(32)}-00f067aa0ba902b7-01`]) {
      const given = event(
        traceparent === undefined ? { tracestate: "a=1" } : { traceparent, tracestate: "a=1" },
      );
      const out = withTraceContext(given, { ...INGEST, tracestate: "herald=1" });
      expect(out.attributes.traceparent).toBe(INGEST_PARENT);
      expect(out.attributes.tracestate).toBe("herald=1");
      expect(out.data).toBe(given.data);
    }
  });

  it("replaces a traceparent padded with whitespace: it would go on as %20 or a padded JSON string", () => {
    for (const traceparent of [` ${PRODUCER}`, `${PRODUCER} `, `\t${PRODUCER}`]) {
      const out = withTraceContext(event({ traceparent }), INGEST);
      expect(out.attributes.traceparent).toBe(INGEST_PARENT);
    }
  });

  it("drops a tracestate that is not a valid W3C list beside a kept traceparent (3.3)", () => {
    const invalid: AttributeValue[] = [
      "Bad Key=1",
      "A=1",
      "a=b=c",
      "a=1,a=2",
      Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(","),
      "",
      true,
      12,
    ];
    for (const tracestate of invalid) {
      const out = withTraceContext(event({ traceparent: PRODUCER, tracestate }), INGEST);
      expect(out.attributes.traceparent).toBe(PRODUCER);
      expect(Object.hasOwn(out.attributes, "tracestate"), String(tracestate)).toBe(false);
      expect(out.data).toEqual({ kind: "json", value: { n: 1 } });
    }
  });

  it("passes a valid tracestate over 512 characters on cut as 3.3.1.5 says", () => {
    const members = Array.from({ length: 20 }, (_, i) => `k${i}=${"v".repeat(60)}`);
    const out = withTraceContext(
      event({ traceparent: PRODUCER, tracestate: members.join(",") }),
      INGEST,
    );
    const kept = String(out.attributes.tracestate);
    expect(kept.length).toBeLessThanOrEqual(512);
    expect(kept).toBe(members.slice(0, kept.split(",").length).join(","));
    expect(out.attributes.traceparent).toBe(PRODUCER);
  });
});
