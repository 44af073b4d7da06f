// A tiny image format so the example needs no image library: binary PGM (Netpbm "P5"), 8-bit grey.

/** Encodes a grey image: `pixels` holds width * height bytes, row by row. */
export function encodePgm({ width, height, pixels }) {
  const header = new TextEncoder().encode(`P5\n${width} ${height}\n255\n`);
  const out = new Uint8Array(header.length + pixels.length);
  out.set(header, 0);
  out.set(pixels, header.length);
  return out;
}

/** Decodes what `encodePgm` writes (P5, maxval 255, single whitespace separators). */
export function decodePgm(bytes) {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 64));
  const m = /^P5\s+(\d+)\s+(\d+)\s+255\s/.exec(head);
  if (m === null) throw new Error("not an 8-bit binary PGM image");
  const width = Number(m[1]);
  const height = Number(m[2]);
  const pixels = bytes.subarray(m[0].length, m[0].length + width * height);
  if (pixels.length !== width * height) throw new Error("the PGM image is truncated");
  return { width, height, pixels };
}

/** Shrinks an image by `factor` in each direction: each new pixel is the mean of its block. */
export function shrink({ width, height, pixels }, factor) {
  const w = Math.floor(width / factor);
  const h = Math.floor(height / factor);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let sum = 0;
      for (let dy = 0; dy < factor; dy++) {
        for (let dx = 0; dx < factor; dx++)
          sum += pixels[(y * factor + dy) * width + x * factor + dx];
      }
      out[y * w + x] = Math.round(sum / (factor * factor));
    }
  }
  return { width: w, height: h, pixels: out };
}
