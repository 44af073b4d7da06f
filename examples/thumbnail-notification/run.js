// The notification pattern, end to end: an image store (the source of truth), an uploader that
// announces each image with a thin notification, Herald, and a thumbnail service that calls back
// for the image named by the event's dataref.
// Run: npm start -w @herald/example-thumbnail-notification   (after `npm run build` at the root)
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createProducer, defineEvent, serviceAccountToken } from "@herald/sdk";
import { heraldReceiver } from "@herald/sdk/receive";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { exportJWK, generateKeyPair } from "jose";
import { decodePgm, encodePgm, shrink } from "./pgm.js";

const here = dirname(fileURLToPath(import.meta.url));
const herald = join(here, "..", "..", "gateway", "bin", "herald.js");

/** The catalog entry: a notification whose data is the image's id, nothing more. */
export const imageUploaded = defineEvent({
  type: "com.example.image.uploaded",
  kind: "notification",
});

/** A 64 x 48 grey gradient with a bright square: something worth shrinking. */
export function sampleImage() {
  const width = 64;
  const height = 48;
  const pixels = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inSquare = x >= 16 && x < 32 && y >= 8 && y < 24;
      pixels[y * width + x] = inSquare ? 250 : (x * 3 + y * 2) % 200;
    }
  }
  return { width, height, pixels };
}

function listen(server) {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`)),
  );
}

/** The image store: PUT and GET of /images/NAME and /thumbnails/NAME; tells who stores a thumbnail. */
function startStore(onThumbnail) {
  const files = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "PUT") {
        files.set(req.url, new Uint8Array(Buffer.concat(chunks)));
        res.writeHead(201).end();
        if (req.url.startsWith("/thumbnails/")) onThumbnail(req.url);
        return;
      }
      const file = files.get(req.url);
      if (file === undefined) return res.writeHead(404).end();
      res.writeHead(200, { "content-type": "image/x-portable-graymap" }).end(file);
    });
  });
  return { server, files };
}

/**
 * The thumbnail service: a Hono app whose heraldReceiver checks the Standard Webhooks signature
 * and decodes the event; the handler fetches the image from the event's dataref (the event
 * carries no pixels), shrinks it 4x and stores the thumbnail next to the image.
 */
function thumbnailService({ signingSecret, storeUrl, received }) {
  const app = new Hono();
  app.post("/thumbnail", heraldReceiver({ signingSecret }), async (c) => {
    const event = c.get("cloudevent");
    received.push(event);
    const image = await fetch(event.dataref);
    if (!image.ok) return c.text(`cannot fetch ${event.dataref}: ${image.status}`, 502);
    const thumb = shrink(decodePgm(new Uint8Array(await image.arrayBuffer())), 4);
    const name = event.subject.replace(/^images\//, "");
    await fetch(`${storeUrl}/thumbnails/${name}`, { method: "PUT", body: encodePgm(thumb) });
    return c.body(null, 204);
  });
  return app;
}

/** Starts herald serve on herald.yaml; resolves with its URL and the child process. */
async function startHerald(env) {
  const gateway = spawn(process.execPath, [herald, "serve", "--config", "herald.yaml"], {
    cwd: here,
    env: { ...process.env, ...env, HERALD_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise((resolve, reject) => {
    gateway.once("exit", (code) => reject(new Error(`herald exited with ${code}`)));
    createInterface({ input: gateway.stdout }).on("line", (line) => {
      const m = /^herald listening on (\S+)$/.exec(line);
      if (m) resolve(m[1]);
    });
  });
  return { url, gateway };
}

/**
 * Runs the example: uploads one image, announces it, waits for its thumbnail. Resolves with the
 * image, the thumbnail, and the events the thumbnail service received.
 */
export async function runExample() {
  const dir = await mkdtemp(join(tmpdir(), "herald-thumbnail-"));
  let thumbnailStored;
  const stored = new Promise((resolve) => {
    thumbnailStored = resolve;
  });
  const store = startStore((path) => thumbnailStored(path));
  const storeUrl = await listen(store.server);

  // The uploader's service account: its public key is what Herald trusts (a JWKS file here).
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const kid = "uploader-1";
  await writeFile(
    join(dir, "jwks.json"),
    JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" }] }),
  );

  const signingSecret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}`;
  const received = [];
  const app = thumbnailService({ signingSecret, storeUrl, received });
  const thumbnailer = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const thumbnailerUrl = `http://127.0.0.1:${thumbnailer.address().port}`;

  const { url, gateway } = await startHerald({
    JWKS_FILE: join(dir, "jwks.json"),
    THUMBNAILER_URL: thumbnailerUrl,
    SIGNING_SECRET: signingSecret,
  });
  try {
    // 1. The upload: the image goes to the store, the source of truth.
    const image = sampleImage();
    await fetch(`${storeUrl}/images/cat.pgm`, { method: "PUT", body: encodePgm(image) });

    // 2. The notification: what happened, to which entity, and where to get it. No pixels.
    const producer = createProducer({
      endpoint: `${url}/events`,
      source: "/images",
      token: serviceAccountToken({
        privateKey: { ...(await exportJWK(privateKey)), alg: "ES256", kid },
        issuer: "https://uploader.example.com",
        audience: "herald",
        subject: "uploader",
      }),
    });
    const sent = await producer.emit(imageUploaded, {
      subject: "images/cat.pgm",
      dataref: `${storeUrl}/images/cat.pgm`,
      data: { imageId: "cat" },
    });

    // 3. The thumbnail service called back and stored the thumbnail.
    await stored;
    const thumbnail = decodePgm(store.files.get("/thumbnails/cat.pgm"));
    return { sent, image, thumbnail, received, thumbnailerUrl };
  } finally {
    gateway.kill("SIGTERM");
    await new Promise((ok) => gateway.once("exit", ok));
    await new Promise((ok) => thumbnailer.close(ok));
    store.server.closeAllConnections();
    await new Promise((ok) => store.server.close(ok));
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { sent, image, thumbnail, received } = await runExample();
  const event = received[0];
  console.log(`uploader sent ${sent.id} (${imageUploaded.type}) for ${event.subject}`);
  console.log(`  data: ${JSON.stringify(event.data)}  dataref: ${event.dataref}`);
  console.log(`  published by ${event.authid} (${event.authtype}), signed delivery verified`);
  console.log(
    `thumbnail service fetched the ${image.width}x${image.height} image and stored a ` +
      `${thumbnail.width}x${thumbnail.height} thumbnail`,
  );
}
