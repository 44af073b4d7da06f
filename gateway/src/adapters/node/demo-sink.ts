import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The embedded demo's sink: a tiny HTTP server on 127.0.0.1 that prints every event delivered to
 * it, in a form a newcomer can read (binary-mode attributes from `ce-*` headers, then the body).
 * It prints to a terminal what anyone allowed to publish sent, so control characters are shown
 * as `\u{..}` escapes (`printable`), never written: an ANSI escape sequence in the data (or in a
 * percent-encoded header) could otherwise recolour, clear or retitle the terminal, or a carriage
 * return overwrite the line before it.
 *
 * @example
 * const sink = await startDemoSink((line) => process.stdout.write(line));
 * console.log(sink.url); // http://127.0.0.1:43123/
 */
export async function startDemoSink(
  print: (text: string) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const attributes = Object.entries(req.headers)
        .filter(([name]) => name.startsWith("ce-"))
        .map(([name, value]) => `  ${name.slice(3)}: ${printable(safeDecode(String(value)))}`);
      const type = req.headers["content-type"];
      if (type) attributes.push(`  datacontenttype: ${printable(type)}`);
      const body = printable(Buffer.concat(chunks).toString("utf8"));
      print(
        `demo sink received an event:\n${attributes.join("\n")}\n${body ? `  data: ${body}\n` : ""}`,
      );
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** C0 controls but tab and line feed, DEL, and the C1 controls (ESC, CSI, OSC, ...). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what must not be written
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * `text` with every control character but tab and line feed written as a visible escape.
 *
 * @example
 * printable("a\u001b[2Jb"); // "a\\u{1b}[2Jb"
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (char) => `\\u{${char.charCodeAt(0).toString(16)}}`);
}
