import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A signing certificate of the kind SNS has (RSA 2048, X.509, self-signed, CN `sns.test`) and its
 * key, made by openssl in a temporary folder that is removed again: for tests that sign SNS
 * messages themselves and serve the certificate from 127.0.0.1.
 *
 * @example
 * const { keyPem, certificatePem } = makeSnsSigningCertificate();
 */
export function makeSnsSigningCertificate(): { keyPem: string; certificatePem: string } {
  const dir = mkdtempSync(join(tmpdir(), "herald-sns-"));
  try {
    const key = join(dir, "key.pem");
    const certificate = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=sns.test",
      ].concat(["-keyout", key, "-out", certificate]),
      { stdio: "ignore" },
    );
    return {
      keyPem: readFileSync(key, "utf8"),
      certificatePem: readFileSync(certificate, "utf8"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
