import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { TestProject } from "vitest/node";
import { makeSnsSigningCertificate } from "../test/support/sns-signing-certificate.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** A sink on 127.0.0.1 in the Node process; `GET /received/{path}` waits for a delivery. */
    sinkUrl: string;
    /** An RSA key (PKCS #8 PEM) and its self-signed certificate, to sign SNS messages with. */
    snsKeyPem: string;
    snsCertificatePem: string;
  }
}

interface Received {
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

/**
 * A real HTTP sink on 127.0.0.1, outside workerd, for the test that delivers over the network:
 * `POST /{path}` records a delivery (204); `GET /received/{path}` answers the first delivery to
 * that path as `{ headers, body }`, waiting up to 10 s for it, so the test never sleeps.
 */
export default async function setup(project: TestProject) {
  const received = new Map<string, Received>();
  const waiting = new Map<string, (() => void)[]>();
  const sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = req.url ?? "/";
      if (req.method === "POST") {
        if (!received.has(path)) {
          received.set(path, { headers: req.headers, body: Buffer.concat(chunks).toString() });
        }
        for (const wake of waiting.get(path) ?? []) wake();
        waiting.delete(path);
        res.writeHead(204).end();
        return;
      }
      const wanted = path.replace(/^\/received/, "");
      const answer = () => {
        const found = received.get(wanted);
        if (found === undefined) res.writeHead(404).end();
        else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(found));
      };
      if (received.has(wanted)) return answer();
      const timer = setTimeout(answer, 10_000);
      const list = waiting.get(wanted) ?? [];
      list.push(() => {
        clearTimeout(timer);
        answer();
      });
      waiting.set(wanted, list);
    });
  });
  // workerd has no node:crypto to make a certificate with: openssl makes one here, as SNS has
  // its own (RSA, X.509), and the tests sign with its key through WebCrypto.
  const { keyPem, certificatePem } = makeSnsSigningCertificate();
  project.provide("snsKeyPem", keyPem);
  project.provide("snsCertificatePem", certificatePem);
  await new Promise<void>((ok) => sink.listen(0, "127.0.0.1", ok));
  project.provide("sinkUrl", `http://127.0.0.1:${(sink.address() as AddressInfo).port}`);
  return async () => {
    sink.closeAllConnections();
    await new Promise<void>((ok) => sink.close(() => ok()));
  };
}
