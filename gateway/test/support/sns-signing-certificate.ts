import { execFileSync } from "node:child_process";
import { createSign } from "node:crypto";
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

/**
 * `message` signed as SNS signs it ("Verifying the signatures of Amazon SNS messages"): the keys
 * of its type as `name\nvalue\n`, RSA with SHA-1 (version 1) or SHA-256 (version 2), with
 * `SignatureVersion`, `Signature` and `SigningCertURL` added.
 *
 * @example
 * const signed = signSnsMessage({ Type: "Notification", ... }, "2", keyPem, `${base}/cert.pem`);
 */
export function signSnsMessage<M extends Record<string, unknown>>(
  message: M,
  version: "1" | "2",
  keyPem: string,
  certificateUrl: string,
): M & Record<"SignatureVersion" | "Signature" | "SigningCertURL", string> {
  const keys =
    message.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  const text = keys
    .filter((k) => message[k] !== undefined)
    .map((k) => `${k}\n${message[k]}\n`)
    .join("");
  const signer = createSign(version === "1" ? "RSA-SHA1" : "RSA-SHA256");
  signer.update(text);
  return {
    ...message,
    SignatureVersion: version,
    Signature: signer.sign(keyPem, "base64"),
    SigningCertURL: certificateUrl,
  };
}
