import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  makeSnsSigningCertificate,
  signSnsMessage,
} from "../../test/support/sns-signing-certificate.js";
import { startWebhookGateway, type WebhookGateway } from "../../test/support/webhook-gateway.js";
import { snsUrlTrusted } from "./sns-trusted-url.js";

const TOPIC = "arn:aws:sns:us-west-2:123456789012:MyTopic";
const SUBSCRIPTION = `${TOPIC}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`;
/** SNS's answer to ConfirmSubscription ("ConfirmSubscription", Amazon SNS API Reference). */
const CONFIRMED = `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">
  <ConfirmSubscriptionResult>
    <SubscriptionArn>${SUBSCRIPTION}</SubscriptionArn>
  </ConfirmSubscriptionResult>
  <ResponseMetadata><RequestId>075ecce8-8dac-11e1-bf80-f781d96e9307</RequestId></ResponseMetadata>
</ConfirmSubscriptionResponse>`;
const logged: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
const record =
  (level: string) =>
  (message: string, fields?: Record<string, unknown>): void => {
    logged.push({ level, message, ...(fields === undefined ? {} : { fields }) });
  };
const logger = {
  debug: record("debug"),
  info: record("info"),
  warn: record("warn"),
  error: record("error"),
};

let privateKeyPem: string;
let certificatePem: string;
let server: Server;
let base: string;
const served: string[] = [];
let kit: WebhookGateway;
let confirmKit: WebhookGateway;

beforeAll(async () => {
  // A signing certificate of our own, as SNS has one: RSA, self-signed, made by openssl.
  ({ keyPem: privateKeyPem, certificatePem } = makeSnsSigningCertificate());
  // The certificate host and the SubscribeURL endpoint, on 127.0.0.1.
  server = createServer((req, res) => {
    served.push(req.url ?? "");
    if (req.url === "/SimpleNotificationService-test.pem") res.writeHead(200).end(certificatePem);
    else if (req.url === "/broken-cert") {
      // Says 2 KB, sends a few bytes, then the connection goes: the body breaks off.
      res.writeHead(200, { "content-length": "2048" });
      res.write("-----BEGIN CERT", () => res.destroy());
    } else if (req.url?.startsWith("/endless-confirm")) {
      // A confirmation answer that never ends.
      res.writeHead(200, { "content-type": "text/xml" });
      res.write(CONFIRMED);
      const chunk = " ".repeat(16_384);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    } else if (req.url === "/endless-cert") {
      // A body that never ends: read no further than a certificate can be.
      res.writeHead(200, { "content-type": "application/x-pem-file" });
      const chunk = "A".repeat(16_384);
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once("drain", pump);
      };
      pump();
    } else if (req.url?.startsWith("/?Action=ConfirmSubscription")) {
      res.writeHead(200, { "content-type": "text/xml" }).end(CONFIRMED);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  kit = await startWebhookGateway({
    adapters: [
      { id: "orders-topic", kind: "sns", trustedUrls: [`${base}/`], topics: [TOPIC] },
      { id: "aws-default", kind: "sns" },
      {
        id: "pinned",
        kind: "sns",
        trustedUrls: [`${base}/`],
        topics: [TOPIC],
        subscriptions: [SUBSCRIPTION],
      },
    ],
  });
  confirmKit = await startWebhookGateway(
    {
      adapters: [{ id: "confirming", kind: "sns", trustedUrls: [`${base}/`], autoConfirm: true }],
    },
    { logger },
  );
});
afterAll(async () => {
  await kit.stop();
  await confirmKit.stop();
  await new Promise<void>((ok) => server.close(() => ok()));
});

type Message = Record<string, string>;

/** Signs a message as SNS does, with this file's key and the certificate it serves. */
function sign(message: Message, version: "1" | "2"): Message {
  return signSnsMessage(
    message,
    version,
    privateKeyPem,
    `${base}/SimpleNotificationService-test.pem`,
  );
}

function notification(id: string, extra: Message = {}): Message {
  return {
    Type: "Notification",
    MessageId: id,
    TopicArn: TOPIC,
    Subject: "My First Message",
    Message: "Hello world!",
    Timestamp: "2012-05-02T00:54:06.655Z",
    UnsubscribeURL: `${base}/?Action=Unsubscribe&SubscriptionArn=${SUBSCRIPTION}`,
    ...extra,
  };
}

function confirmation(id: string, type = "SubscriptionConfirmation"): Message {
  return {
    Type: type,
    MessageId: id,
    Token:
      "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
    TopicArn: TOPIC,
    Message: `You have chosen to subscribe to the topic ${TOPIC}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
    SubscribeURL: `${base}/?Action=ConfirmSubscription&TopicArn=${TOPIC}&Token=2336412f37`,
    Timestamp: "2012-04-26T20:45:04.751Z",
  };
}

/** Posts a message with the headers SNS sends (text/plain body). */
function deliver(
  target: WebhookGateway,
  adapter: string,
  message: Message,
  headers: Record<string, string> = {},
) {
  return target.post(adapter, JSON.stringify(message), {
    "content-type": "text/plain; charset=UTF-8",
    "x-amz-sns-message-type": message.Type ?? "",
    "x-amz-sns-message-id": message.MessageId ?? "",
    "x-amz-sns-topic-arn": message.TopicArn ?? "",
    ...(message.Type === "SubscriptionConfirmation"
      ? {}
      : { "x-amz-sns-subscription-arn": SUBSCRIPTION }),
    "user-agent": "Amazon Simple Notification Service Agent",
    ...headers,
  });
}

describe("sns: signatures", () => {
  it("accepts a notification signed with SignatureVersion 1 (SHA1withRSA) and maps it per aws-sns.md", async () => {
    const message = sign(notification("22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324"), "1");
    const res = await deliver(kit, "orders-topic", message);
    expect(res.status).toBe(202);
    const event = (await kit.delivered()).find(
      (e) => e.id === "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
    );
    expect(event).toMatchObject({
      specversion: "1.0",
      source: SUBSCRIPTION,
      type: "com.amazonaws.sns.Notification",
      subject: "My First Message",
      time: "2012-05-02T00:54:06.655Z",
      datacontenttype: "application/json",
      authtype: "system",
      authid: "orders-topic",
      data: message,
    });
  });

  it("accepts SignatureVersion 2 (SHA256withRSA); a notification without Subject has no subject", async () => {
    const { Subject: _, ...bare } = notification("v2-message");
    const res = await deliver(kit, "orders-topic", sign(bare, "2"));
    expect(res.status).toBe(202);
    const event = (await kit.delivered()).find((e) => e.id === "v2-message");
    expect(event?.subject).toBeUndefined();
    expect(event?.type).toBe("com.amazonaws.sns.Notification");
  });

  it("an empty Subject counts as absent, and a confirmation has no subject even with one (README)", async () => {
    const res = await deliver(
      kit,
      "orders-topic",
      sign(notification("empty-subject", { Subject: "" }), "2"),
    );
    expect(res.status).toBe(202);
    const confirm = sign({ ...confirmation("confirm-subject"), Subject: "Hi" }, "2");
    expect((await deliver(kit, "orders-topic", confirm)).status).toBe(202);
    const empty = (await kit.delivered()).find((e) => e.id === "empty-subject");
    expect(empty).toMatchObject({ type: "com.amazonaws.sns.Notification" });
    expect(empty?.subject).toBeUndefined();
    const confirmed = (await kit.delivered()).find((e) => e.id === "confirm-subject");
    expect(confirmed).toMatchObject({ type: "com.amazonaws.sns.SubscriptionConfirmation" });
    expect(confirmed?.subject).toBeUndefined();
  });

  it("refuses a tampered message, a missing signature and an unknown SignatureVersion: 401", async () => {
    const signed = sign(notification("tampered"), "2");
    const tampered = await deliver(kit, "orders-topic", { ...signed, Message: "Hello evil!" });
    expect(tampered.status).toBe(401);
    expect((await tampered.json()).code).toBe("invalid_signature");
    const { Signature: _, ...unsigned } = signed;
    expect((await deliver(kit, "orders-topic", unsigned)).status).toBe(401);
    expect((await deliver(kit, "orders-topic", { ...signed, SignatureVersion: "3" })).status).toBe(
      401,
    );
    // A v1 signature presented as v2 does not verify either.
    const v1 = sign(notification("version-swap"), "1");
    expect((await deliver(kit, "orders-topic", { ...v1, SignatureVersion: "2" })).status).toBe(401);
    const ids = (await kit.delivered()).map((e) => e.id);
    expect(ids).not.toContain("tampered");
    expect(ids).not.toContain("version-swap");
  });

  it("refuses raw message delivery, JSON or not, with 401 saying to turn it off", async () => {
    const raw = { "content-type": "text/plain; charset=UTF-8", "x-amz-sns-rawdelivery": "true" };
    for (const body of ["just a raw message", '{"order":42}']) {
      const res = await kit.post("orders-topic", body, raw);
      expect(res.status).toBe(401);
      const problem = await res.json();
      expect(problem.code).toBe("invalid_signature");
      expect(problem.detail).toMatch(/raw message delivery carries no signature/);
    }
    // Without the header, a body that is not JSON is no signed message either: 401, not 400.
    const text = await kit.post("orders-topic", "not json", { "content-type": "text/plain" });
    expect(text.status).toBe(401);
  });

  it("a SignatureVersion named like an Object member (constructor, toString, __proto__) is 401", async () => {
    for (const version of ["constructor", "toString", "__proto__"]) {
      const signed = {
        ...sign(notification(`version-${version}`), "2"),
        SignatureVersion: version,
      };
      const res = await deliver(kit, "orders-topic", signed);
      expect(res.status).toBe(401);
      expect((await res.json()).detail).toBe("SignatureVersion must be 1 or 2");
    }
  });

  it("never fetches a certificate from an untrusted URL: 401 without a request", async () => {
    const before = served.length;
    const elsewhere = {
      ...sign(notification("elsewhere"), "2"),
      SigningCertURL: "http://127.0.0.2:1/cert.pem",
    };
    expect((await deliver(kit, "orders-topic", elsewhere)).status).toBe(401);
    // The default allow-list is https://sns.<region>.amazonaws.com only.
    expect((await deliver(kit, "aws-default", sign(notification("not-aws"), "2"))).status).toBe(
      401,
    );
    expect(served.length).toBe(before);
  });

  it("a certificate URL on a trusted host that holds no certificate is 401", async () => {
    const wrong = { ...sign(notification("no-cert"), "2"), SigningCertURL: `${base}/missing.pem` };
    expect((await deliver(kit, "orders-topic", wrong)).status).toBe(401);
  });

  it("a certificate whose body breaks off is 503 with Retry-After (SNS retries), never a 500", async () => {
    const broken = {
      ...sign(notification("broken-cert"), "2"),
      SigningCertURL: `${base}/broken-cert`,
    };
    const res = await deliver(kit, "orders-topic", broken);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).not.toBeNull();
  });

  it("a certificate body larger than a certificate is 401 without reading it to the end", async () => {
    const endless = {
      ...sign(notification("endless-cert"), "2"),
      SigningCertURL: `${base}/endless-cert`,
    };
    const started = performance.now();
    const res = await deliver(kit, "orders-topic", endless);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "invalid_signature" });
    // Not the 5 s fetch timeout: the read stops once it is past the size of a certificate.
    expect(performance.now() - started).toBeLessThan(4_000);
  });

  it("refuses a topic outside the adapter's topics (403)", async () => {
    const other = sign(
      notification("other-topic", { TopicArn: "arn:aws:sns:us-west-2:999999999999:Other" }),
      "2",
    );
    const res = await deliver(kit, "orders-topic", other, {
      "x-amz-sns-subscription-arn": "arn:aws:sns:us-west-2:999999999999:Other:1",
    });
    expect(res.status).toBe(403);
  });

  it("headers must agree with the signed body (400), since only the body is signed", async () => {
    const message = sign(notification("header-check"), "2");
    const res = await deliver(kit, "orders-topic", message, {
      "x-amz-sns-message-id": "forged-id",
    });
    expect(res.status).toBe(400);
    expect((await res.json()).errors).toEqual([
      {
        field: "header x-amz-sns-message-id",
        message: "does not match the signed message's MessageId",
      },
    ]);
    const noSubscription = await deliver(kit, "orders-topic", message, {
      "x-amz-sns-subscription-arn": "arn:aws:sns:us-west-2:123456789012:Other:1",
    });
    expect(noSubscription.status).toBe(400);
  });

  it("delivers the message as verified: an unsigned duplicate key put before a signed one does not reach the sink", async () => {
    // JSON.parse keeps the last of duplicate keys, so the signature checks the real Message; a
    // consumer whose parser keeps the first would read the unsigned one if the text went as posted.
    const signed = sign(notification("duplicate-key"), "2");
    const posted = `{"Message":"Send the money to the attacker",${JSON.stringify(signed).slice(1)}`;
    const res = await kit.post("orders-topic", posted, {
      "content-type": "text/plain; charset=UTF-8",
      "x-amz-sns-message-type": "Notification",
      "x-amz-sns-message-id": "duplicate-key",
      "x-amz-sns-topic-arn": TOPIC,
      "x-amz-sns-subscription-arn": SUBSCRIPTION,
    });
    expect(res.status).toBe(202);
    await kit.delivered();
    const raw = kit.sink.received
      .map((r) => r.body.toString("utf8"))
      .find((body) => body.includes('"duplicate-key"'));
    expect(raw).toBeDefined();
    expect(raw).not.toContain("attacker");
    expect(JSON.parse(raw!).data).toEqual(signed);
  });

  it("a redelivered message (same MessageId) is delivered once; certificates are fetched once", async () => {
    const message = sign(notification("redelivered"), "2");
    expect((await deliver(kit, "orders-topic", message)).status).toBe(202);
    expect((await deliver(kit, "orders-topic", message)).status).toBe(202);
    expect((await kit.delivered()).filter((e) => e.id === "redelivered")).toHaveLength(1);
    expect(served.filter((u) => u.endsWith(".pem") && !u.includes("missing"))).toHaveLength(1);
  });
});

describe("sns: subscriptions", () => {
  it("stores a subscription confirmation (source: the topic) and does not confirm by default", async () => {
    const before = served.filter((u) => u.includes("ConfirmSubscription")).length;
    const res = await deliver(kit, "orders-topic", sign(confirmation("confirm-1"), "1"));
    expect(res.status).toBe(202);
    const event = (await kit.delivered()).find((e) => e.id === "confirm-1");
    expect(event).toMatchObject({
      source: TOPIC,
      type: "com.amazonaws.sns.SubscriptionConfirmation",
      time: "2012-04-26T20:45:04.751Z",
    });
    expect(event?.subject).toBeUndefined();
    expect(served.filter((u) => u.includes("ConfirmSubscription")).length).toBe(before);
  });

  it("maps an unsubscribe confirmation with the subscription as source", async () => {
    const res = await deliver(
      kit,
      "orders-topic",
      sign(confirmation("unsub-1", "UnsubscribeConfirmation"), "2"),
    );
    expect(res.status).toBe(202);
    const event = (await kit.delivered()).find((e) => e.id === "unsub-1");
    expect(event).toMatchObject({
      source: SUBSCRIPTION,
      type: "com.amazonaws.sns.UnsubscribeConfirmation",
    });
  });

  it("with autoConfirm, visits the SubscribeURL once the confirmation is accepted and logs the subscription ARN", async () => {
    const res = await deliver(confirmKit, "confirming", sign(confirmation("confirm-2"), "2"));
    expect(res.status).toBe(202);
    expect(served.filter((u) => u.startsWith("/?Action=ConfirmSubscription"))).toHaveLength(1);
    expect(logged.find((l) => l.message === "SNS subscription confirmed")).toEqual({
      level: "info",
      message: "SNS subscription confirmed",
      fields: { adapter: "confirming", topic: TOPIC, subscription: SUBSCRIPTION },
    });
  });
});

describe("sns: a confirmation answer without end", () => {
  it("is read no further than a confirmation can be: the 202 comes at once, and the confirmation is logged", async () => {
    const message = {
      ...confirmation("confirm-endless"),
      SubscribeURL: `${base}/endless-confirm?Action=ConfirmSubscription&Token=2336412f37`,
    };
    const started = performance.now();
    const res = await deliver(confirmKit, "confirming", sign(message, "2"));
    expect(res.status).toBe(202);
    // Not the 10 s confirmation timeout: the answer is cut once it is past any real one.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(served).toContain("/endless-confirm?Action=ConfirmSubscription&Token=2336412f37");
    expect(logged).toContainEqual({
      level: "info",
      message: "SNS subscription confirmed",
      fields: { adapter: "confirming", topic: TOPIC, subscription: undefined },
    });
  });
});

describe("sns: the subscription ARN header, which the signature does not cover", () => {
  const forged = [
    `${TOPIC}:attacker-chosen`,
    `${TOPIC}:`,
    `${TOPIC}:2BCFBF39-05C3-41DE-BEAA-FCFCC21C8F55`,
    `${SUBSCRIPTION}0`,
    `${SUBSCRIPTION}:x`,
    ` ${SUBSCRIPTION}x`,
  ];

  it("a replay under a subscription ARN that is not <TopicArn>:<lower-case UUID> is 400, not a second delivery", async () => {
    const message = sign(notification("replayed-arn"), "2");
    expect((await deliver(kit, "orders-topic", message)).status).toBe(202);
    for (const arn of forged) {
      const res = await deliver(kit, "orders-topic", message, {
        "x-amz-sns-subscription-arn": arn,
      });
      expect(res.status, arn).toBe(400);
      const problem = await res.json();
      expect(problem.code).toBe("invalid_payload");
      expect(problem.errors).toEqual([
        {
          field: "header x-amz-sns-subscription-arn",
          message:
            "is not a subscription ARN of the topic (the TopicArn, ':' and a lower-case UUID)",
        },
      ]);
    }
    const unsubscribe = sign(confirmation("unsub-forged", "UnsubscribeConfirmation"), "2");
    const res = await deliver(kit, "orders-topic", unsubscribe, {
      "x-amz-sns-subscription-arn": `${TOPIC}:attacker-chosen`,
    });
    expect(res.status).toBe(400);
    const delivered = await kit.delivered();
    expect(delivered.filter((e) => e.id === "replayed-arn").map((e) => e.source)).toEqual([
      SUBSCRIPTION,
    ]);
    expect(delivered.some((e) => e.id === "unsub-forged")).toBe(false);
  });

  it("with subscriptions, a replay under another well-formed subscription of the topic is 403", async () => {
    const message = sign(notification("pinned-message"), "2");
    expect((await deliver(kit, "pinned", message)).status).toBe(202);
    const other = `${TOPIC}:6b0e71bd-7e97-4d97-80ce-4a0994e55286`;
    const replay = await deliver(kit, "pinned", message, { "x-amz-sns-subscription-arn": other });
    expect(replay.status).toBe(403);
    expect(await replay.json()).toMatchObject({
      code: "forbidden",
      detail: "this adapter does not accept messages of that SNS subscription",
    });
    const unsubscribe = sign(confirmation("pinned-unsub", "UnsubscribeConfirmation"), "2");
    const unsub = await deliver(kit, "pinned", unsubscribe, {
      "x-amz-sns-subscription-arn": other,
    });
    expect(unsub.status).toBe(403);
    // A subscription confirmation has no subscription yet: `topics` governs it.
    expect((await deliver(kit, "pinned", sign(confirmation("pinned-confirm"), "2"))).status).toBe(
      202,
    );
    const delivered = await kit.delivered();
    expect(delivered.filter((e) => e.id === "pinned-message")).toHaveLength(1);
    expect(delivered.some((e) => e.id === "pinned-unsub")).toBe(false);
    expect(delivered.find((e) => e.id === "pinned-confirm")?.source).toBe(TOPIC);
  });
});

describe("snsUrlTrusted", () => {
  it("by default trusts only https://sns.<region>.amazonaws.com", () => {
    expect(
      snsUrlTrusted("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-a.pem"),
    ).toBe(true);
    expect(snsUrlTrusted("https://sns.cn-north-1.amazonaws.com.cn/x.pem")).toBe(true);
    expect(snsUrlTrusted("http://sns.us-east-1.amazonaws.com/x.pem")).toBe(false);
    expect(snsUrlTrusted("https://sns.us-east-1.amazonaws.com.evil.example/x.pem")).toBe(false);
    expect(snsUrlTrusted("https://evil.example/sns.us-east-1.amazonaws.com/x.pem")).toBe(false);
    expect(snsUrlTrusted("https://a@sns.us-east-1.amazonaws.com/x.pem")).toBe(false);
    expect(snsUrlTrusted("https://sns.us-east-1.amazonaws.com:8443/x.pem")).toBe(false);
  });

  it("with prefixes, trusts URLs under one of them only", () => {
    const trusted = ["http://127.0.0.1:9000/certs/"];
    expect(snsUrlTrusted("http://127.0.0.1:9000/certs/a.pem", trusted)).toBe(true);
    expect(snsUrlTrusted("http://127.0.0.1:9001/certs/a.pem", trusted)).toBe(false);
    expect(snsUrlTrusted("http://127.0.0.1:9000/other/a.pem", trusted)).toBe(false);
  });

  it("refuses an escaped dot, slash or backslash in the path: a server that decodes them would leave the prefix", () => {
    const trusted = ["http://127.0.0.1:9000/certs/"];
    for (const path of [
      "..%2fadmin/a.pem",
      "..%2Fadmin/a.pem",
      "%2e%2e%5cadmin/a.pem",
      "a%2Epem",
    ]) {
      expect(snsUrlTrusted(`http://127.0.0.1:9000/certs/${path}`, trusted)).toBe(false);
    }
    expect(snsUrlTrusted("https://sns.us-east-1.amazonaws.com/..%2fx.pem")).toBe(false);
    // WHATWG URL parsing already resolves plain and %2e dot segments.
    expect(snsUrlTrusted("http://127.0.0.1:9000/certs/../admin/a.pem", trusted)).toBe(false);
  });
});
