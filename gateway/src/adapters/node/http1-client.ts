import * as net from "node:net";
import {
  type Http1ParseError,
  type Http1ResponseHandler,
  Http1ResponseParser,
} from "./http1-response-parser.js";

/** Where a pool's connections go. `key` names the origin (`host:port`), one pool per key. */
export interface Http1Origin {
  readonly host: string;
  readonly port: number;
  readonly key: string;
}

/**
 * One request and what becomes of its response: a subclass gets the response through the `on*`
 * methods, each exchange ending in exactly one `onEnd` or `onError` unless it is aborted first.
 * The client sets the other fields.
 */
export abstract class Http1Exchange {
  /** The connection carrying the exchange; `null` while it waits for one, and once it ended. */
  connection: Connection | null = null;
  /** Aborted by its owner (`Http1Client.abort`): dropped from the queue, never started. */
  aborted = false;
  /** Already sent once more after a reused connection failed under it. */
  retried = false;

  /**
   * @param bytes the request as it goes on the wire, head and body, written in one write;
   * @param closeAfter the request asked for `Connection: close`: the connection is not reused.
   */
  constructor(
    readonly bytes: Uint8Array,
    readonly closeAfter: boolean,
  ) {}

  /** The final response's status line and headers (the parser has them). */
  abstract onHead(parser: Http1ResponseParser): void;
  /** Body bytes `chunk[start, end)`; copy what is kept, the buffer is not ours. */
  abstract onBody(chunk: Buffer, start: number, end: number): void;
  /** The response is complete. */
  abstract onEnd(): void;
  /** The exchange failed: before the head (no answer), or during the body (it broke off). */
  abstract onError(err: Error): void;
}

export interface Http1ClientOptions {
  /**
   * Connections at once per origin (`Infinity`: no limit); further exchanges wait for one, first
   * come first served.
   */
  readonly maxSockets: number;
  /** How long an idle connection is kept; a sink's `Keep-Alive: timeout=n` caps it to n - 1 s. */
  readonly idleTimeoutMs: number;
}

/** A pool of HTTP/1.1 connections per origin; see `createHttp1Client`. */
export interface Http1Client {
  /** Sends the exchange's request on a pooled connection (or queues it for one). */
  send(origin: Http1Origin, exchange: Http1Exchange): void;
  /**
   * Ends an exchange early without another callback (its timeout passed, or enough of the body
   * was read): its connection is closed, or it leaves the queue.
   */
  abort(exchange: Http1Exchange): void;
  /** Destroys every connection; exchanges in flight or queued fail with `socket hang up`. */
  close(): void;
}

/** node:http's text for a connection that ended before the response did. */
function hangUp(): Error {
  return Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
}

/**
 * Whether a reused connection failing this way before any response byte means the sink closed
 * it as the request went out (it never read the request): a reset, a broken pipe, or EOF.
 */
function closedUnderUs(err: NodeJS.ErrnoException | undefined): boolean {
  return err === undefined || err.code === "ECONNRESET" || err.code === "EPIPE";
}

/** Served slots at the front of a queue before they are cut off (when they are most of it). */
const COMPACT_AT = 1024;

interface Pool {
  readonly origin: Http1Origin;
  readonly connections: Set<Connection>;
  /** Idle connections, most recently used last (LIFO: taken from the end, age out at 0). */
  readonly idle: Connection[];
  /**
   * Exchanges waiting for a connection, first at `head`; the slots before `head` are cleared,
   * and cut off once they are most of the array (the queue may never drain).
   */
  waiting: (Http1Exchange | undefined)[];
  head: number;
}

/** One connection: its socket, its parser and the exchange it carries. */
class Connection implements Http1ResponseHandler {
  readonly socket: net.Socket;
  readonly parser = new Http1ResponseParser(this);
  exchange: Http1Exchange | null = null;
  /** It carried an exchange to its end before: a failure may be the sink closing it idle. */
  reused = false;
  /** Bytes of the current exchange's response arrived. */
  received = false;
  idle = false;
  idleDeadline = 0;
  closed = false;
  private error: Error | undefined;

  constructor(
    readonly client: Http1ClientImpl,
    readonly pool: Pool,
  ) {
    const socket = net.connect({
      host: pool.origin.host,
      port: pool.origin.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 1_000,
    });
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("end", () => this.onSocketEnd());
    // Always listened to, idle or not: an 'error' without a listener would crash the process.
    socket.on("error", (err) => {
      this.error ??= err;
      this.lost();
    });
    socket.on("close", () => this.lost());
    pool.connections.add(this);
  }

  /** Starts an exchange: one write of its request. */
  start(exchange: Http1Exchange): void {
    this.exchange = exchange;
    exchange.connection = this;
    this.received = false;
    this.parser.reset();
    this.socket.write(exchange.bytes);
  }

  private onData(chunk: Buffer): void {
    if (this.exchange === null) {
      // Nothing was asked: a server talking out of turn cannot be trusted with the next request.
      this.close();
      return;
    }
    this.received = true;
    this.parser.execute(chunk);
  }

  private onSocketEnd(): void {
    // A body delimited by the close ends here; anything else is a failure.
    if (this.exchange === null || !this.parser.finish()) this.lost();
  }

  onHead(parser: Http1ResponseParser): void {
    this.exchange?.onHead(parser);
  }

  onBody(chunk: Buffer, start: number, end: number): void {
    this.exchange?.onBody(chunk, start, end);
  }

  onComplete(extra: boolean): void {
    const exchange = this.exchange as Http1Exchange;
    this.exchange = null;
    exchange.connection = null;
    const { parser } = this;
    // Node's agent rule: reuse within the sink's hint less a second, not at all below that.
    const hintMs = parser.keepAliveTimeout < 0 ? Infinity : parser.keepAliveTimeout * 1_000 - 1_000;
    const reusable =
      parser.keepAlive && !extra && !exchange.closeAfter && hintMs > 0 && !this.closed;
    exchange.onEnd();
    if (!reusable) this.close();
    else if (!this.closed) {
      this.reused = true;
      this.client.release(this, hintMs);
    }
  }

  onError(err: Http1ParseError): void {
    const exchange = this.exchange;
    this.exchange = null;
    this.close();
    if (exchange !== null) {
      exchange.connection = null;
      exchange.onError(err);
    }
  }

  /** The socket ended, failed or closed: the exchange on it fails or is sent again. */
  private lost(): void {
    const exchange = this.exchange;
    this.exchange = null;
    const wasOpen = !this.closed;
    if (wasOpen) this.remove();
    if (exchange !== null) {
      exchange.connection = null;
      const err = this.error as NodeJS.ErrnoException | undefined;
      if (this.reused && !this.received && !exchange.retried && closedUnderUs(err)) {
        // The sink closed the idle connection as the request went out: it never read it. Send it
        // once more on a new connection, in this one's place in the pool.
        exchange.retried = true;
        new Connection(this.client, this.pool).start(exchange);
      } else exchange.onError(err ?? hangUp());
    }
    if (wasOpen) this.client.serveWaiting(this.pool);
  }

  /** Takes the connection out of its pool and destroys it (no callback to its exchange). */
  private remove(): void {
    this.closed = true;
    this.parser.abort();
    this.pool.connections.delete(this);
    if (this.idle) {
      this.idle = false;
      const at = this.pool.idle.indexOf(this);
      if (at >= 0) this.pool.idle.splice(at, 1);
    }
    this.socket.destroy();
  }

  /** Closes the connection; its place in the pool goes to the next exchange waiting. */
  close(): void {
    if (this.closed) return;
    this.remove();
    this.client.serveWaiting(this.pool);
  }
}

class Http1ClientImpl implements Http1Client {
  private readonly pools = new Map<string, Pool>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepAt = Infinity;

  constructor(
    private readonly maxSockets: number,
    private readonly idleTimeoutMs: number,
  ) {}

  send(origin: Http1Origin, exchange: Http1Exchange): void {
    let pool = this.pools.get(origin.key);
    if (pool === undefined) {
      pool = { origin, connections: new Set(), idle: [], waiting: [], head: 0 };
      this.pools.set(origin.key, pool);
    }
    const { idle } = pool;
    let expired: Connection[] | undefined;
    let conn = idle.pop();
    if (conn !== undefined) {
      const now = performance.now();
      for (; conn !== undefined; conn = idle.pop()) {
        conn.idle = false;
        // Past its deadline (the sweep has not come round yet): the sink may be closing it.
        if (conn.idleDeadline > now) break;
        expired ??= [];
        expired.push(conn);
      }
    }
    if (conn !== undefined) {
      conn.socket.ref();
      conn.start(exchange);
    } else if (pool.connections.size - (expired?.length ?? 0) < this.maxSockets) {
      new Connection(this, pool).start(exchange);
    } else pool.waiting.push(exchange);
    // Closed after the exchange has its connection, so the pool is never left empty (and
    // dropped) under it.
    if (expired !== undefined) for (const old of expired) old.close();
  }

  abort(exchange: Http1Exchange): void {
    exchange.aborted = true;
    const conn = exchange.connection;
    if (conn !== null) {
      exchange.connection = null;
      conn.exchange = null;
      conn.close();
    }
  }

  /** The next exchange waiting for this pool, `undefined` when none (aborted ones dropped). */
  private nextWaiting(pool: Pool): Http1Exchange | undefined {
    while (pool.head < pool.waiting.length) {
      const exchange = pool.waiting[pool.head] as Http1Exchange;
      // Served or dropped: the queue lets go of it (its request, its promise) at once.
      pool.waiting[pool.head] = undefined;
      pool.head++;
      if (pool.head >= COMPACT_AT && pool.head * 2 >= pool.waiting.length) {
        pool.waiting = pool.waiting.slice(pool.head);
        pool.head = 0;
      }
      if (!exchange.aborted) return exchange;
    }
    if (pool.head > 0) {
      pool.waiting = [];
      pool.head = 0;
    }
    return undefined;
  }

  /** A place in the pool came free: a new connection for the next exchange waiting. */
  serveWaiting(pool: Pool): void {
    if (pool.connections.size >= this.maxSockets) return;
    const next = this.nextWaiting(pool);
    if (next !== undefined) new Connection(this, pool).start(next);
    else if (pool.connections.size === 0 && this.pools.get(pool.origin.key) === pool) {
      this.pools.delete(pool.origin.key);
    }
  }

  /** A connection finished an exchange and can carry another: to the next waiting, or idle. */
  release(conn: Connection, hintMs: number): void {
    const next = this.nextWaiting(conn.pool);
    if (next !== undefined) {
      conn.start(next);
      return;
    }
    conn.idle = true;
    conn.idleDeadline = performance.now() + Math.min(this.idleTimeoutMs, hintMs);
    conn.pool.idle.push(conn);
    // An idle connection does not keep the process alive (as node:http's agent).
    conn.socket.unref();
    if (conn.idleDeadline < this.sweepAt - 5) this.scheduleSweep(conn.idleDeadline);
  }

  private scheduleSweep(at: number): void {
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = setTimeout(
      () => this.sweep(),
      Math.max(1, Math.ceil(at - performance.now())),
    );
    this.sweepTimer.unref();
  }

  /** Closes the idle connections past their deadline; one timer for the whole client. */
  private sweep(): void {
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const pool of [...this.pools.values()]) {
      for (const conn of [...pool.idle]) {
        // Timers may fire a little early against performance.now().
        if (conn.idleDeadline <= now + 2) conn.close();
        else next = Math.min(next, conn.idleDeadline);
      }
    }
    if (next !== Infinity) this.scheduleSweep(next);
  }

  close(): void {
    if (this.sweepTimer !== undefined) clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    this.sweepAt = Infinity;
    const failed: Http1Exchange[] = [];
    for (const pool of this.pools.values()) {
      for (let next = this.nextWaiting(pool); next !== undefined; next = this.nextWaiting(pool)) {
        next.aborted = true;
        failed.push(next);
      }
      for (const conn of [...pool.connections]) {
        const exchange = conn.exchange;
        if (exchange !== null) {
          conn.exchange = null;
          exchange.connection = null;
          failed.push(exchange);
        }
        conn.close();
      }
    }
    this.pools.clear();
    for (const exchange of failed) exchange.onError(hangUp());
  }
}

/**
 * An HTTP/1.1 client over `node:net` for plain `http:` origins, built for many small exchanges:
 * per origin a pool of keep-alive connections (at most `maxSockets`, idle ones reused last in
 * first out so the surplus ages out, exchanges beyond that queued first in first out), Nagle
 * off, each request written in one write, responses read by `Http1ResponseParser`. A connection
 * is reused only when the response allows it: HTTP/1.1, no `Connection: close`, a body with a
 * known end and nothing after it. Idle connections close after `idleTimeoutMs`, or the sink's
 * `Keep-Alive: timeout=n` less a second, by one timer for the client. A request that fails on a
 * reused connection before any response byte (reset, broken pipe, EOF: the sink closed it idle
 * as the request went out) is sent once more on a new connection.
 *
 * No timeouts of its own: the owner of an exchange bounds it and calls `abort`.
 *
 * @example
 * const client = createHttp1Client({ maxSockets: 128, idleTimeoutMs: 4_000 });
 * client.send({ host: "127.0.0.1", port: 9000, key: "127.0.0.1:9000" }, exchange);
 */
export function createHttp1Client(options: Http1ClientOptions): Http1Client {
  return new Http1ClientImpl(options.maxSockets, options.idleTimeoutMs);
}
