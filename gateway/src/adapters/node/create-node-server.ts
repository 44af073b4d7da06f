import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import type { Socket } from "node:net";
import type { HeraldError } from "../../errors/herald-error.js";
import { problemParts } from "../../http/problem.js";
import { answerClientError } from "./answer-client-error.js";
import { checkHost } from "./check-host.js";
import { closeAfterAnswer, takeRequest } from "./closing-connection.js";
import { oweContinue } from "./expect-continue.js";
import { limitPipelining } from "./pipeline-limit.js";
import { refuseConnect } from "./refuse-connect.js";

/** How long a publisher has to send a request (milliseconds). */
export interface ClientTimeouts {
  /** The header section must arrive within this (`headersTimeout`). */
  readonly headers: number;
  /** The whole request, body included, must arrive within this (`requestTimeout`). */
  readonly request: number;
  /**
   * How often Node looks for requests over those limits (`connectionsCheckingInterval`): a limit
   * holds to within this. Node's default is 30 s, so a 60 s request limit fired after up to 90 s.
   */
  readonly checkEvery: number;
}

/** The limits the README documents: headers within 20 s, the whole request within 60 s. */
export const CLIENT_TIMEOUTS: ClientTimeouts = {
  headers: 20_000,
  request: 60_000,
  checkEvery: 1_000,
};

export interface NodeServerOptions {
  /** Shorter limits, for tests (default `CLIENT_TIMEOUTS`). */
  readonly timeouts?: Partial<ClientTimeouts>;
  /**
   * Told of each request this server refuses before the listener sees it (the `Host` check), as
   * it is answered: `herald serve` counts a refused publish request in the metrics.
   */
  readonly refused?: (req: IncomingMessage, refusal: HeraldError) => void;
  /**
   * Whether the server is shutting down: then every answer closes its connection
   * (`Connection: close`), so that no client is left holding an idle keep-alive connection to
   * send its next request on just as the server closes it (a reset, with no way to tell whether
   * the request was taken). Its next request opens a connection of its own: answered while the
   * drain lasts (a publish with 503), refused once the listener is closed, both unambiguous.
   */
  readonly closing?: () => boolean;
}

/** Per server of `createNodeServer`: each open connection's latest request and its answer. */
const answering = new WeakMap<Server, Map<Socket, ServerResponse>>();

/**
 * For the start of a shutdown drain: the requests taken before it and not answered yet (a
 * publish whose events are being stored, a body still arriving) close their connections with
 * their answers too, as every answer during the drain does (`closing`). They said `keep-alive`,
 * and the client kept the connection to send its next request on just as the drain's end closed
 * it. Looked up per connection here, once, rather than by wrapping every request's answer.
 *
 * @example
 * draining = true;
 * closeAnswersInFlight(server);
 */
export function closeAnswersInFlight(server: Server): void {
  for (const res of answering.get(server)?.values() ?? []) {
    if (res.headersSent || res.writableEnded) continue;
    res.setHeader("connection", "close");
    closeAfterAnswer(res.req);
  }
}

/**
 * The HTTP server of `herald serve`: the request timeouts (Node 20 waits 300 s for a slow
 * request), checked every second so they hold to within about a second, and node:http's own
 * refusals answered as problem documents (`answerClientError`), the `Host` check of RFC 9112 3.2
 * included (`checkHost`: Node's answers a bare 400); an `Expect` other than `100-continue` is
 * ignored (Node answers a bare 417); `Expect: 100-continue` is answered only once the listener
 * wants the body (`sendContinue`), so a refusal on the headers alone comes without it; a
 * `CONNECT` is 405 (`refuseConnect`); a request asking for an `Upgrade` is answered in HTTP/1.1
 * and its connection closed (`asksUpgrade`); at most 16 pipelined requests of one connection are
 * handled at once (`limitPipelining`). Every header line reaches the gateway: Node keeps only the
 * first 2000 by default (`maxHeadersCount`) and drops the rest without a word, so a `ce-`
 * attribute or the `Content-Type` after 2000 short lines vanished from an event that was then
 * accepted; the header section's byte limit (431) bounds the count instead.
 *
 * @example
 * const server = createNodeServer(nodeListener(gateway), { refused: countPublishRefusal(gateway) });
 */
export function createNodeServer(
  listener: RequestListener,
  options: NodeServerOptions = {},
): Server {
  const { headers, request, checkEvery } = { ...CLIENT_TIMEOUTS, ...options.timeouts };
  const { refused, closing } = options;
  const inFlight = new Map<Socket, ServerResponse>();
  const hostChecked: RequestListener = (req, res) => {
    // After an answer that closes the connection: not processed (RFC 9112 9.6), only drained.
    if (!takeRequest(req)) {
      req.resume();
      return;
    }
    if (closing?.() === true || chunkedHttp10(req) || asksUpgrade(req)) {
      res.setHeader("connection", "close");
      closeAfterAnswer(req);
    } else {
      inFlight.set(req.socket, res);
    }
    limitPipelining(req, res);
    const refusal = checkHost(req);
    if (refusal === undefined) {
      listener(req, res);
      return;
    }
    refused?.(req, refusal);
    const { status, headers: fields, body } = problemParts(refusal);
    // Closed: the request may not be HTTP Herald understands. Before its body was read, the
    // connection lingers, so the client reads the answer rather than a reset.
    closeAfterAnswer(req);
    res
      .writeHead(status, {
        ...fields,
        connection: "close",
        "content-length": Buffer.byteLength(body),
      })
      .end(body);
  };
  const server = createServer(
    {
      headersTimeout: headers,
      requestTimeout: request,
      connectionsCheckingInterval: checkEvery,
      requireHostHeader: false,
    },
    hostChecked,
  );
  // 0: no count limit (HTTP binding 3.1.3: every attribute is a header, none may be lost).
  server.maxHeadersCount = 0;
  answering.set(server, inFlight);
  server.on("connection", (socket: Socket) => {
    socket.once("close", () => inFlight.delete(socket));
  });
  // A client that closes its sending side once the request is out (shutdown(SHUT_WR): `nc -N`,
  // some HTTP/1.0 clients and proxies) still gets its answer, and the connection closes after
  // it. Node's default ended the connection at the client's FIN, losing any answer not yet
  // written: one that waited for a token check or the store. (node:http's own switch for this;
  // the net server under it is half-open already.)
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.on("clientError", answerClientError);
  // The gateway is no proxy: a CONNECT is 405 as a problem document, not a dropped connection.
  server.on("connect", refuseConnect);
  // An Expect other than 100-continue: Node answers a bare 417 unless this is handled. RFC 9110
  // 10.1.1 lets a server ignore an expectation it does not know, and the request is whole.
  server.on("checkExpectation", hostChecked);
  // Expect: 100-continue: the 100 goes out once the listener wants the body (`sendContinue`),
  // so a request refused on its headers alone gets the refusal only, not an invitation to upload.
  server.on("checkContinue", (req, res) => {
    oweContinue(req, res);
    hostChecked(req, res);
  });
  return server;
}

/**
 * A request asking to switch protocols (`Upgrade: h2c`, `websocket` with `Connection: upgrade`):
 * Herald speaks HTTP/1.1 only, so it answers the request as HTTP/1.1 and ignores the Upgrade (RFC
 * 9110 7.8 lets a server), then closes the connection. node:http's parser stops reading a
 * connection at such a request and, with no `upgrade` listener, dropped what followed it in the
 * same read: a request pipelined behind it got no answer, and the connection idled until the
 * keep-alive timeout closed it.
 */
function asksUpgrade(req: IncomingMessage): boolean {
  const { upgrade, connection } = req.headers;
  return (
    upgrade !== undefined &&
    connection !== undefined &&
    /(?:^|,)\s*upgrade\s*(?:,|$)/i.test(connection)
  );
}

/**
 * An HTTP/1.0 request with a `Transfer-Encoding`: RFC 9112 6.1 says its framing MUST be treated
 * as faulty and the connection closed once it is answered. HTTP/1.0 has no chunked coding, so an
 * HTTP/1.0 intermediary in front may have framed the body differently (a request smuggling
 * shape); node:http read it as chunked and kept the connection for the next request when the
 * client asked for keep-alive.
 */
function chunkedHttp10(req: IncomingMessage): boolean {
  return (
    req.httpVersionMajor === 1 && req.httpVersionMinor === 0 && "transfer-encoding" in req.headers
  );
}
