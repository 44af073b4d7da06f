import { createSign, generateKeyPairSync, type KeyObject } from "node:crypto";

/** An SNS message as posted (Amazon SNS "HTTP/HTTPS ... JSON format"): every member a string. */
export type SnsMessage = Readonly<Record<string, string>>;

/**
 * The members SNS signs, in order ("Verifying the signatures of Amazon SNS messages"): for a
 * `Notification` the first list (`Subject` only when present), for a subscription or unsubscribe
 * confirmation the second.
 */
const SIGNED_NOTIFICATION = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"];
const SIGNED_CONFIRMATION = [
  "Message",
  "MessageId",
  "SubscribeURL",
  "Timestamp",
  "Token",
  "TopicArn",
  "Type",
];

/**
 * The string SNS signs: each signed member present, as `name\nvalue\n`.
 *
 * @example
 * snsStringToSign({ Type: "Notification", Message: "hi", ... }); // "Message\nhi\nMessageId\n..."
 */
export function snsStringToSign(message: SnsMessage): string {
  const names = message.Type === "Notification" ? SIGNED_NOTIFICATION : SIGNED_CONFIRMATION;
  return names
    .filter((name) => message[name] !== undefined)
    .map((name) => `${name}\n${message[name]}\n`)
    .join("");
}

/** Signs SNS messages with a key made in this process; its certificate is served to the gateway. */
export interface SnsSigner {
  /** A self-signed X.509 certificate (PEM) of the signing key, as SNS publishes its own. */
  readonly certificatePem: string;
  /**
   * `message` with `SignatureVersion`, `SigningCertURL` and `Signature` added: version 1 signs
   * with SHA1withRSA, version 2 with SHA256withRSA.
   */
  sign(message: SnsMessage, version: "1" | "2", certificateUrl: string): SnsMessage;
}

/**
 * A new RSA key (2048 bits) and a self-signed certificate for it. The private key never leaves
 * the process: a target verifies with the certificate, fetched from a URL it trusts.
 *
 * @example
 * const signer = createSnsSigner();
 * sink.publish("/sns-certificates/a.pem", signer.certificatePem);
 * const signed = signer.sign(message, "2", `${sink.url}/sns-certificates/a.pem`);
 */
export function createSnsSigner(): SnsSigner {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const certificatePem = selfSignedCertificate(privateKey, publicKey);
  return {
    certificatePem,
    sign(message, version, certificateUrl) {
      const signer = createSign(version === "1" ? "RSA-SHA1" : "RSA-SHA256");
      signer.update(snsStringToSign(message));
      return {
        ...message,
        SignatureVersion: version,
        Signature: signer.sign(privateKey, "base64"),
        SigningCertURL: certificateUrl,
      };
    },
  };
}

/** DER (X.690) encoding of one element: tag, definite length, contents. */
function der(tag: number, ...contents: readonly Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const n = body.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, body]);
}

const SEQUENCE = 0x30;
const SET = 0x31;
/** sha256WithRSAEncryption (RFC 4055 5), with its NULL parameters. */
const SHA256_WITH_RSA = der(
  SEQUENCE,
  Buffer.from("06092a864886f70d01010b", "hex"),
  Buffer.from("0500", "hex"),
);

/** An X.501 Name with one common name. */
function name(commonName: string): Buffer {
  const cn = der(SEQUENCE, Buffer.from("0603550403", "hex"), der(0x0c, Buffer.from(commonName)));
  return der(SEQUENCE, der(SET, cn));
}

/** UTCTime `YYMMDDHHMMSSZ` (RFC 5280 4.1.2.5.1). */
function utcTime(date: Date): Buffer {
  const text = date.toISOString().replace(/[-:T]/g, "").slice(2, 14);
  return der(0x17, Buffer.from(`${text}Z`));
}

/**
 * A v3 X.509 certificate (RFC 5280 4.1) of `publicKey`, issued to and by `CN=herald-conformance-sns`,
 * valid from a day ago for two days, signed with `privateKey` (SHA-256 with RSA).
 */
function selfSignedCertificate(privateKey: KeyObject, publicKey: KeyObject): string {
  const now = Date.now();
  const day = 86_400_000;
  const serial = crypto.getRandomValues(new Uint8Array(8));
  // A positive INTEGER in its one DER form: the first byte 0x40-0x7f, neither a sign bit nor a
  // leading zero (a first byte 0 before one below 0x80 is "illegal padding" to OpenSSL, which
  // then refused one certificate in 256).
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40;
  const tbs = der(
    SEQUENCE,
    der(0xa0, der(0x02, Buffer.from([2]))), // version v3
    der(0x02, Buffer.from(serial)),
    SHA256_WITH_RSA,
    name("herald-conformance-sns"),
    der(SEQUENCE, utcTime(new Date(now - day)), utcTime(new Date(now + day))),
    name("herald-conformance-sns"),
    publicKey.export({ type: "spki", format: "der" }),
  );
  const signature = createSign("RSA-SHA256").update(tbs).sign(privateKey);
  const certificate = der(SEQUENCE, tbs, SHA256_WITH_RSA, der(0x03, Buffer.from([0]), signature));
  const base64 = certificate.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}
