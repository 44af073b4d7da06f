import { expect, it } from "vitest";
import { definitionFingerprint } from "./definition-fingerprint.js";
import { subscription } from "./matcher.case.js";

const base = subscription("s", { types: ["t"] });
const secret = {
  ...base,
  sink: "https://bot:p4ssw0rd@hooks.example.com/in?token=abc123&team=a",
  protocolsettings: { headers: { authorization: "Bearer tok-1" } },
  delivery: { ...base.delivery, signingSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
};

it("changes with the definition, not with its secrets", async () => {
  const fingerprint = await definitionFingerprint(secret);
  expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
  expect(await definitionFingerprint({ ...secret })).toBe(fingerprint);
  // Other secrets, same definition.
  expect(
    await definitionFingerprint({
      ...secret,
      sink: "https://bot:other@hooks.example.com/in?token=zzz&team=a",
      protocolsettings: { headers: { authorization: "Bearer tok-2" } },
      delivery: { ...secret.delivery, signingSecret: "whsec_c2Vjb25kLXNlY3JldC1rZXk=" },
    }),
  ).toBe(fingerprint);
  // Another definition.
  expect(await definitionFingerprint({ ...secret, types: ["t2"] })).not.toBe(fingerprint);
  expect(
    await definitionFingerprint({
      ...secret,
      sink: "https://bot:p4ssw0rd@hooks.example.com/in?token=abc123&team=b",
    }),
  ).not.toBe(fingerprint);
});
