import { beforeEach, describe, expect, inject, it } from "vitest";
import { decodeEvent } from "../src/store/event-codec.js";
import { resetDatabase, testWorker } from "./harness.js";

/**
 * The webhook adapters inside workerd: the same core as on Node, but WebCrypto, `fetch` and
 * the JSON and text decoders are the Workers runtime's. GitHub's HMAC, SNS's RSA signatures
 * (SHA-1 for SignatureVersion 1, SHA-256 for 2) over a certificate fetched through the Worker's
 * outbound `fetch`, and a CouchDB feed are checked end to end, up to the queued events.
 */

const SECRET = "workerd-github-secret";
const TOPIC = "arn:aws:sns:us-east-1:123456789012:orders";
const SUBSCRIPTION = `${TOPIC}:6b0e71bd-7e97-4d97-80ce-4a0994e55286`;
const CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-workerd.pem";
const encoder = new TextEncoder();

const config = {
  subscriptions: [{ id: "all", sink: "http://127.0.0.1:9/all" }],
  adapters: [
    { id: "gh", kind: "github", secret: SECRET },
    { id: "orders", kind: "sns", topics: [TOPIC] },
    { id: "couch", kind: "couchdb", server: "https://couch.example.com", database: "orders" },
  ],
};

/** The Worker, its outbound `fetch` answering only SNS's certificate URL. */
function worker() {
  const fetched: string[] = [];
  const gw = testWorker(config, {
    fetch: async (request) => {
      fetched.push(request.url);
      return request.url === CERT_URL
        ? new Response(inject("snsCertificatePem"))
        : new Response(null, { status: 404 });
    },
  });
  return { ...gw, fetched };
}

const queued = (gw: ReturnType<typeof worker>) =>
  gw.queue.sent.map((message) => decodeEvent(message.event));

beforeEach(async () => {
  await resetDatabase();
});

function base64(bytes: ArrayBuffer): string {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

async function hmacHex(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(body)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** `message` signed as SNS signs: the listed keys as `name\nvalue\n`, RSA with SHA-1 or SHA-256. */
async function snsSigned(
  message: Record<string, string>,
  version: "1" | "2",
): Promise<Record<string, string>> {
  const keys =
    message.Type === "Notification"
      ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
      : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
  const text = keys
    .filter((key) => message[key] !== undefined)
    .map((key) => `${key}\n${message[key]}\n`)
    .join("");
  const pem = inject("snsKeyPem").replace(/-----[^-]+-----|\s/g, "");
  const der = Uint8Array.from(atob(pem), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey(
    "pkcs8",
    der,
    { name: "RSASSA-PKCS1-v1_5", hash: version === "1" ? "SHA-1" : "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, encoder.encode(text));
  return {
    ...message,
    SignatureVersion: version,
    Signature: base64(signature),
    SigningCertURL: CERT_URL,
  };
}

function snsRequest(message: Record<string, string>): RequestInit {
  return {
    method: "POST",
    headers: {
      "content-type": "text/plain; charset=UTF-8",
      "x-amz-sns-message-type": message.Type!,
      "x-amz-sns-message-id": message.MessageId!,
      "x-amz-sns-topic-arn": message.TopicArn!,
      ...(message.Type === "SubscriptionConfirmation"
        ? {}
        : { "x-amz-sns-subscription-arn": SUBSCRIPTION }),
    },
    body: JSON.stringify(message),
  };
}

describe("webhook adapters inside workerd", () => {
  it("github: checks X-Hub-Signature-256 and maps a push per github.md", async () => {
    const gw = worker();
    const body = JSON.stringify({
      ref: "refs/heads/main",
      repository: { url: "https://api.github.com/repos/octo/hello" },
    });
    const headers = {
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    };
    const forged = await gw.request("/webhooks/gh", {
      method: "POST",
      headers: { ...headers, "x-hub-signature-256": `sha256=${await hmacHex("guess", body)}` },
      body,
    });
    expect(forged.status).toBe(401);
    expect(gw.queue.sent).toHaveLength(0);
    const res = await gw.request("/webhooks/gh", {
      method: "POST",
      headers: { ...headers, "x-hub-signature-256": `sha256=${await hmacHex(SECRET, body)}` },
      body,
    });
    expect(res.status).toBe(202);
    const [event] = queued(gw);
    expect(event?.attributes).toMatchObject({
      id: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
      source: "https://api.github.com/repos/octo/hello",
      type: "com.github.push",
      subject: "refs/heads/main",
      authtype: "api_key",
      authid: "gh",
    });
  });

  it.each(["1", "2"] as const)(
    "sns: verifies SignatureVersion %s with the certificate fetched through the Worker's fetch",
    async (version) => {
      const gw = worker();
      const message = await snsSigned(
        {
          Type: "Notification",
          MessageId: `22b80b92-fdea-4c2c-8f9d-bdfb0c7bf32${version}`,
          TopicArn: TOPIC,
          Subject: "Order placed",
          Message: '{"order":1}',
          Timestamp: "2012-05-02T00:54:06.655Z",
        },
        version,
      );
      const altered = await gw.request(
        "/webhooks/orders",
        snsRequest({ ...message, Message: '{"order":2}' }),
      );
      expect(altered.status).toBe(401);
      expect(gw.queue.sent).toHaveLength(0);
      const res = await gw.request("/webhooks/orders", snsRequest(message));
      expect(res.status).toBe(202);
      expect(gw.fetched).toContain(CERT_URL);
      const [event] = queued(gw);
      expect(event?.attributes).toMatchObject({
        id: message.MessageId,
        source: SUBSCRIPTION,
        type: "com.amazonaws.sns.Notification",
        subject: "Order placed",
        time: "2012-05-02T00:54:06.655Z",
        authtype: "system",
        authid: "orders",
      });
    },
  );

  it("couchdb: maps a _db_updates feed, a ddoc_updated row as the database's update", async () => {
    const gw = worker();
    const res = await gw.request("/webhooks/couch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        results: [
          { db_name: "orders", type: "created", seq: "1-g1AAAA" },
          { db_name: "orders", type: "ddoc_updated", seq: "2-g1AAAA" },
        ],
        last_seq: "2-g1AAAA",
      }),
    });
    expect(res.status).toBe(202);
    expect(queued(gw).map((e) => [e.attributes.id, e.attributes.type])).toEqual([
      ["1-g1AAAA", "org.apache.couchdb.database.created"],
      ["2-g1AAAA", "org.apache.couchdb.database.updated"],
    ]);
  });
});
