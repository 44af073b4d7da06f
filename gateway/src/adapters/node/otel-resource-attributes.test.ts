import { envDetector } from "@opentelemetry/resources";
import { afterEach, describe, expect, it } from "vitest";
import { resourceAttributesProblem } from "./otel-resource-attributes.js";

const saved = process.env.OTEL_RESOURCE_ATTRIBUTES;
afterEach(() => {
  if (saved === undefined) Reflect.deleteProperty(process.env, "OTEL_RESOURCE_ATTRIBUTES");
  else process.env.OTEL_RESOURCE_ATTRIBUTES = saved;
});

/** Whether the SDK's own environment detector takes the value (it drops all of it, or none). */
function sdkReads(raw: string): boolean {
  process.env.OTEL_RESOURCE_ATTRIBUTES = raw;
  return Object.keys(envDetector.detect().attributes ?? {}).length > 0;
}

describe("resourceAttributesProblem", () => {
  it.each(["deployment.environment=prod,team=a%2Cb", " k = v ,, x=%3D ", `k=${"v".repeat(255)}`])(
    "says nothing about a value the SDK reads: %s",
    (raw) => {
      expect(sdkReads(raw)).toBe(true);
      expect(resourceAttributesProblem(raw)).toBeUndefined();
    },
  );

  it.each([
    ["deployment.environment=prod,team=a,b", /^OTEL_RESOURCE_ATTRIBUTES: entry 3 is not key=value/],
    ["a=b=c", /entry 1 is not key=value \(',' and '=' .* %2C and %3D\)/],
    ["ok=1, =v", /entry 2 has an empty key/],
    ["k=%E0%A4%A", /entry 1 is not valid percent-encoding/],
    [`k=${"v".repeat(256)}`, /entry 1 \("k"\) is longer than 255 characters/],
  ])("names what makes the SDK ignore all of %s", (raw, message) => {
    expect(sdkReads(raw)).toBe(false);
    const problem = resourceAttributesProblem(raw);
    expect(problem).toMatch(message);
    expect(problem).toMatch(
      /the SDK ignores the whole variable, so none of its attributes are set$/,
    );
  });
});
