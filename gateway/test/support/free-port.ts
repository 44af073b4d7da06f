import { createServer } from "node:net";

/**
 * A TCP port on 127.0.0.1 that nothing listens on, for a process a test starts later (or checks
 * never opens it). Not a port the system picked for `listen(0)` and freed again: the system
 * hands that range (32768-60999 on Linux, 49152-65535 elsewhere) to every other `listen(0)`
 * and outgoing connection on the machine, so on a busy one another test's server could take it
 * before the process started. This one comes from 20000-31999, which the system never picks,
 * and is checked free.
 *
 * @example
 * const port = await freePort();
 * spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port)]);
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) return port;
    if (attempt >= 50) throw new Error("no free port in 20000-31999 after 50 tries");
  }
}
