import { createHash, hash } from "node:crypto";
import { existsSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, resolve } from "node:path";
import { createGateway, type Gateway } from "../../app/create-gateway.js";
import { unsupportedSettings } from "../../app/unsupported-settings.js";
import { formatConfigIssue } from "../../config/config-invalid.js";
import { configWarnings } from "../../config/config-warnings.js";
import type { HeraldConfig } from "../../config/herald-config.js";
import { parseConfig } from "../../config/load-config.js";
import type { DeliveryQueue } from "../../deliver/delivery-queue.js";
import type { Logger } from "../../ports/logger.js";
import { createMemorySubscriptionStore } from "../../store/memory-subscription-store.js";
import { type StoreBackup, unsupportedBackup } from "../../store/store-backup.js";
import type { SubscriptionStore } from "../../store/subscription-store.js";
import {
  openSubscriptionRegistry,
  type SubscriptionRegistry,
} from "../../subscriptions/subscription-registry.js";
import { unusableKeyWarnings } from "./check-config-files.js";
import { configLookalikes, lookalikeNote } from "./config-lookalikes.js";
import { type ConfigReloader, createConfigReloader } from "./config-reloader.js";
import { closeAnswersInFlight, createNodeServer } from "./create-node-server.js";
import { startDemoSink } from "./demo-sink.js";
import { DevIssuerInvalid, loadOrCreateDevIssuer } from "./dev-issuer.js";
import {
  DEMO_SUBJECT,
  DEMO_TOKEN_TTL_SECONDS,
  demoHint,
  embeddedConfig,
} from "./embedded-config.js";
import { loadJwksFiles } from "./jwks-files.js";
import { countPublishRefusal, nodeListener } from "./node-listener.js";
import { createNodeSinkClient } from "./node-sink-client.js";
import { readConfigText } from "./read-config-file.js";
import { ServeError } from "./serve-error.js";
import { openSqliteStore } from "./sqlite-store.js";
import { startTelemetry } from "./start-telemetry.js";

export interface ServeOptions {
  readonly configPath?: string;
  readonly host?: string;
  readonly port?: number;
  readonly noAuth: boolean;
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  readonly logger: Logger;
  /** Where the one `listening` line goes (stdout). */
  readonly print: (text: string) => void;
  /**
   * Where the embedded demo's words for people go: its token, a curl to try, the events its sink
   * receives (stderr; default `print`). Not stdout: stdout carries exactly one line.
   */
  readonly note?: (text: string) => void;
  /** Reload the config file when it changes (default true; SIGHUP reloads regardless). */
  readonly watchConfig?: boolean;
  /** The drain deadline of `close()` (default 10 s); tests shorten it. */
  readonly drainMs?: number;
  /** A stop asked for while starting (SIGTERM): ends the wait for the store (NATS) at once. */
  readonly stop?: AbortSignal;
}

export interface RunningServer {
  readonly url: string;
  readonly gateway: Gateway;
  /**
   * Reads the config file again and swaps in its subscriptions (SIGHUP); resolves `false`, with
   * the old config still in use, when the new one is refused. Always `false` for the embedded demo.
   */
  reload(): Promise<boolean>;
  /** Stops accepting, drains in-flight work, closes the listener. */
  close(): Promise<void>;
}

export { ServeError } from "./serve-error.js";

/**
 * Starts the Node gateway: loads the config (or the embedded demo when there is none), listens,
 * and prints exactly one line `herald listening on http://H:N` when ready.
 *
 * @example
 * const server = await serve({ noAuth: true, cwd: process.cwd(), env: process.env, logger, print });
 * await server.close();
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const { logger, print } = options;
  const note = options.note ?? print;
  const explicit = options.configPath !== undefined;
  const configPath = resolve(options.cwd, options.configPath ?? "herald.yaml");
  const demo = !explicit && !existsSync(configPath);
  let closeDemo: (() => Promise<void>) | undefined;
  let demoToken: string | undefined;
  let config: HeraldConfig;
  let configText: string | undefined;
  if (demo) {
    // A herald.json or herald.yml beside it is not read: said before the demo starts instead.
    const lookalikes = lookalikeNote(configLookalikes(options.cwd));
    if (lookalikes !== "") note(lookalikes);
    // The demo trusts a local dev issuer (kept in ./.herald, so its tokens outlive a restart).
    const issuer = await loadOrCreateDevIssuer(options.cwd).catch((err: unknown) => {
      if (err instanceof DevIssuerInvalid) throw new ServeError(err.message);
      const why = err instanceof Error ? err.message : String(err);
      throw new ServeError(`the embedded demo cannot create its dev issuer in ./.herald: ${why}`);
    });
    demoToken = await issuer.mint({ sub: DEMO_SUBJECT, ttlSeconds: DEMO_TOKEN_TTL_SECONDS });
    const sink = await startDemoSink(note);
    closeDemo = sink.close;
    config = parseConfig(
      embeddedConfig({
        sinkUrl: sink.url,
        host: options.host ?? "127.0.0.1",
        port: options.port ?? 8080,
        jwks: issuer.publicJwks,
      }),
      "<embedded demo config>",
    );
  } else {
    configText = await readConfigText(configPath);
    config = parseConfig(configText, configPath, options.env);
  }

  // The embedded demo always has auth (its dev issuer); a user's config must opt out explicitly.
  const authOff = options.noAuth || config.auth === undefined;
  if (!options.noAuth && config.auth === undefined) {
    throw new ServeError(
      "this config has no auth section, so anyone could publish. Add auth (see README: " +
        "Authentication) or start with --no-auth to accept events from anyone (development only).",
    );
  }
  const unsupported = unsupportedSettings(config);
  if (unsupported.length > 0) {
    throw new ServeError(
      `this version of herald cannot honour these settings yet, so it will not start:\n  ${unsupported.join("\n  ")}`,
    );
  }
  if (authOff) {
    const warning = options.noAuth
      ? "authentication is OFF (--no-auth): anyone who can reach this port can publish events and read and change subscriptions (the admin API is open too)"
      : "authentication is OFF: anyone who can reach this port can publish events and read and change subscriptions (the admin API is open too)";
    logger.warn(warning);
    // Loudly, whatever HERALD_LOG_LEVEL hides (DESIGN.md): a plain line on stderr too.
    if (options.note !== undefined) options.note(`herald: WARNING: ${warning}\n`);
  }
  // Valid settings that are probably not meant: the gateway starts, and says so.
  for (const warning of configWarnings(
    config,
    demo ? "<embedded demo config>" : configPath,
    configText,
  )) {
    logger.warn(formatConfigIssue(warning));
  }
  const jwksFiles = await loadJwksFiles(config, dirname(configPath));
  // Key sets that would refuse every token of their issuer: said, as validate says it.
  for (const warning of await unusableKeyWarnings(
    config,
    dirname(configPath),
    demo ? "<embedded demo config>" : configPath,
    configText,
  )) {
    logger.warn(formatConfigIssue(warning));
  }

  // Relative paths in a config file mean the file's folder (as for jwks files); the demo's mean
  // the current folder, like its dev issuer.
  const store = await openStore(
    config,
    demo ? options.cwd : dirname(configPath),
    logger,
    options.stop,
  );
  let subscriptions: SubscriptionRegistry;
  try {
    subscriptions = await openSubscriptionRegistry({
      configured: config.subscriptions,
      store: store.subscriptions,
      logger,
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  // A shared store (NATS): subscriptions another replica changes reach this one's registry, and
  // only the jobs of subscriptions this gateway knows are pulled (a replica on another config
  // would drop the others' jobs as "no longer exists").
  store.watch?.(subscriptions);
  try {
    await store.pullFor?.((id) => subscriptions.get(id) !== undefined);
  } catch (err) {
    await store.close();
    throw new ServeError(
      `cannot read the consumers of the NATS stream: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  // Before the gateway: its metric instruments bind to the SDK's meter provider when created.
  // Spans a full export queue drops are counted by the gateway's metrics once it exists (no
  // span, so no drop, comes before it).
  const spansDropped = { count: (_spans: number) => {} };
  const telemetry = await startTelemetry(options.env, {
    logger,
    onSpansDropped: (spans) => spansDropped.count(spans),
  });
  const sinkClient = createNodeSinkClient();
  const gateway = createGateway({
    config,
    logger,
    sinkClient,
    subscriptions,
    ...(store.queue === undefined ? {} : { queue: store.queue }),
    ...(store.available === undefined ? {} : { storeAvailable: store.available }),
    // Without one (memory) the gateway says there is nothing to back up.
    ...(store.backup === undefined ? {} : { backup: store.backup }),
    noAuth: authOff,
    keySourceFor: (keys) => (keys.kind === "file" ? jwksFiles.get(keys.path) : undefined),
    tokenDigest: sha256Digest,
    logPayloads: options.env.HERALD_LOG_PAYLOADS === "true",
    ...(options.drainMs === undefined ? {} : { drainMs: options.drainMs }),
  });
  spansDropped.count = (spans) => gateway.metrics.spansDropped(spans);
  // A publisher gets 20 s for the headers and 60 s for the whole request, to within a second.
  let draining = false;
  const server = createNodeServer(nodeListener(gateway), {
    refused: countPublishRefusal(gateway),
    closing: () => draining,
  });
  const host = options.host ?? config.listen.host;
  const port = options.port ?? config.listen.port;
  await new Promise<void>((ok, fail) => {
    server.once(
      "error",
      (err: NodeJS.ErrnoException) =>
        // The store is open: close it, or the file stays locked by this failed start.
        void Promise.all([store.close(), telemetry?.shutdown()]).finally(() =>
          fail(
            new ServeError(
              err.code === "EADDRINUSE"
                ? `cannot listen on ${host}:${port}: the port is in use (pick another with --port)`
                : `cannot listen on ${host}:${port}: ${err.message}`,
            ),
          ),
        ),
    );
    server.listen(port, host, ok);
  });
  gateway.start();
  const address = server.address() as AddressInfo;
  const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${shownHost}:${address.port}`;
  const listed = subscriptions.list();
  logger.info("gateway started", {
    // Those of the config and those created through the API (kept in the store).
    subscriptions: listed.length,
    fromApi: listed.filter((s) => s.origin !== "config").length,
    store: storeShown(config.store, store.path),
    config: demo ? "embedded demo" : configPath,
  });
  const reloader: ConfigReloader | undefined = demo
    ? undefined
    : createConfigReloader({
        path: configPath,
        env: options.env,
        logger,
        running: config,
        ...(configText === undefined ? {} : { initialText: configText }),
        watch: options.watchConfig !== false,
        changedFiles: () => jwksFiles.changed(),
        apply: (next) => {
          gateway.subscriptions.replaceConfigured(next.subscriptions);
          // NATS: a subscription the file added is pulled from now on, here too.
          store.pullKnown?.().catch((err: unknown) =>
            logger.warn("could not start pulling the deliveries of reloaded subscriptions", {
              error: err instanceof Error ? err.message : String(err),
            }),
          );
        },
      });
  print(`herald listening on ${url}\n`);
  // Under --no-auth the demo's token would be a detour: the hint says none is needed.
  if (demo) note(demoHint(url, authOff ? undefined : demoToken));

  let closing: Promise<void> | undefined;
  return {
    url,
    gateway,
    reload: async () => {
      if (reloader !== undefined) return reloader.reload("SIGHUP");
      // Said, so a SIGHUP to the demo is not taken for a reload that silently did nothing.
      logger.warn(
        "config reload: the embedded demo has no config file to reload; write a herald.yaml and restart",
        { trigger: "SIGHUP" },
      );
      return false;
    },
    close() {
      closing ??= (async () => {
        reloader?.close();
        // The listener stays open while draining: publishers get 503 with Retry-After and probes
        // see /readyz answer 503, rather than connections being refused. A publish request
        // already in (its body still arriving) may finish; at the deadline it is answered 503.
        // Every answer from now on closes its connection (`closing`), and so do the answers
        // of the requests already in.
        draining = true;
        closeAnswersInFlight(server);
        await gateway.stop();
        sinkClient.close();
        // Then the answers just written go out before their connections are closed: idle ones
        // close at once, a busy one gets a moment. Only then the store: nothing uses it now.
        await closeServer(server, ANSWER_GRACE_MS);
        await store.close();
        // Last: the spans of the final deliveries and the last metrics go out (bounded wait).
        await telemetry?.shutdown();
        await closeDemo?.();
      })();
      return closing;
    },
  };
}

/** How long `close()` lets connections still busy after the drain finish their answer. */
const ANSWER_GRACE_MS = 1_000;

/**
 * Stops listening and resolves once every connection is closed: idle ones at once (Node's
 * `server.close`), busy ones when their exchange ends (an answer sent with `Connection: close`
 * ends its connection), or after `graceMs`, when what is left is cut.
 */
function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise<void>((ok) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      ok();
    });
    server.closeIdleConnections();
  });
}

/**
 * The verified-token cache key: SHA-256 of the token, so the cache never holds a token itself.
 * `crypto.hash` (Node 20.12+) is the one-shot form, about twice as fast as `createHash` for a
 * token-sized input; older runtimes fall back to `createHash`.
 */
const sha256Digest: (token: string) => string =
  typeof hash === "function"
    ? (token) => hash("sha256", token, "base64url")
    : (token) => createHash("sha256").update(token).digest("base64url");

/**
 * The store a config asks for: SQLite (the durable default), NATS JetStream (shared by replicas)
 * or memory (nothing to open).
 */
async function openStore(
  config: HeraldConfig,
  baseDir: string,
  logger: Logger,
  stop: AbortSignal | undefined,
): Promise<{
  readonly queue?: DeliveryQueue;
  readonly subscriptions: SubscriptionStore;
  readonly path?: string;
  /** `GET /store/backup`: the SQLite file's copy, or the refusal saying what to use instead. */
  readonly backup?: StoreBackup;
  /**
   * Whether the store can take events now (NATS: the connection is up; SQLite: its disk took the
   * last write, and the file is still at its path).
   */
  available?(): boolean;
  watch?(target: Pick<SubscriptionRegistry, "refresh" | "refreshOne">): void;
  pullFor?(knows: (subscriptionId: string) => boolean): Promise<void>;
  pullKnown?(): Promise<void>;
  close(): Promise<void>;
}> {
  if (config.store.kind === "nats") {
    // The NATS client is loaded only by a gateway that uses it.
    const { openConfiguredNatsStore } = await import("../nats/open-configured-nats-store.js");
    const store = await openConfiguredNatsStore(config.store, baseDir, logger, stop).catch(
      (err: unknown) => {
        throw new ServeError(err instanceof Error ? err.message : String(err));
      },
    );
    const { natsNames } = await import("../nats/nats-names.js");
    return {
      ...store,
      backup: natsBackup(natsNames(config.store.stream)),
      available: () => store.connected(),
    };
  }
  if (config.store.kind !== "sqlite") {
    return { subscriptions: createMemorySubscriptionStore(), close: async () => {} };
  }
  const path = resolve(baseDir, config.store.path);
  try {
    const store = openSqliteStore({
      path,
      logger,
      dedupeWindowMs: config.store.dedupeWindowMs,
      maxFresh: config.limits.maxQueuedDeliveries,
    });
    return {
      queue: store.queue,
      subscriptions: store.subscriptions,
      backup: store.backup,
      path,
      available: store.available,
      close: store.close,
    };
  } catch (err) {
    throw new ServeError(err instanceof Error ? err.message : String(err));
  }
}

/** JetStream keeps the queue, the events and the subscriptions: its own tools copy them. */
const natsBackup = (names: { stream: string; eventsStream: string; bucket: string }) =>
  unsupportedBackup(
    `the NATS store lives in JetStream, not in this gateway: back up its streams with the nats tool (\`nats stream backup ${names.stream} DIR\`, and the same for ${names.eventsStream} and KV_${names.bucket}; \`nats stream restore\` puts them back), or rely on the streams' replicas`,
  );

/**
 * The store as the start log names it: the SQLite file, or the NATS servers (scheme, host and
 * port only) and stream.
 */
export function storeShown(store: HeraldConfig["store"], path: string | undefined): string {
  switch (store.kind) {
    case "sqlite":
      return `sqlite (${path})`;
    case "nats": {
      // Scheme, host and port: never a user or token a URL might carry.
      const urls = (typeof store.url === "string" ? [store.url] : store.url).map((url) => {
        if (!URL.canParse(url)) return "?";
        const { protocol, host } = new URL(url);
        return `${protocol}//${host}`;
      });
      return `nats (${urls.join(", ")}, stream ${store.stream})`;
    }
    default:
      return store.kind;
  }
}
