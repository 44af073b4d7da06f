import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { listenHostProblem } from "../../config/listen-host.js";
import { callGateway, problemText } from "./call-gateway.js";
import { parseFlags } from "./parse-flags.js";
import { ServeError, UsageError } from "./serve-error.js";

export const TAIL_USAGE = `  tail        Print the events a gateway delivers, one JSON line each, until Ctrl-C
                --url URL       the gateway (default http://127.0.0.1:8080; its /events URL too)
                --token T       an admin token (when the gateway has auth)
                --type T        only events of this type (repeatable)
                --source S      only events from this source
                --sql EXPR      only events this CESQL expression matches
                --host H        where the gateway reaches this command (default 127.0.0.1)
                --port N        the port it listens on for deliveries (default 0: any free one)`;

interface TailIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Ends the tail (Ctrl-C); the CLI passes one that SIGINT and SIGTERM abort. */
  readonly stop: AbortSignal;
}

/**
 * `herald tail`: watches what a gateway delivers. It listens for deliveries on `--host:--port`,
 * creates a temporary subscription through the Subscriptions API (structured mode, no retries,
 * filtered by `--type`, `--source`, `--sql`) that sends them there, prints each event as one line
 * of the JSON event format, and deletes the subscription when stopped. A refusal by the gateway
 * (no admin token, an invalid filter) is printed and exits 1.
 *
 * @example
 * herald tail --url http://127.0.0.1:8080 --type com.example.order.created
 */
export async function tailCommand(args: readonly string[], io: TailIo): Promise<number> {
  const { values } = parseFlags(args, {
    url: { type: "string", default: "http://127.0.0.1:8080" },
    token: { type: "string" },
    type: { type: "string", multiple: true },
    source: { type: "string" },
    sql: { type: "string" },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
  });
  // Flags given values they cannot take are usage errors (exit 2), as for every command.
  if (!/^https?:\/\//i.test(values.url) || !URL.canParse(values.url)) {
    throw new UsageError(`--url must be an absolute http(s) URL (got "${values.url}")`);
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65_535) {
    throw new UsageError(`--port must be a number from 0 to 65535 (got "${values.port}")`);
  }
  if (values.host.trim() === "") throw new UsageError("--host must not be empty");
  // An empty one is most likely an unset variable (`--token "$TOKEN"`): said as the flag, not
  // as the gateway's 401 or 400 for the subscription it would have made.
  for (const flag of ["token", "source", "sql"] as const) {
    if (values[flag]?.trim() === "") throw new UsageError(`--${flag} must not be empty`);
  }
  if (values.type?.some((type) => type.trim() === "")) {
    throw new UsageError("--type must not be empty");
  }
  const hostProblem = listenHostProblem(values.host, "--port");
  if (hostProblem !== undefined) throw new UsageError(`--host ${hostProblem}`);
  // The gateway's base URL; its ingest URL (`.../events`, as `send --url` and the SDK's endpoint
  // take it) means the same gateway, not a path prefix the Subscriptions API would sit under.
  const base = values.url.replace(/\/+$/, "").replace(/\/events$/, "");
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (values.token) headers.authorization = `Bearer ${values.token}`;

  const sink = await listen(values.host, port, (line) => io.stdout(`${line}\n`));
  try {
    const host = values.host.includes(":") ? `[${values.host}]` : values.host;
    const subscription = {
      sink: `http://${host}:${sink.port}/tail`,
      ...(values.type === undefined ? {} : { types: values.type }),
      ...(values.source === undefined ? {} : { source: values.source }),
      ...(values.sql === undefined ? {} : { filters: [{ sql: values.sql }] }),
      delivery: { mode: "structured", retry: 0 },
    };
    const created = await callGateway(`${base}/subscriptions`, {
      method: "POST",
      headers,
      body: JSON.stringify(subscription),
    });
    if (created.status !== 201) {
      io.stderr(
        `herald: the gateway refused the tail subscription: ${await problemText(created)}\n`,
      );
      return 1;
    }
    const { id } = (await created.json()) as { id: string };
    io.stderr(`herald: tailing ${base} (subscription ${id}); Ctrl-C to stop\n`);
    await new Promise<void>((resolve) => {
      if (io.stop.aborted) resolve();
      io.stop.addEventListener("abort", () => resolve(), { once: true });
    });
    const deleted = await callGateway(`${base}/subscriptions/${encodeURIComponent(id)}`, {
      method: "DELETE",
      headers,
    }).catch(() => undefined);
    if (deleted?.ok !== true) {
      io.stderr(`herald: could not delete subscription ${id}; delete it through the API\n`);
    }
    return 0;
  } finally {
    await sink.close();
  }
}

/**
 * The most a delivery to the local sink may hold: 256 times the default `limits.maxEventBytes`,
 * so that anything else that finds the port cannot fill the memory. A larger one is answered 413
 * (the gateway does not retry it) and printed as `{"tooLarge": n}`.
 */
const MAX_DELIVERY_BYTES = 64 * 1024 * 1024;

/**
 * The local sink: each structured delivery's body as one JSON line, as it came (JSON data keeps
 * its text: a number past 2^53 is not rounded, a value nested too deep to write again is still
 * printed); line breaks are JSON whitespace, dropped; a body that is no JSON is printed as
 * `{"undecodable": "<its first 1,024 characters>"}`, made as safe for a terminal. 204 to the
 * gateway.
 */
async function listen(
  host: string,
  port: number,
  print: (line: string) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_DELIVERY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on("end", () => {
      if (size > MAX_DELIVERY_BYTES) {
        print(JSON.stringify({ tooLarge: size }));
        res.writeHead(413).end();
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      try {
        JSON.parse(body);
        print(oneLine(body));
      } catch {
        print(oneLine(JSON.stringify({ undecodable: body.slice(0, 1024) })));
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new ServeError(
          err.code === "EADDRINUSE"
            ? `cannot listen for deliveries on ${host}:${port}: the port is in use (pick another with --port, or leave it out for any free one)`
            : `cannot listen for deliveries on ${host}:${port}: ${err.message}`,
        ),
      ),
    );
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Valid JSON text on one line, safe for a terminal: line breaks (JSON whitespace there, as
 * strings cannot hold them raw) dropped, and DEL, the C1 controls (CSI and OSC sequences) and the
 * Unicode line and paragraph separators, which JSON strings may hold raw, written as `\u` escapes.
 *
 * @example
 * oneLine('{"a":\n"\u009b2J"}'); // '{"a":"\\u009b2J"}'
 */
export function oneLine(json: string): string {
  return json
    .replace(/[\r\n]/g, "")
    .replace(
      /[\u007f-\u009f\u2028\u2029]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}
