import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  DELIVERY_PATH_PREFIXES,
  FAILING_STATUS,
  GONE_PATH_PREFIX,
  MALFORMED_REPLY,
  ON_SUCCESS_PATHS,
  ON_SUCCESS_TYPES,
  REPLY,
} from "../config/subscriptions.js";
import { percentEncode } from "../http/percent-encoding.js";
import { type Delivery, decodeDelivery, type ObservedEvent } from "./decode-delivery.js";

/** One event the sink received, with the delivery that carried it. */
export interface Received {
  readonly path: string;
  readonly delivery: Delivery;
  readonly event: ObservedEvent;
}

/** Options of {@link startSink}. */
export interface SinkOptions {
  /** Interface to bind; default `127.0.0.1`. */
  readonly host?: string;
  /** Port to bind; default `0` (an ephemeral port). */
  readonly port?: number;
}

/** The HTTP server that stands in for every subscriber's endpoint. */
export interface SinkServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`, to build the target's subscriptions from. */
  readonly url: string;
  /** Everything received so far, in arrival order. */
  readonly received: readonly Received[];
  /** Deliveries whose body could not be decoded, with the reason. */
  readonly undecodable: readonly { readonly delivery: Delivery; readonly error: string }[];
  /**
   * Resolves with the first event (already received or arriving later) that `match` accepts;
   * rejects after `timeoutMs` with a message naming `what`.
   */
  waitFor(match: (r: Received) => boolean, timeoutMs: number, what: string): Promise<Received>;
  /**
   * Serves `body` to a `GET` of `path` from now on (e.g. a certificate the gateway fetches), with
   * status 200. Such `GET`s are not deliveries and are not recorded.
   */
  publish(path: string, body: string, contentType?: string): void;
  close(): Promise<void>;
}

/** A document the sink serves to `GET` ({@link SinkServer.publish}). */
interface Published {
  readonly body: string;
  readonly contentType: string;
}

interface Waiter {
  readonly match: (r: Received) => boolean;
  readonly resolve: (r: Received) => void;
}

/** The `type` of the reply the sink answers with, by path (the reply paths of the config). */
const REPLY_TYPES: Readonly<Record<string, string>> = {
  [ON_SUCCESS_PATHS.reply]: REPLY.type,
  [ON_SUCCESS_PATHS.outside]: REPLY.outsideType,
  [ON_SUCCESS_PATHS.loop]: ON_SUCCESS_TYPES.loop,
};

/** An HTTP answer of the sink: status, headers, body. */
export interface SinkAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * The reply event (binary mode, Knative's reply contract) the sink answers a delivery at a reply
 * path with, or `undefined` for any other path or a delivery that is not one event with an id.
 * Its id is `reply-<the event's id>` (the same on a redelivery, so the gateway dedupes it), its
 * source {@link REPLY}`.source` and its type depends on the path. It also claims `authtype` and
 * `authid` of its own, which the gateway must replace.
 *
 * @example
 * replyTo("/reply/echo", [event]); // { status: 200, headers: { "ce-id": "reply-1", ... }, body }
 */
export function replyTo(path: string, events: readonly ObservedEvent[]): SinkAnswer | undefined {
  const type = REPLY_TYPES[path];
  const [event] = events;
  if (type === undefined || events.length !== 1 || typeof event?.attributes.id !== "string") {
    return undefined;
  }
  const id = event.attributes.id;
  return {
    status: 200,
    headers: {
      "ce-specversion": "1.0",
      "ce-id": percentEncode(`${REPLY.idPrefix}${id}`),
      "ce-source": REPLY.source,
      "ce-type": type,
      "ce-authtype": "app_user",
      "ce-authid": "conformance-replier",
      "content-type": "application/json",
    },
    body: JSON.stringify({ inReplyTo: id }),
  };
}

/**
 * The malformed reply the sink answers a delivery at `/reply/malformed` with, chosen by the
 * delivered event's `subject` ({@link MALFORMED_REPLY}), or `undefined` for any other delivery.
 * Each answer is a 200 that a gateway must see as a CloudEvent (a `ce-specversion` header, or
 * the `application/cloudevents+json` media type) and must refuse: in binary mode it lacks the
 * required `source` (core spec "REQUIRED Attributes"); in structured mode the JSON is an array
 * (holding a valid event), not the object JSON format 3 requires. Either carries the id
 * `reply-<the event's id>`, so a gateway that ingested it anyway is caught.
 *
 * @example
 * malformedReplyTo([{ ...event, attributes: { id: "1", subject: "missing-source" } }])?.status; // 200
 */
export function malformedReplyTo(events: readonly ObservedEvent[]): SinkAnswer | undefined {
  const [event] = events;
  const id = event?.attributes.id;
  if (events.length !== 1 || typeof id !== "string") return undefined;
  switch (event?.attributes.subject) {
    case MALFORMED_REPLY.missingSource:
      return {
        status: 200,
        headers: {
          "ce-specversion": "1.0",
          "ce-id": percentEncode(`${REPLY.idPrefix}${id}`),
          "ce-type": REPLY.type,
          "content-type": "application/json",
        },
        body: JSON.stringify({ inReplyTo: id }),
      };
    case MALFORMED_REPLY.notAnObject:
      return {
        status: 200,
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify([
          {
            specversion: "1.0",
            id: `${REPLY.idPrefix}${id}`,
            source: REPLY.source,
            type: REPLY.type,
            data: { inReplyTo: id },
          },
        ]),
      };
    default:
      return undefined;
  }
}

/**
 * What the sink answers a POST at `path` that carried `events`, or `undefined` for its usual
 * `204`: a reply event at the reply paths ({@link replyTo}), a malformed reply at
 * `/reply/malformed`, a `500` at `/receipts/failing` and a `410 Gone` under `/gone/`.
 *
 * @example
 * answerTo("/gone/x", [])?.status; // 410
 */
export function answerTo(
  path: string,
  events: readonly ObservedEvent[],
  attempt = 1,
): SinkAnswer | undefined {
  if (path === ON_SUCCESS_PATHS.malformed) return malformedReplyTo(events);
  const scripted = deliveryAnswer(path, attempt);
  if (scripted !== undefined) return scripted;
  if (path === ON_SUCCESS_PATHS.failing) {
    return {
      status: FAILING_STATUS,
      headers: { "content-type": "text/plain" },
      body: "conformance: this sink fails every delivery",
    };
  }
  if (path.startsWith(GONE_PATH_PREFIX)) {
    return {
      status: 410,
      headers: { "content-type": "text/plain" },
      body: "conformance: this sink is gone",
    };
  }
  return replyTo(path, events);
}

/** The delivery cases' scripted answers ({@link DELIVERY_PATH_PREFIXES}); `attempt` counts from 1. */
function deliveryAnswer(path: string, attempt: number): SinkAnswer | undefined {
  const text = (status: number, body: string): SinkAnswer => ({
    status,
    headers: { "content-type": "text/plain" },
    body,
  });
  if (path.startsWith(DELIVERY_PATH_PREFIXES.flaky) && attempt === 1) {
    const named = /^(408|429)\//.exec(path.slice(DELIVERY_PATH_PREFIXES.flaky.length))?.[1];
    return text(Number(named ?? 503), "conformance: this sink fails the first delivery");
  }
  if (path.startsWith(DELIVERY_PATH_PREFIXES.rejecting)) {
    return text(400, "conformance: this sink refuses every delivery");
  }
  if (path.startsWith(DELIVERY_PATH_PREFIXES.failing)) {
    return text(500, "conformance: this sink fails every delivery");
  }
  return undefined;
}

/**
 * Starts the sink. It answers every POST with 204 once the body is read, except where
 * {@link answerTo} scripts another answer: at the reply paths (`/reply/echo`, `/reply/outside`,
 * `/reply/loop`) 200 with a reply event ({@link replyTo}), at `/reply/malformed` 200 with an
 * invalid one, at `/receipts/failing` 500, under `/gone/` 410, and under the delivery paths
 * ({@link DELIVERY_PATH_PREFIXES}) 503 once, 400 or 500; a GET of a path given to
 * `publish` gets what was published there. It answers the CloudEvents webhook validation handshake (http-webhook 4.2) so
 * gateways that pre-flight sinks may deliver to it.
 *
 * @example
 * const sink = await startSink({ port: 0 });
 * const config = conformanceConfig(sink.url);
 * const hit = await sink.waitFor((r) => r.event.attributes.id === "1", 5_000, "event 1");
 * await sink.close();
 */
export async function startSink(options: SinkOptions = {}): Promise<SinkServer> {
  const host = options.host ?? "127.0.0.1";
  const received: Received[] = [];
  const undecodable: { delivery: Delivery; error: string }[] = [];
  let waiters: Waiter[] = [];

  const record = (delivery: Delivery): ObservedEvent[] => {
    let events: ObservedEvent[];
    try {
      events = decodeDelivery(delivery);
    } catch (err) {
      undecodable.push({ delivery, error: (err as Error).message });
      return [];
    }
    for (const event of events) {
      const item: Received = { path: delivery.path, delivery, event };
      received.push(item);
      const [hit, rest] = partition(waiters, (w) => w.match(item));
      waiters = rest;
      for (const w of hit) w.resolve(item);
    }
    return events;
  };

  const published = new Map<string, Published>();
  const attempts = new Map<string, number>();
  const server = createServer((req, res) => handle(req, res, record, published, attempts));
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) => {
      // "listen EADDRINUSE: ..." alone does not say it was the sink's port that was taken.
      const why = err.code === "EADDRINUSE" ? "the port is in use" : err.message;
      reject(new Error(`the sink cannot listen on ${host}:${options.port ?? 0}: ${why}`));
    });
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    received,
    undecodable,
    waitFor(match, timeoutMs, what) {
      const found = received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise<Received>((resolve, reject) => {
        const waiter: Waiter = {
          match,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    publish(path, body, contentType = "text/plain") {
      published.set(path, { body, contentType });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function handle(
  req: IncomingMessage,
  res: ServerResponse,
  record: (d: Delivery) => ObservedEvent[],
  published: ReadonlyMap<string, Published>,
  attempts: Map<string, number>,
): void {
  const doc =
    req.method === "GET"
      ? published.get(new URL(req.url ?? "/", "http://sink").pathname)
      : undefined;
  if (doc !== undefined) {
    req.resume();
    res.writeHead(200, { "content-type": doc.contentType });
    res.end(doc.body);
    return;
  }
  if (req.method === "OPTIONS") {
    res.writeHead(200, {
      allow: "POST, OPTIONS",
      "webhook-allowed-origin": "*",
      "webhook-allowed-rate": "*",
    });
    res.end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const path = new URL(req.url ?? "/", "http://sink").pathname;
    const events = record({
      path,
      method: req.method ?? "",
      headers,
      body: new Uint8Array(Buffer.concat(chunks)),
    });
    // Only a POST is a delivery attempt: a probe of the URL (GET, HEAD) must not use up the
    // scripted first answer (DELIVERY_PATH_PREFIXES: "the first POST").
    let reply: SinkAnswer | undefined;
    if (req.method === "POST") {
      const attempt = (attempts.get(path) ?? 0) + 1;
      attempts.set(path, attempt);
      reply = answerTo(path, events, attempt);
    }
    if (reply === undefined) {
      res.writeHead(204);
      res.end();
      return;
    }
    res.writeHead(reply.status, reply.headers);
    res.end(reply.body);
  });
}

function partition<T>(items: readonly T[], test: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (test(item) ? yes : no).push(item);
  return [yes, no];
}
