import { describe, expect, expectTypeOf, it } from "vitest";
import { defineEvent, type NotificationFields, type StateFields } from "./define-event.js";
import { createProducer } from "./producer.js";

interface PartOrder {
  readonly sku: string;
  readonly quantity: number;
}
const partOrdered = defineEvent<PartOrder>({
  type: "com.example.part.ordered",
  kind: "state",
  dataschema: "https://schemas.example.com/part-order.json",
});
const imageUploaded = defineEvent<{ imageId: string }>({
  type: "com.example.image.uploaded",
  kind: "notification",
});

describe("defineEvent", () => {
  it("keeps type, kind and dataschema, frozen", () => {
    expect(partOrdered).toEqual({
      kind: "state",
      type: "com.example.part.ordered",
      dataschema: "https://schemas.example.com/part-order.json",
    });
    expect(Object.isFrozen(imageUploaded)).toBe(true);
  });

  it("refuses an empty type, an unknown kind or an empty dataschema", () => {
    expect(() => defineEvent({ type: "", kind: "state" })).toThrow(TypeError);
    // @ts-expect-error: not a kind
    expect(() => defineEvent({ type: "t", kind: "fat" })).toThrow(/kind/);
    expect(() => defineEvent({ type: "t", kind: "state", dataschema: "" })).toThrow(/dataschema/);
  });

  it("types emit's fields by the definition, end to end", async () => {
    const requests: Request[] = [];
    const producer = createProducer({
      endpoint: "http://gateway.test/events",
      source: "/typed",
      fetch: async (input, init) => {
        requests.push(new Request(input, init));
        return new Response(null, { status: 202 });
      },
    });
    expectTypeOf<Parameters<typeof producer.emit<typeof partOrdered>>[1]>().toEqualTypeOf<
      StateFields<PartOrder>
    >();
    expectTypeOf<Parameters<typeof producer.emit<typeof imageUploaded>>[1]>().toEqualTypeOf<
      NotificationFields<{ imageId: string }>
    >();
    await producer.emit(partOrdered, { data: { sku: "A", quantity: 1 } });
    await producer.emit(imageUploaded, { subject: "images/a.png", data: { imageId: "a" } });
    // @ts-expect-error: a state transfer needs its data
    await producer.emit(partOrdered, { subject: "x" }).catch(() => undefined);
    // @ts-expect-error: quantity must be a number
    await producer.emit(partOrdered, { data: { sku: "A", quantity: "1" } });
    // @ts-expect-error: a notification needs a subject
    await producer.emit(imageUploaded, { data: { imageId: "a" } }).catch(() => undefined);
    expect(requests.map((r) => r.headers.get("ce-type"))).toEqual([
      "com.example.part.ordered",
      "com.example.image.uploaded",
      "com.example.part.ordered",
    ]);
    expect(requests[0]!.headers.get("ce-dataschema")).toBe(
      "https://schemas.example.com/part-order.json",
    );
    expect(requests[1]!.headers.get("ce-dataschema")).toBeNull();
    // A notification definition's dataschema describes its identifiers; it goes out too.
    const thumbnailMade = defineEvent<{ thumbnailId: string }>({
      type: "com.example.thumbnail.made",
      kind: "notification",
      dataschema: "https://schemas.example.com/thumbnail-ids.json",
    });
    await producer.emit(thumbnailMade, { subject: "thumbs/a.png", data: { thumbnailId: "a" } });
    expect(requests[3]!.headers.get("ce-dataschema")).toBe(
      "https://schemas.example.com/thumbnail-ids.json",
    );
  });
});
