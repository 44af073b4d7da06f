import { describe, expect, it } from "vitest";
import {
  type Http1ParseError,
  type Http1ResponseHandler,
  Http1ResponseParser,
  MAX_HEAD_BYTES,
} from "./http1-response-parser.js";

interface Parsed {
  status?: number;
  minor?: number;
  raw?: string[];
  framing?: string;
  keepAlive?: boolean;
  keepAliveTimeout?: number;
  body: string;
  complete?: { extra: boolean };
  error?: string;
}

/** Feeds `chunks` to a fresh parser (then EOF when `eof`), and records what it reported. */
function parse(chunks: readonly (string | Buffer)[], eof = false): Parsed {
  const parsed: Parsed = { body: "" };
  const handler: Http1ResponseHandler = {
    onHead(p) {
      if (parsed.status !== undefined) throw new Error("two heads");
      Object.assign(parsed, {
        status: p.status,
        minor: p.minorVersion,
        raw: p.rawHeaders,
        framing: p.framing,
        keepAlive: p.keepAlive,
        keepAliveTimeout: p.keepAliveTimeout,
      });
    },
    onBody(chunk, start, end) {
      if (parsed.complete !== undefined) throw new Error("body after the end");
      parsed.body += chunk.toString("latin1", start, end);
    },
    onComplete(extra) {
      if (parsed.complete !== undefined) throw new Error("two ends");
      parsed.complete = { extra };
    },
    onError(err: Http1ParseError) {
      parsed.error ??= err.code;
    },
  };
  const parser = new Http1ResponseParser(handler);
  parser.reset();
  for (const chunk of chunks) {
    parser.execute(typeof chunk === "string" ? Buffer.from(chunk, "latin1") : chunk);
  }
  if (eof) parser.finish();
  return parsed;
}

/** `response` parsed whole, split in two at every byte, and a byte at a time: all alike. */
function parseEverySplit(response: string, eof = false): Parsed {
  const whole = parse([response], eof);
  for (let at = 1; at < response.length; at++) {
    expect(parse([response.slice(0, at), response.slice(at)], eof), `split at ${at}`).toEqual(
      whole,
    );
  }
  expect(parse([...response], eof), "byte by byte").toEqual(whole);
  return whole;
}

const done = { extra: false };

describe("Http1ResponseParser", () => {
  it("reads a Content-Length body across any chunk boundary", () => {
    const parsed = parseEverySplit(
      "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\ncontent-length: 4\r\n\r\ndown",
    );
    expect(parsed).toEqual({
      status: 503,
      minor: 1,
      raw: ["Retry-After", "120", "content-length", "4"],
      framing: "length",
      keepAlive: true,
      keepAliveTimeout: -1,
      body: "down",
      complete: done,
    });
  });

  it("decodes a chunked body: extensions ignored, trailers dropped, any boundary", () => {
    const parsed = parseEverySplit(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5\r\nhello\r\n" +
        '1;name=value ; other="q"\r\n \r\n' +
        "00A \t;x\r\n0123456789\r\n" +
        "0\r\nX-Trailer: 1\r\nAnother: two\r\n\r\n",
    );
    expect(parsed).toMatchObject({
      framing: "chunked",
      keepAlive: true,
      body: "hello 0123456789",
      complete: done,
    });
  });

  it("reads a body without a length until the connection closes, and never reuses it", () => {
    const parsed = parseEverySplit("HTTP/1.1 200 OK\r\nx: y\r\n\r\nall of it\r\n\r\nstill", true);
    expect(parsed).toMatchObject({
      framing: "close",
      keepAlive: false,
      body: "all of it\r\n\r\nstill",
      complete: done,
    });
    // Without the EOF it is not complete.
    expect(parse(["HTTP/1.1 200 OK\r\n\r\nsome"]).complete).toBeUndefined();
  });

  it("keeps bytes as they are (Latin-1), body and header values alike", () => {
    const bytes = Buffer.from([0, 0xff, 0x80, 0x0d, 0x0a, 0x7f]);
    const head = Buffer.from(
      "HTTP/1.1 200 OK\r\nx-v: caf\xe9\r\ncontent-length: 6\r\n\r\n",
      "latin1",
    );
    const parsed = parse([Buffer.concat([head, bytes])]);
    expect(Buffer.from(parsed.body, "latin1")).toEqual(bytes);
    expect(parsed.raw).toEqual(["x-v", "caf\xe9", "content-length", "6"]);
  });

  it.each([
    ["204", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"],
    ["304", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"],
  ])("gives %s no body whatever its framing headers say (RFC 9112 6.3)", (_, response) => {
    expect(parseEverySplit(response)).toMatchObject({ framing: "none", body: "", complete: done });
  });

  it.each([
    ["a 204 with Content-Length: 2", false, "HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n"],
    [
      "a 304 with Transfer-Encoding",
      false,
      "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
    ],
    ["a 204 with Content-Length: 0", true, "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"],
    ["a 204 without framing headers", true, "HTTP/1.1 204 No Content\r\n\r\n"],
  ])("after %s the connection is reusable: %s", (_, keepAlive, response) => {
    // Bytes of a body the server may send after such a head would be read as the next answer.
    expect(parse([response])).toMatchObject({ framing: "none", keepAlive, complete: done });
  });

  it("ends a Content-Length: 0 response at its head", () => {
    expect(parse(["HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])).toMatchObject({
      body: "",
      complete: done,
    });
  });

  it("says when bytes follow a complete response (nothing was pipelined)", () => {
    const extra = { extra: true };
    expect(parse(["HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"]).complete).toEqual(
      extra,
    );
    expect(parse(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab"]).complete).toEqual(extra);
    expect(parse(["HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", "b"])).toMatchObject({
      complete: done,
      error: "HPE_UNEXPECTED_DATA",
    });
  });

  it("skips interim 1xx responses (100, 102, 103) and reads the final one", () => {
    const parsed = parseEverySplit(
      "HTTP/1.1 100 Continue\r\n\r\n" +
        "HTTP/1.1 102 Processing\r\n\r\n" +
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
        "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    );
    expect(parsed).toMatchObject({ status: 201, raw: ["Content-Length", "2"], body: "ok" });
  });

  it("refuses 101 Switching Protocols (never asked for) and endless interim responses", () => {
    expect(parse(["HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"])).toEqual({
      body: "",
      error: "HPE_UNEXPECTED_UPGRADE",
    });
    expect(parse(["HTTP/1.1 100 Continue\r\n\r\n".repeat(40)]).error).toBe("HPE_TOO_MANY_INTERIM");
  });

  it("reads status lines without a reason, and HTTP/1.0 (never reused)", () => {
    expect(parse(["HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"])).toMatchObject({ status: 200 });
    expect(parse(["HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"])).toMatchObject({ status: 200 });
    expect(parse(["HTTP/1.1 599 \t odd\x80 reason!\r\n\r\n"])).toMatchObject({ status: 599 });
    expect(
      parse(["HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"]),
    ).toMatchObject({ minor: 0, keepAlive: false, complete: done });
  });

  it.each([
    "HTTP/2 200 OK",
    "HTTP/2.0 200 OK",
    "HTTP/1.2 200 OK",
    "http/1.1 200 OK",
    "HTTP/1.1 20 OK",
    "HTTP/1.1 2000 OK",
    "HTTP/1.1 099 Low",
    "HTTP/1.1 abc OK",
    "HTTP/1.1  200 OK",
    "HTTP/1.1 200OK",
    "HTTP/1.1 200 O\x00K",
    "HTTP/1.1 200 O\rK",
    "HTTP/1.1 200 O\nK",
    "HTTP/1.1 200\rX",
    "ICY 200 OK",
    "",
    "garbage",
  ])("refuses the status line %j", (line) => {
    expect(parse([`${line}\r\nContent-Length: 0\r\n\r\n`]).error).toBe("HPE_INVALID_STATUS");
  });

  it.each([
    ["obsolete line folding", "X-A: one\r\n two"],
    ["whitespace before the colon", "Content-Length : 5"],
    ["no colon", "just text"],
    ["an empty name", ": value"],
    ["a name that is no token", "x(y): 1"],
    ["NUL in a value", "x: a\x00b"],
    ["a bare CR in a value", "x: a\rb"],
    ["a bare LF in a value", "x: a\nb: c"],
    ["another control in a value", "x: a\x01b"],
    ["DEL in a value", "x: a\x7fb"],
  ])("refuses a header section with %s", (_, line) => {
    expect(parse([`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 0\r\n\r\n`]).error).toBe(
      "HPE_INVALID_HEADER_TOKEN",
    );
  });

  it("refuses a head whose lines end in a bare LF at once, not when a CRLF CRLF comes", () => {
    // Without the CRLF CRLF that ends a head, the parser used to wait for more: the delivery
    // then hung until its timeout and reported no answer from a sink that had answered.
    for (const head of [
      "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
      "HTTP/1.1 503 Busy\r\nRetry-After: 1\nContent-Length: 0\r\n\r",
      "HTTP/1.1 200 OK\r\nA: b\r\n\n",
    ]) {
      const split = [head];
      for (let at = 1; at < head.length; at++) split.push(head.slice(0, at), head.slice(at));
      expect(parse([head]).error, JSON.stringify(head)).toBe("HPE_CR_EXPECTED");
      expect(parse([...head]).error, `${JSON.stringify(head)} byte by byte`).toBe(
        "HPE_CR_EXPECTED",
      );
      for (let at = 1; at < head.length; at++) {
        expect(parse([head.slice(0, at), head.slice(at)]).error, `split at ${at}`).toBe(
          "HPE_CR_EXPECTED",
        );
      }
    }
    // A CRLF split between two reads is no bare LF, and an unfinished head is waited for.
    expect(parse(["HTTP/1.1 200 OK\r", "\nContent-Length: 0\r", "\n\r", "\n"])).toMatchObject({
      status: 200,
      complete: done,
    });
    expect(parse(["HTTP/1.1 200 OK\r\nContent-Len"])).toEqual({ body: "" });
  });

  it("refuses at once what cannot start a status line, before its head is complete", () => {
    // Another protocol's port (an SSH banner, an HTTP/2 server's frames) sends no CRLF CRLF:
    // the delivery used to wait for one until its timeout.
    for (const start of [
      "SSH-2.0-OpenSSH_9.2\r\n",
      "\x00\x00\x12\x04\x00",
      "HTTP/2 200\r\n",
      "H",
    ]) {
      const complete = start !== "H";
      expect(parse([start]).error, JSON.stringify(start)).toBe(
        complete ? "HPE_INVALID_STATUS" : undefined,
      );
      if (complete) {
        expect(parse([...start]).error, `${JSON.stringify(start)} byte by byte`).toBe(
          "HPE_INVALID_STATUS",
        );
      }
    }
    // Any prefix of a real status line is waited on.
    const line = "HTTP/1.1 200 OK\r\n";
    for (let at = 1; at <= line.length; at++) {
      expect(parse([line.slice(0, at)]), `prefix of ${at}`).toEqual({ body: "" });
      expect(parse([...line.slice(0, at)]), `prefix of ${at}, byte by byte`).toEqual({ body: "" });
    }
  });

  it("trims OWS around values and keeps empty ones", () => {
    expect(parse(["HTTP/1.1 200 OK\r\nA: \t x y \t\r\nB:\r\nC:  \r\n\r\n"]).raw).toEqual([
      "A",
      "x y",
      "B",
      "",
      "C",
      "",
    ]);
  });

  it("bounds the head at 16 KiB, whole or in pieces, and counts interim heads apart", () => {
    const headOf = (size: number) => {
      const start = "HTTP/1.1 200 OK\r\nx: ";
      const end = "\r\nContent-Length: 0\r\n\r\n";
      return start + "a".repeat(size - start.length - end.length) + end;
    };
    const fits = headOf(MAX_HEAD_BYTES);
    expect(fits.length).toBe(MAX_HEAD_BYTES);
    expect(parse([fits])).toMatchObject({ status: 200, complete: done });
    expect(parse([fits.slice(0, 9000), fits.slice(9000)])).toMatchObject({ complete: done });
    const pieces = Array.from({ length: 17 }, (_, i) => fits.slice(i * 1000, i * 1000 + 1000));
    expect(parse(pieces)).toMatchObject({ complete: done });
    const over = headOf(MAX_HEAD_BYTES + 1);
    expect(parse([over]).error).toBe("HPE_HEADER_OVERFLOW");
    expect(parse([over.slice(0, 9000), over.slice(9000)]).error).toBe("HPE_HEADER_OVERFLOW");
    // A head that never ends fails once it passes the limit, without waiting for more.
    expect(parse(["HTTP/1.1 200 OK\r\n", "x: y\r\n".repeat(3000)]).error).toBe(
      "HPE_HEADER_OVERFLOW",
    );
    expect(parse(["HTTP/1.1 200 OK\r\n", "x".repeat(MAX_HEAD_BYTES)]).error).toBe(
      "HPE_HEADER_OVERFLOW",
    );
    expect(parse([`HTTP/1.1 100 Continue\r\n\r\n${fits}`])).toMatchObject({ complete: done });
  });

  it("takes a Content-Length repeated with the same value, refuses differing or invalid ones", () => {
    const ok = (values: string[]) =>
      parse([
        `HTTP/1.1 200 OK\r\n${values.map((v) => `Content-Length: ${v}\r\n`).join("")}\r\nabcdef`,
      ]);
    expect(ok(["3", "3"])).toMatchObject({ body: "abc", complete: { extra: true } });
    expect(ok(["3, 3"])).toMatchObject({ body: "abc" });
    expect(ok(["003"])).toMatchObject({ body: "abc" });
    for (const bad of [
      ["3", "4"],
      ["3, 4"],
      ["-1"],
      ["+3"],
      ["3.0"],
      ["0x3"],
      ["3 3"],
      [""],
      [","],
      ["abc"],
      ["9007199254740993"],
      ["99999999999999999999"],
    ]) {
      expect(ok(bad).error, JSON.stringify(bad)).toBe("HPE_INVALID_CONTENT_LENGTH");
    }
  });

  it("refuses Content-Length with Transfer-Encoding (a smuggling attempt, RFC 9112 6.3)", () => {
    const response =
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    expect(parse([response]).error).toBe("HPE_UNEXPECTED_CONTENT_LENGTH");
  });

  it("reads until close when chunked is not the final coding, refuses chunked twice", () => {
    const te = (value: string, minor = 1) =>
      parse([`HTTP/1.${minor} 200 OK\r\nTransfer-Encoding: ${value}\r\n\r\n3\r\nabc\r\n`], true);
    expect(te("gzip")).toMatchObject({ framing: "close", keepAlive: false, complete: done });
    expect(te("gzip, chunked")).toMatchObject({ framing: "chunked", body: "abc" });
    expect(te("CHUNKED")).toMatchObject({ framing: "chunked" });
    expect(te("chunked", 0)).toMatchObject({ framing: "close", body: "3\r\nabc\r\n" });
    expect(te("chunked, chunked").error).toBe("HPE_INVALID_TRANSFER_ENCODING");
    expect(te("chunked, gzip").error).toBe("HPE_INVALID_TRANSFER_ENCODING");
    expect(te("").error).toBe("HPE_INVALID_TRANSFER_ENCODING");
    // Two fields make one list.
    const two = parse([
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ]);
    expect(two).toMatchObject({ framing: "chunked", complete: done });
  });

  it.each([
    ["a size that is no hex", "zz\r\nabc\r\n"],
    ["no size", "\r\nabc\r\n"],
    ["a size followed by whitespace only", "3 \r\nabc\r\n"],
    ["a negative size", "-3\r\nabc\r\n"],
    ["a size past 2^53", "20000000000000\r\n"],
    ["a bare LF after the size", "3\nabc\r\n"],
    ["a control in an extension", "3;a\x00\r\nabc\r\n"],
    ["no CRLF after the data", "3\r\nabcd\r\n"],
    ["a bare LF after the data", "3\r\nabc\n0\r\n\r\n"],
    ["a bare LF in the trailers", "0\r\nx: 1\n\r\n"],
    ["a control in the trailers", "0\r\nx: \x01\r\n\r\n"],
  ])("refuses a chunked body with %s", (_, body) => {
    const parsed = parse([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}`]);
    expect(parsed.error).toMatch(/^HPE_INVALID_(CHUNK_SIZE|TRAILER)$/);
    expect(parsed.complete).toBeUndefined();
  });

  it("bounds chunk-size lines and trailers like a head", () => {
    const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect(parse([`${chunked}1;${"e".repeat(MAX_HEAD_BYTES)}\r\n`]).error).toBe(
      "HPE_HEADER_OVERFLOW",
    );
    expect(parse([`${chunked}0\r\n`, "x: y\r\n".repeat(3000)]).error).toBe("HPE_HEADER_OVERFLOW");
  });

  it("bounds chunk extensions and size digits over the whole body, not only per line", () => {
    const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    // Each line within bounds, one data byte each: without a bound over the body, a sink could
    // make the drain limit (counted in data bytes) cost a gigabyte on the wire.
    const extended = `1;${"e".repeat(1_000)}\r\nz\r\n`;
    const fine = parse([chunked, extended.repeat(16), "0\r\n\r\n"]);
    expect(fine).toMatchObject({ body: "z".repeat(16), complete: done });
    const endless = parse([chunked, extended.repeat(17)]);
    expect(endless.error).toBe("HPE_CHUNK_EXTENSIONS_OVERFLOW");
    expect(endless.body).toBe("z".repeat(16));
    // Whitespace before the ";" counts with the extensions.
    expect(parse([chunked, `1${" ".repeat(1_000)};\r\nz\r\n`.repeat(17)]).error).toBe(
      "HPE_CHUNK_EXTENSIONS_OVERFLOW",
    );
    // A size of 16 hex digits is a 64-bit number; padding past that is refused.
    expect(parse([chunked, `${"0".repeat(15)}1\r\nz\r\n0\r\n\r\n`])).toMatchObject({
      body: "z",
      complete: done,
    });
    expect(parse([chunked, `${"0".repeat(16)}1\r\nz\r\n`]).error).toBe("HPE_INVALID_CHUNK_SIZE");
  });

  it("reads the Connection: close and Keep-Alive: timeout=n hints", () => {
    const head = (fields: string) =>
      parse([`HTTP/1.1 200 OK\r\n${fields}Content-Length: 0\r\n\r\n`]);
    expect(head("Connection: close\r\n")).toMatchObject({ keepAlive: false });
    expect(head("connection: Keep-Alive, CLOSE\r\n")).toMatchObject({ keepAlive: false });
    expect(head("Connection: closed\r\n")).toMatchObject({ keepAlive: true });
    expect(head("Keep-Alive: timeout=5\r\n")).toMatchObject({ keepAliveTimeout: 5 });
    expect(head("keep-alive: max=100, Timeout = 7\r\n")).toMatchObject({ keepAliveTimeout: 7 });
    expect(head("Keep-Alive: max=5\r\n")).toMatchObject({ keepAliveTimeout: -1 });
  });

  it("parses the next response after reset (one parser per connection)", () => {
    const seen: number[] = [];
    const parser = new Http1ResponseParser({
      onHead: (p) => seen.push(p.status),
      onBody: () => {},
      onComplete: () => {},
      onError: (err) => {
        throw err;
      },
    });
    for (const status of [200, 404, 503]) {
      parser.reset();
      parser.execute(Buffer.from(`HTTP/1.1 ${status} X\r\nContent-Length: 1\r\n\r\nx`));
    }
    expect(seen).toEqual([200, 404, 503]);
  });

  it("stops at once when aborted from a callback", () => {
    let bodies = 0;
    const parser: Http1ResponseParser = new Http1ResponseParser({
      onHead: () => {},
      onBody: () => {
        bodies++;
        parser.abort();
      },
      onComplete: () => {
        throw new Error("not complete");
      },
      onError: (err) => {
        throw err;
      },
    });
    parser.reset();
    parser.execute(
      Buffer.from(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n",
      ),
    );
    expect(bodies).toBe(1);
  });
});
