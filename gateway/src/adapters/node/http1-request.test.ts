import { describe, expect, it } from "vitest";
import { encodeRequest, InvalidHeaderError } from "./http1-request.js";

describe("encodeRequest", () => {
  it("puts the request line, Host, the headers, Content-Length and the body in one buffer", () => {
    const { bytes, closeAfter } = encodeRequest(
      "POST",
      "/hook?x=1",
      "127.0.0.1:9000",
      { "ce-id": "1", "content-type": "application/json" },
      new Uint8Array([0x7b, 0x00, 0xff, 0x7d]),
    );
    expect(bytes.toString("latin1")).toBe(
      "POST /hook?x=1 HTTP/1.1\r\nhost: 127.0.0.1:9000\r\nce-id: 1\r\n" +
        "content-type: application/json\r\ncontent-length: 4\r\n\r\n{\x00\xff}",
    );
    expect(closeAfter).toBe(false);
  });

  it("writes a string body as UTF-8, header values as Latin-1, no body as length 0", () => {
    const utf8 = encodeRequest("POST", "/", "h", { "x-v": "caf\xe9" }, "€");
    expect(utf8.bytes.subarray(-3)).toEqual(Buffer.from("€"));
    expect(utf8.bytes.toString("latin1")).toContain("x-v: caf\xe9\r\ncontent-length: 3\r\n");
    const none = encodeRequest("OPTIONS", "/", "h", {}, undefined);
    expect(none.bytes.toString()).toBe(
      "OPTIONS / HTTP/1.1\r\nhost: h\r\ncontent-length: 0\r\n\r\n",
    );
  });

  it("takes the headers' own Host, and leaves their framing headers out", () => {
    const { bytes } = encodeRequest(
      "POST",
      "/",
      "h",
      { host: "other", "content-length": "9", "transfer-encoding": "chunked" },
      "x",
    );
    expect(bytes.toString()).toBe("POST / HTTP/1.1\r\nhost: other\r\ncontent-length: 1\r\n\r\nx");
  });

  it("notes a Connection: close among the headers", () => {
    expect(encodeRequest("POST", "/", "h", { connection: "Close" }, "").closeAfter).toBe(true);
    expect(encodeRequest("POST", "/", "h", { connection: "keep-alive" }, "").closeAfter).toBe(
      false,
    );
  });

  it.each([
    [{ "x-a": "1\r\nx-b: 2" }, "ERR_INVALID_CHAR"],
    [{ "x-a": "\u0000" }, "ERR_INVALID_CHAR"],
    [{ "x-a": "\u0100" }, "ERR_INVALID_CHAR"],
    [{ "x-a": "\u007f" }, "ERR_INVALID_CHAR"],
    [{ "": "1" }, "ERR_INVALID_HTTP_TOKEN"],
    [{ "x\r\ny": "1" }, "ERR_INVALID_HTTP_TOKEN"],
    [{ "x:y": "1" }, "ERR_INVALID_HTTP_TOKEN"],
  ])("refuses %j (%s), as node:http does", (headers, code) => {
    let thrown: unknown;
    try {
      encodeRequest("POST", "/", "h", headers, "");
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(InvalidHeaderError);
    expect(thrown).toMatchObject({ code });
  });
});
