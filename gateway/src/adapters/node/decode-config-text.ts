import { ConfigInvalid } from "../../config/config-invalid.js";

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const UTF8_LENIENT = new TextDecoder("utf-8");

/**
 * A config file's bytes as text, UTF-8 only (a UTF-8 BOM is dropped). Other bytes are a
 * `ConfigInvalid` at the line and column of the first one, never replaced by U+FFFD: a value
 * such as `source: /café` saved in Latin-1 would otherwise become `/caf\uFFFD` and silently match
 * nothing. A UTF-16 file (an editor's "Unicode") is named as such.
 *
 * @example
 * const text = decodeConfigText(await readFile("herald.yaml"), "herald.yaml");
 */
export function decodeConfigText(bytes: Uint8Array, file: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    const utf16 =
      (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
    if (utf16) {
      throw new ConfigInvalid([
        {
          file,
          line: 1,
          column: 1,
          field: "",
          message: "the file is UTF-16 text; save it as UTF-8",
        },
      ]);
    }
    // Where the first byte that is not UTF-8 is: the lenient decoding's first replacement
    // character (off only if the file also holds a real U+FFFD before it).
    const text = UTF8_LENIENT.decode(bytes);
    const at = text.indexOf("\uFFFD");
    const before = text.slice(0, at);
    const lineStart = before.lastIndexOf("\n") + 1;
    throw new ConfigInvalid([
      {
        file,
        line: before.split("\n").length,
        column: at - lineStart + 1,
        field: "",
        message: "the file is not UTF-8 text (is it Latin-1?); save it as UTF-8",
      },
    ]);
  }
}
