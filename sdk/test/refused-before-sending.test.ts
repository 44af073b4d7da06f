import { afterEach, describe, expect, it } from "vitest";
import { createProducer } from "../src/index.js";
import { type SinkServer, startSink } from "./sink-server.js";

let server: SinkServer | undefined;
afterEach(async () => {
  // This test's server is taken before the first await: a hook that outlives its timeout must
  // not close the server the next test has started meanwhile.
  const held = server;
  server = undefined;
  await held?.close();
});

/** A producer in `mode` against a sink that accepts everything. */
async function producerFor(mode: "binary" | "structured" = "binary") {
  server = await startSink(() => ({ status: 202 }));
  const producer = createProducer({
    endpoint: `${server.url}/events`,
    source: "/refused",
    mode,
    retry: false,
    tracing: false,
  });
  return { producer, sink: server };
}

describe("mistakes found before anything is sent", () => {
  it("a per-event source that is not a URI-reference is a TypeError", async () => {
    const { producer, sink } = await producerFor();
    await expect(producer.send({ type: "com.example.t", source: "/a b" })).rejects.toThrow(
      TypeError,
    );
    await expect(
      producer.send([{ type: "com.example.t" }, { type: "com.example.t", source: "/café" }]),
    ).rejects.toThrow(/URI-reference/);
    expect(sink.received).toHaveLength(0);
  });

  it("a context attribute or data in extensions is a TypeError, never replaced or dropped silently", async () => {
    const { producer, sink } = await producerFor();
    // Before, `source` replaced the producer's, a JSON notification went out as text/xml, and
    // `id`, `time`, `subject`, `type`, `data` were dropped for the method's own (unset) fields.
    for (const [name, value] of [
      ["source", "/elsewhere"],
      ["datacontenttype", "text/xml"],
      ["id", "mine"],
      ["time", "2020-01-01T00:00:00Z"],
      ["subject", "other"],
      ["type", "com.example.other"],
      ["specversion", "1.0"],
      ["dataschema", "https://schemas.example.com/x"],
      ["data", "x"],
      ["data_base64", "AA=="],
    ] as const) {
      const extensions = { [name]: value };
      const refused = new RegExp(`extensions\\.${name} is no extension`);
      await expect(
        producer.notification({ type: "com.example.t", subject: "s", data: { a: 1 }, extensions }),
      ).rejects.toThrow(refused);
      await expect(
        producer.stateTransfer({ type: "com.example.t", data: { a: 1 }, extensions }),
      ).rejects.toThrow(refused);
    }
    expect(sink.received).toHaveLength(0);
    // A dataref extension is the notification's when its field gives none (it was dropped).
    await producer.notification({
      type: "com.example.t",
      subject: "s",
      extensions: { dataref: "https://ex.com/a", priority: 3 },
    });
    expect(sink.received[0]!.headers["ce-dataref"]).toBe("https://ex.com/a");
    expect(sink.received[0]!.headers["ce-priority"]).toBe("3");
    expect(sink.received[0]!.headers["ce-source"]).toBe("/refused");
  });

  it("a dataref that is not a URI-reference is a TypeError, however the event is made", async () => {
    const { producer, sink } = await producerFor();
    await expect(
      producer.notification({ type: "com.example.t", subject: "s", dataref: "images/cat 1.png" }),
    ).rejects.toThrow(/dataref "images\/cat 1.png" must be a URI-reference/);
    await expect(
      producer.send({ type: "com.example.t", dataref: "https://ex.com/é" }),
    ).rejects.toThrow(TypeError);
    await expect(producer.send([{ type: "com.example.t", dataref: 7 }])).rejects.toThrow(/dataref/);
    expect(sink.received).toHaveLength(0);
    await producer.notification({
      type: "com.example.t",
      subject: "s",
      dataref: "images/cat%201.png",
    });
    // The header percent-encodes the value (HTTP binding 3.1.3.2), its own "%" included.
    expect(sink.received[0]!.headers["ce-dataref"]).toBe("images/cat%25201.png");
  });

  it("a time that is no RFC 3339 timestamp is a TypeError naming time, however the event is made", async () => {
    const { producer, sink } = await producerFor();
    const refused = 'time "yesterday" must be an RFC 3339 timestamp';
    await expect(producer.send({ type: "com.example.t", time: "yesterday" })).rejects.toThrow(
      refused,
    );
    await expect(
      producer.notification({ type: "com.example.t", subject: "s", time: "yesterday" }),
    ).rejects.toThrow(refused);
    await expect(
      producer.stateTransfer({ type: "com.example.t", data: 1, time: "yesterday" }),
    ).rejects.toThrow(refused);
    await expect(
      producer.send([
        { type: "com.example.t" },
        { type: "com.example.t", time: "2025-02-30T00:00:00Z" },
      ]),
    ).rejects.toThrow(TypeError);
    await expect(
      producer.notification({
        type: "com.example.t",
        subject: "s",
        extensions: { expirytime: "tomorrow" },
      }),
    ).rejects.toThrow('expirytime "tomorrow" must be an RFC 3339 timestamp');
    expect(sink.received).toHaveLength(0);
    await producer.send({ type: "com.example.t", time: "2025-01-31T13:00:00+01:00" });
    expect(sink.received[0]!.headers["ce-time"]).toBe("2025-01-31T13:00:00+01:00");
  });

  it("an attribute with an unpaired surrogate is a TypeError in every mode, not a U+FFFD sent", async () => {
    for (const mode of ["binary", "structured"] as const) {
      const { producer, sink } = await producerFor(mode);
      await expect(producer.send({ type: "com.example.t", subject: "a\ud800b" })).rejects.toThrow(
        "attribute subject holds an unpaired surrogate (U+D800)",
      );
      await expect(
        producer.notification({ type: "com.example.t", subject: "s", extensions: { x: "\udfff" } }),
      ).rejects.toThrow(TypeError);
      await producer.send({ type: "com.example.t", subject: "😀" });
      expect(sink.received).toHaveLength(1);
      await sink.close();
      server = undefined;
    }
  });

  it("a control character or noncharacter in an attribute is a TypeError in every mode, not a 400 from the gateway", async () => {
    for (const mode of ["binary", "structured"] as const) {
      const { producer, sink } = await producerFor(mode);
      await expect(producer.send({ type: "com.example.t\u0001" })).rejects.toThrow(
        "attribute type holds a control character (U+0001), which a CloudEvents String cannot hold",
      );
      await expect(
        producer.notification({ type: "com.example.t", subject: "line1\nline2" }),
      ).rejects.toThrow("attribute subject holds a control character (U+000A)");
      await expect(
        producer.stateTransfer({ type: "com.example.t", data: 1, extensions: { x: "\ufdd0" } }),
      ).rejects.toThrow("attribute x holds a noncharacter (U+FDD0)");
      await expect(producer.send([{ type: "com.example.t", id: "a\u0085" }])).rejects.toThrow(
        TypeError,
      );
      expect(sink.received).toHaveLength(0);
      await producer.send({ type: "com.example.t", subject: "café \u00a0😀" });
      expect(sink.received).toHaveLength(1);
      await sink.close();
      server = undefined;
    }
  });

  it("a datacontenttype that is no media type (RFC 2046) is a TypeError in every mode, never sent", async () => {
    for (const mode of ["binary", "structured"] as const) {
      const { producer, sink } = await producerFor(mode);
      await expect(
        producer.stateTransfer({ type: "com.example.t", data: "x", datacontenttype: "text plain" }),
      ).rejects.toThrow('datacontenttype "text plain" must be a media type (RFC 2046)');
      for (const datacontenttype of ["text/", "text/plain; charset", 'text/plain; x="a', "json"]) {
        await expect(
          producer.send({ type: "com.example.t", data: "x", datacontenttype }),
          datacontenttype,
        ).rejects.toThrow(TypeError);
      }
      // No header can carry a €: before, binary mode's fetch threw on it, which was taken for a
      // network error (NetworkFailed) and retried.
      await expect(
        producer.send({ type: "com.example.t", data: "x", datacontenttype: "text/plain; x=€" }),
      ).rejects.toThrow(TypeError);
      expect(sink.received).toHaveLength(0);
      await producer.send({
        type: "com.example.t",
        data: "x",
        datacontenttype: 'text/plain;charset=utf-8 ; ; format="a;b\\"c"',
      });
      expect(sink.received).toHaveLength(1);
      await sink.close();
      server = undefined;
    }
  });

  it("a dataschema that is not an absolute URI is a TypeError, however the event is made", async () => {
    const { producer, sink } = await producerFor();
    await expect(
      producer.stateTransfer({ type: "com.example.t", dataschema: "schemas/order.json", data: 1 }),
    ).rejects.toThrow(
      'dataschema "schemas/order.json" must be an absolute URI with a scheme (RFC 3986 4.3)',
    );
    await expect(producer.send({ type: "com.example.t", dataschema: "/s.json" })).rejects.toThrow(
      TypeError,
    );
    expect(sink.received).toHaveLength(0);
    await producer.send({ type: "com.example.t", dataschema: "urn:example:order:v1" });
    expect(sink.received).toHaveLength(1);
  });

  it("an integer attribute outside the CloudEvents Integer range is a TypeError in every mode", async () => {
    for (const mode of ["binary", "structured"] as const) {
      const { producer, sink } = await producerFor(mode);
      await expect(producer.send({ type: "com.example.t", count: 2 ** 31 })).rejects.toThrow(
        /integer from -2\^31 to 2\^31-1/,
      );
      await expect(
        producer.notification({
          type: "com.example.t",
          subject: "s",
          extensions: { n: -(2 ** 31) - 1 },
        }),
      ).rejects.toThrow(TypeError);
      await expect(producer.send([{ type: "com.example.t", count: 2 ** 40 }])).rejects.toThrow(
        TypeError,
      );
      expect(sink.received).toHaveLength(0);
      await sink.close();
      server = undefined;
    }
  });

  it("data without a JSON form is a TypeError in structured, batch and coalesced sends too", async () => {
    const noJson = [() => 1, Symbol("s"), { toJSON: () => undefined }];
    for (const mode of ["binary", "structured"] as const) {
      const { producer, sink } = await producerFor(mode);
      for (const data of noJson) {
        await expect(producer.send({ type: "com.example.t", data })).rejects.toThrow(
          "data has no JSON form",
        );
        await expect(producer.send([{ type: "com.example.t", data }])).rejects.toThrow(TypeError);
        await expect(producer.stateTransfer({ type: "com.example.t", data })).rejects.toThrow(
          "data has no JSON form",
        );
      }
      expect(sink.received).toHaveLength(0);
      await sink.close();
      server = undefined;
    }
    server = await startSink(() => ({ status: 202 }));
    const coalescing = createProducer({
      endpoint: `${server.url}/events`,
      source: "/refused",
      coalesce: true,
      retry: false,
    });
    await expect(coalescing.send({ type: "com.example.t", data: () => 1 })).rejects.toThrow(
      "data has no JSON form",
    );
    expect(server.received).toHaveLength(0);
  });
});
