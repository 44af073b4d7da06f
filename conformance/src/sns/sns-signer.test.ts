import { createPublicKey, createVerify, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSnsSigner, snsStringToSign } from "./sns-signer.js";

const notification = {
  Type: "Notification",
  MessageId: "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
  TopicArn: "arn:aws:sns:us-west-2:123456789012:MyTopic",
  Subject: "My First Message",
  Message: "Hello world!",
  Timestamp: "2012-05-02T00:54:06.655Z",
};

describe("snsStringToSign", () => {
  it("lists a notification's signed members in order, Subject only when present", () => {
    expect(snsStringToSign(notification)).toBe(
      "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n" +
        "Subject\nMy First Message\nTimestamp\n2012-05-02T00:54:06.655Z\n" +
        "TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n",
    );
    const { Subject: _, ...bare } = notification;
    expect(snsStringToSign(bare)).not.toContain("Subject");
  });

  it("signs SubscribeURL and Token of a confirmation", () => {
    const text = snsStringToSign({
      Type: "SubscriptionConfirmation",
      MessageId: "m",
      Token: "t",
      TopicArn: "arn",
      Message: "confirm",
      SubscribeURL: "https://sns.example/?Action=ConfirmSubscription",
      Timestamp: "2012-04-26T20:45:04.751Z",
    });
    expect(text).toContain("SubscribeURL\nhttps://sns.example/?Action=ConfirmSubscription\n");
    expect(text.indexOf("Token")).toBeLessThan(text.indexOf("TopicArn"));
  });
});

describe("createSnsSigner", () => {
  const signer = createSnsSigner();
  const certificate = new X509Certificate(signer.certificatePem);

  it("makes a self-signed RSA certificate that X.509 parsers read", () => {
    expect(certificate.subject).toBe("CN=herald-conformance-sns");
    expect(certificate.publicKey.asymmetricKeyType).toBe("rsa");
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    // A positive serial in its one DER form, 8 bytes with a first byte of 0x40-0x7f: a random
    // first byte of 0 before one below 0x80 made OpenSSL refuse one certificate in 256.
    expect(certificate.serialNumber).toMatch(/^[4-7][0-9A-F]{15}$/);
  });

  it.each([
    ["1", "RSA-SHA1"],
    ["2", "RSA-SHA256"],
  ] as const)("signs version %s with %s, verifiable with the certificate's key", (version, alg) => {
    const signed = signer.sign(notification, version, "http://127.0.0.1/c.pem");
    expect(signed).toMatchObject({
      SignatureVersion: version,
      SigningCertURL: "http://127.0.0.1/c.pem",
    });
    const key = createPublicKey(signer.certificatePem);
    const verify = (text: string) =>
      createVerify(alg)
        .update(text)
        .verify(key, signed.Signature ?? "", "base64");
    expect(verify(snsStringToSign(signed))).toBe(true);
    expect(verify(snsStringToSign({ ...signed, Message: "tampered" }))).toBe(false);
  });
});
