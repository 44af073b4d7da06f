import { describe, expect, it } from "vitest";
import { checkKnownOptions } from "./known-options.js";
import { heraldReceiver } from "./receive/hono-receiver.js";
import { receive, receiveBatch } from "./receive/receive.js";
import { sendEvent } from "./send-event.js";
import { serviceAccountToken } from "./service-account-token.js";

const names = { signingSecret: true, toleranceSeconds: true, maxBytes: true } as const;

describe("checkKnownOptions", () => {
  it("takes the options it knows, given or not", () => {
    expect(() => checkKnownOptions("f", {}, names)).not.toThrow();
    expect(() => checkKnownOptions("f", { maxBytes: 1, signingSecret: "x" }, names)).not.toThrow();
  });

  it("names an unknown option and the one it most likely meant", () => {
    expect(() => checkKnownOptions("f", { signingsecret: "x" }, names)).toThrow(
      new TypeError('f: unknown option "signingsecret"; did you mean "signingSecret"?'),
    );
    expect(() => checkKnownOptions("f", { MAXBYTES: 1 }, names)).toThrow(/did you mean "maxBytes"/);
  });

  it("lists the options otherwise", () => {
    expect(() => checkKnownOptions("f", { verify: true }, names)).toThrow(
      new TypeError(
        'f: unknown option "verify"; the options are signingSecret, toleranceSeconds, maxBytes',
      ),
    );
  });

  it("looks at own string keys only, so prototype names are not options", () => {
    const inherited = Object.create({ anything: 1 }) as object;
    expect(() => checkKnownOptions("f", inherited, names)).not.toThrow();
    expect(() => checkKnownOptions("f", { [Symbol("s")]: 1 }, names)).not.toThrow();
    expect(() => checkKnownOptions("f", { constructor: 1 }, names)).toThrow(
      /unknown option "constructor"/,
    );
    expect(() => checkKnownOptions("f", JSON.parse('{"__proto__": 1}'), names)).toThrow(
      /unknown option "__proto__"/,
    );
  });
});

describe("every SDK function that takes options refuses one it does not know", () => {
  const delivery = () =>
    new Request("http://sink.test/", {
      method: "POST",
      headers: { "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t" },
    });

  it("receive and receiveBatch: a misspelt signingSecret fails closed, never unsigned deliveries taken", async () => {
    // As JavaScript callers write it; TypeScript would refuse it at compile time.
    const misspelt = { signingsecret: "whsec_AQID" } as unknown as Parameters<typeof receive>[1];
    await expect(receive(delivery(), misspelt)).rejects.toThrow(/did you mean "signingSecret"/);
    await expect(receiveBatch(delivery(), misspelt)).rejects.toThrow(
      /did you mean "signingSecret"/,
    );
  });

  it("heraldReceiver, when it is made", () => {
    const options = { signingSecret: "whsec_AQID", Batch: true } as unknown as Parameters<
      typeof heraldReceiver
    >[0];
    expect(() => heraldReceiver(options)).toThrow(
      new TypeError('heraldReceiver: unknown option "Batch"; did you mean "batch"?'),
    );
    expect(() => heraldReceiver({ signingSecret: "whsec_AQID", batch: true })).not.toThrow();
  });

  it("sendEvent and serviceAccountToken", () => {
    expect(() =>
      sendEvent("http://gateway.test/events", { type: "t", source: "/s" }, {
        tokne: "x",
      } as unknown as Parameters<typeof sendEvent>[2]),
    ).toThrow(new TypeError('sendEvent: unknown option "tokne"; the options are token, fetch'));
    const token = {
      privateKey: "-----BEGIN PRIVATE KEY-----",
      issuer: "https://id.example.com",
      audience: "herald",
      subject: "uploader",
      keyID: "k1",
    };
    expect(() =>
      serviceAccountToken(token as unknown as Parameters<typeof serviceAccountToken>[0]),
    ).toThrow(new TypeError('serviceAccountToken: unknown option "keyID"; did you mean "keyId"?'));
  });
});
