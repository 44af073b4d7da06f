import { describe, expect, it } from "vitest";
import type { Subscription } from "../subscriptions/subscription.js";
import {
  hideUrlCredentials,
  REDACTED,
  redactFailureText,
  redactSecrets,
  redactUrlSecrets,
} from "./redact-secrets.js";

const subscription: Subscription = {
  id: "sub",
  filters: [],
  sink: "https://bot:p%40ssword123@hooks.example.com/in",
  protocol: "HTTP",
  protocolsettings: { headers: { authorization: "Bearer abcdefgh123", "x-short": "json" } },
  delivery: {
    mode: "binary",
    timeoutMs: 1000,
    signingSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_c2Vjb25kLXNlY3JldC1rZXk=",
  },
};

it("hides header values, signing secrets and sink passwords in failure text", () => {
  const echoed = [
    "authorization: Bearer abcdefgh123",
    "key MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "whsec_c2Vjb25kLXNlY3JldC1rZXk=",
    "pass p@ssword123",
    "type json",
  ].join("; ");
  expect(redactSecrets(echoed, subscription)).toBe(
    [
      `authorization: ${REDACTED}`,
      `key ${REDACTED}`,
      REDACTED,
      `pass ${REDACTED}`,
      "type json",
    ].join("; "),
  );
});

it("leaves text without secrets alone", () => {
  expect(redactSecrets("HTTP 503", subscription)).toBe("HTTP 503");
});

it("hides the values of credential-like query parameters of the sinks, as sent and encoded", () => {
  const withQuery: Subscription = {
    ...subscription,
    sink: "https://hooks.example.com/in?token=qsecret%2F123&team=media-team",
    delivery: {
      ...subscription.delivery,
      deadLetterSink: "https://dlq.example.com/?apikey=dlqkey-42",
    },
  };
  const echoed = "GET /in?token=qsecret%2F123 (qsecret/123) team=media-team; dlq dlqkey-42";
  expect(redactSecrets(echoed, withQuery)).toBe(
    `GET /in?token=${REDACTED} (${REDACTED}) team=media-team; dlq ${REDACTED}`,
  );
});

it("hides short credential-like query values where the sink echoes them as name=value", () => {
  const short: Subscription = {
    ...subscription,
    sink: "http://127.0.0.1:9100/echo/x?s=400&api_key=K123&sig=S456&n=K123",
  };
  const echoed = "url=/echo/x?s=400&api_key=K123&sig=S456&n=K123";
  expect(redactSecrets(echoed, short)).toBe(
    `url=/echo/x?s=400&api_key=${REDACTED}&sig=${REDACTED}&n=K123`,
  );
});

describe("hideUrlCredentials and redactUrlSecrets: a URL the subscription does not know", () => {
  it("hideUrlCredentials drops userinfo and hides credential-like query values", () => {
    expect(hideUrlCredentials("https://u:p4ss@h.example/x?api_key=k&a=1")).toBe(
      "https://h.example/x?api_key=redacted&a=1",
    );
    expect(hideUrlCredentials("https://h.example/x?a=1")).toBe("https://h.example/x?a=1");
    expect(hideUrlCredentials("not a url")).toBe("not a url");
  });

  it("hideUrlCredentials keeps the other query pairs as written", () => {
    // heralderrordest must still name the sink as configured: not `y=+z`, `x=a%2Fb`, `flag=`.
    expect(hideUrlCredentials("http://h.example/p?x=a/b&Token=t&y=%20z&z=~*()&flag&q=a+b")).toBe(
      "http://h.example/p?x=a/b&Token=redacted&y=%20z&z=~*()&flag&q=a+b",
    );
    expect(hideUrlCredentials("http://u:pw@h.example/p?y=%20z#f")).toBe(
      "http://h.example/p?y=%20z#f",
    );
    expect(hideUrlCredentials("http://h.example/p?api%5Fkey=k&token=")).toBe(
      "http://h.example/p?api%5Fkey=redacted&token=",
    );
  });

  it("redactUrlSecrets hides its pairs (any length) and long values anywhere in a text", () => {
    const url = "https://h.example/cb?code=ab&secret=0123456789&x=1";
    expect(redactUrlSecrets("to /cb?code=ab&x=1 with 0123456789 and x=1", url)).toBe(
      "to /cb?code=[redacted]&x=1 with [redacted] and x=1",
    );
    expect(redactUrlSecrets("nothing here", "::")).toBe("nothing here");
  });
});

describe("the parts of a header value a sink may echo alone", () => {
  const withHeaders = (headers: Record<string, string>): Subscription => ({
    ...subscription,
    protocolsettings: { headers },
  });

  it("hides the credentials after an auth scheme, and Basic's user:password and password", () => {
    const basic = Buffer.from("svc:p4ssw0rd-long").toString("base64");
    const sub = withHeaders({ authorization: `Basic ${basic}`, "x-token": "Bearer tkn-123456789" });
    expect(redactSecrets(`bad ${basic} svc:p4ssw0rd-long p4ssw0rd-long tkn-123456789`, sub)).toBe(
      `bad ${REDACTED} ${REDACTED} ${REDACTED} ${REDACTED}`,
    );
  });

  it("hides the values of name=value parameters (auth params, cookies)", () => {
    const sub = withHeaders({ cookie: "theme=dark; session=s3ss10n-value" });
    expect(redactSecrets("unknown session s3ss10n-value; theme dark", sub)).toBe(
      `unknown session ${REDACTED}; theme dark`,
    );
  });
});

describe("redactFailureText", () => {
  it("hides secrets before cutting to maxBytes", () => {
    const text = `${"a".repeat(10)}abcdefgh123 tail`;
    expect(redactFailureText(text, subscription, false, 17)).toBe(`${"a".repeat(10)}[redact`);
  });

  it("drops the start of a secret where the text was cut, here or before", () => {
    expect(redactFailureText("denied for Bearer abcd", subscription, true)).toBe("denied for ");
    expect(redactFailureText("echo: x abcdefgh1", subscription, true)).toBe("echo: x ");
  });

  it("leaves a whole text alone, also one ending like the start of a secret", () => {
    expect(redactFailureText("status: Bear", subscription, false)).toBe("status: Bear");
    expect(redactFailureText("HTTP 503", subscription, true)).toBe("HTTP 503");
  });

  it("keeps a text lengthened by hiding short secrets within maxBytes", () => {
    const sub: Subscription = { ...subscription, protocolsettings: { headers: { k: "K3y-8ch!" } } };
    const shown = redactFailureText("K3y-8ch!".repeat(128), sub, false);
    expect(new TextEncoder().encode(shown).length).toBeLessThanOrEqual(1024);
    expect(shown).not.toContain("K3y");
  });
});
