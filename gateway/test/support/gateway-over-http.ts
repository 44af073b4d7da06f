import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { nodeListener } from "../../src/adapters/node/node-listener.js";
import { createGateway, type Gateway, type GatewayOptions } from "../../src/app/create-gateway.js";
import { parseConfig } from "../../src/config/load-config.js";

/** A started gateway behind a real `node:http` server on 127.0.0.1. */
export interface GatewayOverHttp {
  readonly gateway: Gateway;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** The `node:http` server (tests watch its answers through its `request` event). */
  readonly server: Server;
  /** Stops the gateway, drops open connections and closes the server. */
  close(): Promise<void>;
}

/**
 * Starts a gateway on `config` (the config file's shape, as JSON) behind the Node listener, as
 * `herald serve` runs it, on a free loopback port.
 *
 * @example
 * const http = await startGatewayOverHttp({ subscriptions: [{ id: "all", sink }] }, "t.json");
 * await fetch(`${http.base}/events`, { method: "POST", ... });
 * await http.close();
 */
export async function startGatewayOverHttp(
  config: Record<string, unknown>,
  name: string,
  options: Omit<GatewayOptions, "config"> = {},
  listener: Parameters<typeof nodeListener>[1] = {},
): Promise<GatewayOverHttp> {
  const gateway = createGateway({ ...options, config: parseConfig(JSON.stringify(config), name) });
  gateway.start();
  const server = createServer(nodeListener(gateway, listener));
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    gateway,
    server,
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      await gateway.stop();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
