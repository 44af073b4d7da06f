import { expect, test } from "vitest";
import { buildDeliveryMessage } from "../deliver/build-delivery-message.js";
import type { CloudEvent } from "../event/cloud-event.js";
import type { Subscription } from "../subscriptions/subscription.js";
import { ConfigInvalid } from "./config-invalid.js";
import { isHttpFieldName, isPrintableFieldValue } from "./http-field.js";
import { validateSubscription } from "./validate-subscription.js";

test.each(["x-team", "Authorization", "X_Custom.1", "!#$%&'*+.^_`|~"])(
  "%s is a field name",
  (name) => {
    expect(isHttpFieldName(name)).toBe(true);
  },
);

test.each(["", "x team", "x:team", "x(team)", "é", "x\n"])("%j is no field name", (name) => {
  expect(isHttpFieldName(name)).toBe(false);
});

test.each([
  "",
  "Bearer abc.def",
  "a\tb",
  " padded ",
  "~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}",
  "caf%C3%A9",
])("%j is a printable field value", (value) => {
  expect(isPrintableFieldValue(value)).toBe(true);
});

test.each([
  ["CR LF", "a\r\nInjected: yes"],
  ["LF", "a\nb"],
  ["NUL", "a\0b"],
  ["another control character", "a\x01b"],
  ["DEL", "a\x7fb"],
  ["Latin-1 (obs-text the deliverer would pass)", "caf\xe9"],
  ["a non-Latin-1 character (the deliverer would throw)", "\u20ac5"],
  ["an emoji", "\u{1f600}"],
])("%s is no printable field value", (_, value) => {
  expect(isPrintableFieldValue(value)).toBe(false);
});

test("every header value a subscription loads with is one each delivery can send", () => {
  const event: CloudEvent = {
    attributes: { specversion: "1.0", id: "1", source: "/s", type: "t" },
  };
  let accepted = 0;
  for (let code = 0; code <= 0x17f; code++) {
    const value = `a${String.fromCharCode(code)}b`;
    let subscription: Subscription | undefined;
    try {
      subscription = validateSubscription({
        id: "s",
        sink: "http://127.0.0.1:9000/",
        protocolsettings: { headers: { "x-value": value } },
      });
    } catch (error) {
      if (!(error instanceof ConfigInvalid)) throw error;
      continue;
    }
    const message = buildDeliveryMessage(event, subscription);
    expect(message.headers["x-value"], `U+${code.toString(16)}`).toBe(value);
    expect(new Headers(message.headers).get("x-value")).toBe(value);
    accepted += 1;
  }
  // Tab and the 95 characters from space to tilde.
  expect(accepted).toBe(96);
});
