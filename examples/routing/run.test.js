import { describe, expect, it } from "vitest";
import { runExample } from "./run.js";

describe("routing example", () => {
  it("routes orders to billing (binary) and uploads to thumbnails (structured)", async () => {
    const received = await runExample();
    const byPath = Object.fromEntries(received.map((r) => [r.path, r]));
    expect(Object.keys(byPath).sort()).toEqual(["/billing", "/thumbnails"]);
    // The .tmp upload, sent before img-1 to the same one-at-a-time subscription, matched nothing.
    expect(received).toHaveLength(2);
    expect(byPath["/billing"].headers["ce-id"]).toBe("order-1");
    expect(byPath["/billing"].headers["x-team"]).toBe("billing");
    expect(JSON.parse(byPath["/billing"].body)).toEqual({ orderId: 1 });
    expect(byPath["/thumbnails"].headers["content-type"]).toMatch(
      /^application\/cloudevents\+json/,
    );
    expect(JSON.parse(byPath["/thumbnails"].body)).toMatchObject({
      id: "img-1",
      subject: "uploads/cat.png",
      dataref: "https://images.example.com/uploads/cat.png",
    });
  });
});
