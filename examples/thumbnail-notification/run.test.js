import { describe, expect, it } from "vitest";
import { decodePgm, encodePgm } from "./pgm.js";
import { runExample } from "./run.js";

describe("thumbnail-notification example", () => {
  it("the thumbnail service gets a thin, signed notification and calls back for the image", async () => {
    const { sent, image, thumbnail, received } = await runExample();
    expect(received).toHaveLength(1);
    const event = received[0];
    expect(event).toMatchObject({
      id: sent.id,
      source: "/images",
      type: "com.example.image.uploaded",
      subject: "images/cat.pgm",
      data: { imageId: "cat" },
      authtype: "service_account",
      authid: "uploader",
    });
    // The event carries identifiers, not the image: the pixels came from the dataref.
    expect(JSON.stringify(event.data).length).toBeLessThan(64);
    expect(event.dataref).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/images\/cat\.pgm$/);

    // A quarter of the size, each pixel the mean of its 4x4 block of the original.
    expect([thumbnail.width, thumbnail.height]).toEqual([16, 12]);
    const block = (tx, ty) => {
      let sum = 0;
      for (let y = ty * 4; y < ty * 4 + 4; y++) {
        for (let x = tx * 4; x < tx * 4 + 4; x++) sum += image.pixels[y * image.width + x];
      }
      return Math.round(sum / 16);
    };
    expect(thumbnail.pixels[0]).toBe(block(0, 0));
    expect(thumbnail.pixels[3 * 16 + 5]).toBe(250); // inside the bright square
    expect(thumbnail.pixels[11 * 16 + 15]).toBe(block(15, 11));
  });

  it("the PGM helpers round-trip", () => {
    const img = { width: 3, height: 2, pixels: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    expect(decodePgm(encodePgm(img))).toEqual(img);
  });
});
