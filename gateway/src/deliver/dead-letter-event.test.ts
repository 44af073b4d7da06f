import { describe, expect, it } from "vitest";
import type { CloudEvent } from "../event/cloud-event.js";
import { validateAttributes } from "../event/validate-attributes.js";
import { deadLetterEvent, errorDestination } from "./dead-letter-event.js";

const event: CloudEvent = {
  attributes: { specversion: "1.0", id: "1", source: "/s", type: "t", heraldattempts: 9 },
  data: { kind: "text", value: "payload" },
};
const reason = { sink: "http://127.0.0.1:9000/hook", status: 503, error: "down", attempts: 4 };
const utf8Length = (text: string) => new TextEncoder().encode(text).length;

describe("deadLetterEvent", () => {
  it("adds the heralderror* attributes to the original event and keeps its data", () => {
    expect(deadLetterEvent(event, reason)).toEqual({
      attributes: {
        specversion: "1.0",
        id: "1",
        source: "/s",
        type: "t",
        heralderrordest: "http://127.0.0.1:9000/hook",
        heralderrorcode: 503,
        heralderrordata: "down",
        heraldattempts: 4,
      },
      data: event.data,
    });
  });

  it("uses attribute names CloudEvents allows (lower-case a-z and 0-9, at most 20)", () => {
    for (const name of Object.keys(deadLetterEvent(event, reason).attributes)) {
      expect(name).toMatch(/^[a-z0-9]{1,20}$/);
    }
  });

  it("keeps at most 1024 bytes of the failure, cut at a character boundary", () => {
    const data = deadLetterEvent(event, { ...reason, error: `a${"😀".repeat(400)}` }).attributes
      .heralderrordata as string;
    // 1 + 255 * 4 = 1021 bytes; one more emoji would make 1025.
    expect(utf8Length(data)).toBe(1021);
    expect(data).toBe(`a${"😀".repeat(255)}`);
  });

  it("makes a sink's error text a valid String: control characters become spaces", () => {
    const error = "<h1>502</h1>\r\nX-Injected: yes\r\n\u0000\u0007 tab\t end\ud800 \ufffe";
    const dead = deadLetterEvent(event, { ...reason, error });
    // Each run of controls is one space; a lone surrogate and a noncharacter are U+FFFD.
    expect(dead.attributes.heralderrordata).toBe(
      "<h1>502</h1> X-Injected: yes  tab  end\ufffd \ufffd",
    );
    // Herald (or any conformant receiver) takes the dead-letter event as valid.
    expect(validateAttributes(dead.attributes)).toEqual([]);
    expect(deadLetterEvent(event, { ...reason, error: "\r\n\t" }).attributes.heralderrordata).toBe(
      "HTTP 503",
    );
  });

  it("never leaves heralderrordata empty", () => {
    expect(deadLetterEvent(event, { ...reason, error: "" }).attributes.heralderrordata).toBe(
      "HTTP 503",
    );
    expect(
      deadLetterEvent(event, { ...reason, status: 0, error: "" }).attributes.heralderrordata,
    ).toBe("network error");
  });

  it("leaves data out when the event has none", () => {
    expect(deadLetterEvent({ attributes: event.attributes }, reason)).not.toHaveProperty("data");
  });
});

describe("errorDestination", () => {
  it("drops userinfo, a credential, and keeps everything else", () => {
    expect(errorDestination("https://bot:s3cret@hooks.example.com/in?x=1")).toBe(
      "https://hooks.example.com/in?x=1",
    );
    expect(errorDestination("http://127.0.0.1:9000/hook")).toBe("http://127.0.0.1:9000/hook");
    expect(errorDestination("not a url")).toBe("not a url");
  });

  it("hides the values of credential-like query parameters, keeping the others", () => {
    expect(
      errorDestination("https://hooks.example.com/in?token=qsecret123&team=media&api_key=k1&sig=s"),
    ).toBe("https://hooks.example.com/in?token=redacted&team=media&api_key=redacted&sig=redacted");
    expect(errorDestination("https://bot:pw@hooks.example.com/in?code=abc")).toBe(
      "https://hooks.example.com/in?code=redacted",
    );
  });
});
