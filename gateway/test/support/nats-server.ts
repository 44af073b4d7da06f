import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";

/** A `nats-server -js` this test started, on a loopback port with its own store folder. */
export interface NatsServer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** Stops it gracefully (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** kill -9, as a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port and store folder (after `stop` or `kill`). */
  start(): Promise<void>;
  /** SIGSTOP: it keeps its connections open and answers nothing, as a hung or cut-off machine. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
}

/** Whether `nats-server` is installed (`.ci/run` installs Debian's). */
export function hasNatsServer(): boolean {
  try {
    execFileSync("nats-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export { freePort };

const started = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of started) child.kill("SIGKILL");
});

/** Spawns one server with `args` and resolves once it logs that it is ready. */
function launch(args: string[]): Promise<ChildProcess> {
  const child = spawn("nats-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  started.add(child);
  child.once("exit", () => started.delete(child));
  return new Promise((resolve, reject) => {
    let log = "";
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("Server is ready")) {
        child.stderr?.off("data", onData);
        // Keep draining its log, or the pipe fills and the server blocks.
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stderr?.on("data", onData);
    child.once("exit", (code) => reject(new Error(`nats-server exited with ${code}:\n${log}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function node(
  name: string,
  port: number,
  dir: string,
  cluster?: { port: number; routes: number[] },
): Promise<NatsServer> {
  const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", dir, "-n", name];
  if (cluster !== undefined) {
    args.push("--cluster_name", "herald-test", "--cluster", `nats://127.0.0.1:${cluster.port}`);
    args.push("--routes", cluster.routes.map((p) => `nats://127.0.0.1:${p}`).join(","));
  }
  let child: ChildProcess | undefined = await launch(args);
  return {
    name,
    port,
    url: `nats://127.0.0.1:${port}`,
    async stop() {
      if (child === undefined) return;
      const done = exited(child);
      child.kill("SIGTERM");
      await done;
      child = undefined;
    },
    async kill() {
      if (child === undefined) return;
      const done = exited(child);
      child.kill("SIGKILL");
      await done;
      child = undefined;
    },
    async start() {
      child ??= await launch(args);
    },
    pause() {
      child?.kill("SIGSTOP");
    },
    resume() {
      child?.kill("SIGCONT");
    },
  };
}

/**
 * Starts a single JetStream server on a free loopback port with a temporary store folder (`dir`).
 *
 * @example
 * const nats = await startNatsServer();
 * await openNatsStore({ servers: nats.url, stream: "t1" });
 * await nats.close();
 */
export async function startNatsServer(): Promise<
  NatsServer & { readonly dir: string; close(): Promise<void> }
> {
  const dir = await mkdtemp(join(tmpdir(), "herald-nats-"));
  const server = await node("n1", await freePort(), dir);
  return {
    ...server,
    dir,
    async close() {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A JetStream cluster of `size` servers on loopback. */
export interface NatsCluster {
  readonly nodes: readonly NatsServer[];
  /** Every client URL, for a client's server list. */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

/**
 * Starts a JetStream cluster of `size` (default 3) servers on free loopback ports, each with its
 * own temporary store folder, routed to one another. Resolves once every server is ready (the
 * JetStream meta leader may still be electing: `openNatsStore` waits for it with `startupWaitMs`).
 *
 * @example
 * const cluster = await startNatsCluster();
 * await cluster.nodes[1].kill();
 */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const dir = await mkdtemp(join(tmpdir(), "herald-nats-cluster-"));
  const ports = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = await Promise.all(Array.from({ length: size }, () => freePort()));
  const nodes = await Promise.all(
    ports.map((port, i) =>
      node(`n${i + 1}`, port, join(dir, `n${i + 1}`), { port: routes[i] as number, routes }),
    ),
  );
  return {
    nodes,
    urls: nodes.map((n) => n.url),
    async close() {
      await Promise.all(nodes.map((n) => n.kill()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
