import { ConfigInvalid } from "../../config/config-invalid.js";

const UTF8 = new TextDecoder("utf-8", { fatal: true });
const UTF8_LENIENT = new TextDecoder("utf-8");

/**
 * A config file's bytes as text, UTF-8 only (a UTF-8 BOM is dropped). Other bytes are a
 * `ConfigInvalid` at the line and column of the first one, never replaced by U+FFFD: a value
 * such as `source: /café` saved in Latin-1 would otherwise become `/caf\uFFFD` and silently match
 * nothing. A UTF-16 file (an editor's "Unicode") is named as such, and so is a binary file (a NUL
 * byte, which no YAML or JSON text holds): `--config .herald/herald.db` or a gzipped config was
 * answered "is it Latin-1?", or, all zeros, "must be an object".
 *
 * @example
 * const text = decodeConfigText(await readFile("herald.yaml"), "herald.yaml");
 */
export function decodeConfigText(bytes: Uint8Array, file: string): string {
  const utf16 =
    (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (utf16) throw refusal(file, "", "the file is UTF-16 text; save it as UTF-8");
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    throw refusal(
      file,
      UTF8_LENIENT.decode(bytes.subarray(0, nul)),
      "the file is binary (a NUL byte), not a YAML or JSON config; is it the right file?",
    );
  }
  try {
    return UTF8.decode(bytes);
  } catch {
    // Where the first byte that is not UTF-8 is: the lenient decoding's first replacement
    // character (off only if the file also holds a real U+FFFD before it).
    const text = UTF8_LENIENT.decode(bytes);
    const before = text.slice(0, text.indexOf("\uFFFD"));
    throw refusal(file, before, "the file is not UTF-8 text (is it Latin-1?); save it as UTF-8");
  }
}

/** A `ConfigInvalid` at the line and column just after `before`, the text in front of the spot. */
function refusal(file: string, before: string, message: string): ConfigInvalid {
  const lineStart = before.lastIndexOf("\n") + 1;
  return new ConfigInvalid([
    {
      file,
      line: before.split("\n").length,
      column: before.length - lineStart + 1,
      field: "",
      message,
    },
  ]);
}
