import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordingLogger } from "../../test/support/dispatcher-kit.js";
import {
  type GatewayOverHttp,
  startGatewayOverHttp,
} from "../../test/support/gateway-over-http.js";
import { githubSignature } from "../../test/support/webhook-gateway.js";
import { jsonSyntaxReason } from "./json-syntax-reason.js";

describe("jsonSyntaxReason", () => {
  it.each([
    ['{"a": s3cret-value}', "unexpected 's'", 6],
    ["[1, 2", "unexpected end of text", 5],
    ["", "unexpected end of text (the body is empty)", 0],
    ['{"a": 1,}', "a trailing comma before '}' is not JSON", 7],
    ['{"a": 1} tail-s3cret', "unexpected 't' after the end of the JSON value", 9],
  ])(
    "says where %j breaks, and what was expected, quoting at most one character",
    (text, said, at) => {
      expect(() => JSON.parse(text)).toThrow(SyntaxError);
      const reason = jsonSyntaxReason(text);
      expect(reason).toContain(said);
      expect(reason).toMatch(new RegExp(`at position ${at}$`));
      expect(reason).not.toMatch(/s3cret|tail/);
    },
  );

  it("names a byte order mark, which JSON.parse refuses", () => {
    expect(jsonSyntaxReason('\ufeff{"a":1}')).toBe("a byte order mark before the JSON");
  });
});

const SECRET = "json-reason-adapter-secret";
const MARK = "PAYLOADMARK";
let http: GatewayOverHttp;
const logger = recordingLogger();

beforeAll(async () => {
  http = await startGatewayOverHttp(
    {
      store: { kind: "memory" },
      subscriptions: [{ id: "all", sink: "http://127.0.0.1:9/unused" }],
      adapters: [{ id: "gh", kind: "github", secret: SECRET }],
    },
    "json-reason.json",
    { logger },
  );
});
afterAll(async () => {
  await http.close();
});

describe("a body that is not JSON, answered and logged", () => {
  // V8's JSON.parse messages quote the text around the error: `Unexpected token 'P',
  // "PAYLOADMAR"... is not valid JSON`. The problem's detail is logged ("request refused"), so
  // that put event data, or a subscription's signing secret, into the log.
  it.each([
    ["/events", "application/cloudevents+json", `${MARK}-structured`],
    ["/events", "application/cloudevents-batch+json", `[${MARK}-batch]`],
    ["/events", "application/cloudevents+json", `{"specversion":"1.0","data":${MARK}-data}`],
    [
      "/subscriptions",
      "application/json",
      `{"sink":"http://127.0.0.1:9/x","delivery":{"signingSecret":whsec_${MARK}MfKQ9r8GKYqrTwjUPD8ILPZIo2}}`,
    ],
  ])("POST %s (%s) says where it breaks, quoting none of it", async (path, type, body) => {
    const before = logger.lines.length;
    const res = await fetch(`${http.base}${path}`, {
      method: "POST",
      headers: { "content-type": type },
      body,
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe("malformed_request");
    expect(problem.detail).toMatch(/^the body is not valid JSON: .* at position \d+$/);
    expect(problem.detail).not.toContain(MARK);
    const logged = JSON.stringify(logger.lines.slice(before));
    expect(logged).toContain("request refused");
    expect(logged).not.toContain(MARK);
  });

  it("a signed webhook whose body is not JSON, too", async () => {
    const before = logger.lines.length;
    const body = `{"ref": ${MARK}}`;
    const res = await fetch(`${http.base}/webhooks/gh`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "d-1",
        "x-hub-signature-256": githubSignature(SECRET, body),
      },
      body,
    });
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { detail: string };
    expect(problem.detail).toBe(
      "the body is not valid JSON: unexpected 'P'; expected a value (object, array, string, number, true, false or null) at position 8",
    );
    expect(JSON.stringify(logger.lines.slice(before))).not.toContain(MARK);
  });
});
