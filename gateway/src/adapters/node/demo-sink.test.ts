import { afterEach, describe, expect, it } from "vitest";
import { printable, startDemoSink } from "./demo-sink.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  // This test's resources are taken before the first await: a hook that outlives its timeout
  // must not stop or close what the next test has started meanwhile.
  const held = close;
  close = undefined;
  await held?.();
});

describe("the embedded demo's sink", () => {
  it("prints control characters a publisher sent as escapes, never to the terminal", async () => {
    const printed: string[] = [];
    const sink = await startDemoSink((text) => printed.push(text));
    close = sink.close;
    const res = await fetch(sink.url, {
      method: "POST",
      headers: {
        "ce-id": "1",
        "ce-subject": "a%1B%5D0%3Bpwned%07b",
        "content-type": "text/plain",
      },
      body: "\u001b[2J\u001b]52;c;ZXZpbA==\u0007over\rwritten\u009b31m\nnext\tline",
    });
    expect(res.status).toBe(204);
    const text = printed.join("");
    expect(printable(text)).toBe(text);
    expect(text).toContain("  subject: a\\u{1b}]0;pwned\\u{7}b\n");
    expect(text).toContain(
      "  data: \\u{1b}[2J\\u{1b}]52;c;ZXZpbA==\\u{7}over\\u{d}written\\u{9b}31m\nnext\tline\n",
    );
  });

  it("keeps text, tabs and line breaks as they are", () => {
    expect(printable('{"a": "café €"}\n\tx')).toBe('{"a": "café €"}\n\tx');
  });
});
