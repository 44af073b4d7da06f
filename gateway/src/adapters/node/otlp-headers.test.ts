import { parseKeyPairsIntoRecord } from "@opentelemetry/core";
import { describe, expect, it } from "vitest";
import { checkOtlpHeaders, otlpSecrets } from "./otlp-headers.js";

const VAR = "OTEL_EXPORTER_OTLP_HEADERS";

describe("checkOtlpHeaders", () => {
  it("keeps well-formed entries as written, without a warning", () => {
    const raw = "api-key=k3y, x-team=core%20team,authorization=Basic dXNlcjpwYXNzd29yZA==";
    expect(checkOtlpHeaders(VAR, raw)).toEqual({ kept: raw, warnings: [] });
  });

  it("drops an entry whose name Node would refuse, never showing its text", () => {
    // `name: value` instead of `name=value`: the SDK reads the name `Authorization: Basic
    // dXNlcjpwYXNzd29yZA`, and Node's refusal of it quoted the credential into the log.
    const checked = checkOtlpHeaders(VAR, "Authorization: Basic dXNlcjpwYXNzd29yZA==,api-key=k");
    expect(checked.kept).toBe("api-key=k");
    expect(checked.warnings).toEqual([
      `${VAR}: entry 1 has a name that is not an HTTP header name (write name=value); it is not sent (its text is not shown: it may hold a credential)`,
    ]);
    expect(checked.warnings.join()).not.toContain("dXNlcjpwYXNz");
  });

  it("names the entries the SDK drops without a word, and a value it cuts at ';'", () => {
    const checked = checkOtlpHeaders(
      VAR,
      "Authorization Bearer s3cret,=v,k=,k=%E0%A4%A,x-key=a;b,bad=line%0Abreak,,ok=1",
    );
    expect(checked.kept).toBe("x-key=a;b,ok=1");
    expect(checked.warnings).toEqual([
      expect.stringMatching(new RegExp(`^${VAR}: entry 1 is not name=value; it is not sent`)),
      expect.stringMatching(/^[^:]+: entry 2 is not name=value/),
      expect.stringMatching(/^[^:]+: entry 3 is not name=value/),
      expect.stringMatching(/^[^:]+: entry 4 is not valid percent-encoding/),
      expect.stringMatching(/^[^:]+: entry 5 \("x-key"\) is sent only up to its ';'/),
      expect.stringMatching(/^[^:]+: entry 6 \("bad"\) has a control character in its value/),
    ]);
    expect(checked.warnings.join()).not.toMatch(/s3cret|line|break/);
  });

  it("keeps exactly the entries the SDK reads whole", () => {
    // The SDK's own parser is the reference: what is kept parses to the same headers.
    const raw = "a=1,Authorization: Bearer t=,b=%20two%20,c=,d=x%ZZ";
    const { kept } = checkOtlpHeaders(VAR, raw);
    expect(parseKeyPairsIntoRecord(kept)).toEqual({ a: "1", b: " two " });
  });

  it("keeps nothing when no entry can be sent", () => {
    expect(checkOtlpHeaders(VAR, "Authorization: Bearer abc").kept).toBeUndefined();
  });
});

describe("otlpSecrets", () => {
  it("lists header values, their parts and the endpoints' user, password and query values", () => {
    const secrets = otlpSecrets({
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc123def,x-team=ab",
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: "api-key=k3y-s3cret;x",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:
        "https://usr123:pa55word@collector:4318/v1/traces?key=q5ecr3t",
    });
    for (const secret of [
      "Bearer abc123def",
      "abc123def",
      "k3y-s3cret",
      "usr123",
      "pa55word",
      "q5ecr3t",
    ]) {
      expect(secrets).toContain(secret);
    }
    // Too short to mask without blanking ordinary words.
    expect(secrets).not.toContain("ab");
    expect(secrets[0]).toBe("Bearer%20abc123def");
  });
});
