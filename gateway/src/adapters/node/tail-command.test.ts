import { describe, expect, it } from "vitest";
import { oneLine } from "./tail-command.js";

describe("oneLine", () => {
  it("drops line breaks between JSON tokens and keeps the text otherwise as it is", () => {
    const text = '{"n": 12345678901234567890,\r\n "s": "a\\nb"}';
    expect(oneLine(text)).toBe('{"n": 12345678901234567890, "s": "a\\nb"}');
    expect(JSON.parse(oneLine(text))).toEqual(JSON.parse(text));
  });

  it("escapes DEL, C1 controls and the line separators a JSON string may hold raw", () => {
    const text = '{"csi":"\u009b2J","del":"\u007f","ls":"\u2028\u2029","ok":"é€"}';
    const line = oneLine(text);
    expect(line).toBe('{"csi":"\\u009b2J","del":"\\u007f","ls":"\\u2028\\u2029","ok":"é€"}');
    expect(line).not.toMatch(/[\u007f-\u009f\u2028\u2029]/);
    expect(JSON.parse(line)).toEqual(JSON.parse(text));
  });
});
