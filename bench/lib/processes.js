// Child processes of the harness: pinned to a core with taskset, started until they print their
// `... listening on http://H:N` line, stopped with SIGTERM (then SIGKILL), and never left behind.
import { spawn, spawnSync } from "node:child_process";
import { connect } from "node:net";
import { availableParallelism } from "node:os";

/** Every child still running, so an error or Ctrl-C anywhere can stop them all. */
const live = new Set();

/** True when `taskset` runs and the machine has the two cores the layout needs. */
export function canPin() {
  if (availableParallelism() < 2) return false;
  const probe = spawnSync("taskset", ["-c", "0", "true"], { stdio: "ignore" });
  return probe.status === 0;
}

/**
 * The command line that runs `command args` on `core`, or unpinned when `core` is undefined.
 * @param {number | undefined} core
 * @param {string} command
 * @param {string[]} args
 * @returns {[string, string[]]}
 */
export function pinned(core, command, args) {
  return core === undefined ? [command, args] : ["taskset", ["-c", String(core), command, ...args]];
}

/** Keeps the last `limit` characters of a stream, for error messages. */
class Tail {
  /** @param {number} limit */
  constructor(limit) {
    this.limit = limit;
    this.text = "";
  }
  /** @param {Buffer | string} chunk */
  push(chunk) {
    this.text = (this.text + chunk.toString()).slice(-this.limit);
  }
}

/**
 * @typedef {object} Server
 * @property {string} name
 * @property {string} url  base URL parsed from the ready line, e.g. http://127.0.0.1:40123
 * @property {number} pid
 * @property {() => string} output  last lines of stdout + stderr
 * @property {() => boolean} alive
 * @property {() => Promise<number | null>} stop  SIGTERM, then SIGKILL after a grace period; exit code
 */

/**
 * Spawns a server and waits for its ready line. Rejects, with the tail of its output, when it exits
 * or stays silent past `timeoutMs`.
 * @param {object} spec
 * @param {string} spec.name
 * @param {string} spec.command
 * @param {string[]} spec.args
 * @param {number | undefined} spec.core
 * @param {NodeJS.ProcessEnv} [spec.env]
 * @param {string} [spec.cwd]
 * @param {RegExp} [spec.ready]  must capture the base URL in group 1
 * @param {number} [spec.timeoutMs]
 * @returns {Promise<Server>}
 */
export function startServer(spec) {
  const ready = spec.ready ?? /listening on (http:\/\/[^\s/]+)/;
  const timeoutMs = spec.timeoutMs ?? 20_000;
  const [command, args] = pinned(spec.core, spec.command, spec.args);
  const child = spawn(command, args, {
    cwd: spec.cwd,
    env: spec.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  const out = new Tail(4000);
  /** @type {Promise<number | null>} */
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      live.delete(child);
      resolve(code ?? (signal ? -1 : null));
    });
    child.on("error", (err) => {
      live.delete(child);
      out.push(`\n[spawn error] ${err.message}\n`);
      resolve(-1);
    });
  });

  /** @returns {Promise<number | null>} */
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return exited;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };

  return new Promise((resolve, reject) => {
    let buffered = "";
    let done = false;
    const fail = (/** @type {string} */ why) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      void stop().then(() => {
        reject(
          new Error(
            `${spec.name} failed to start: ${why}\n--- ${spec.name} output ---\n${out.text.trimEnd()}`,
          ),
        );
      });
    };
    const timer = setTimeout(() => fail(`no ready line within ${timeoutMs} ms`), timeoutMs);
    child.stdout.on("data", (chunk) => {
      out.push(chunk);
      if (done) return;
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        const m = ready.exec(line.trim());
        if (m?.[1] !== undefined) {
          done = true;
          clearTimeout(timer);
          resolve({
            name: spec.name,
            url: m[1],
            pid: /** @type {number} */ (child.pid),
            output: () => out.text,
            alive: () => child.exitCode === null && child.signalCode === null,
            stop,
          });
          return;
        }
      }
    });
    child.stderr.on("data", (chunk) => out.push(chunk));
    void exited.then((code) => fail(`exited with code ${code} before it was ready`));
  });
}

/**
 * Runs a command to completion, collecting its output.
 * @param {string} command
 * @param {string[]} args
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
export function run(command, args) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
    });
    child.on("error", (err) => {
      live.delete(child);
      resolve({ code: -1, stdout, stderr: `${stderr}${err.message}` });
    });
    child.on("close", (code) => {
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

/** How many children (servers, wrk) are still running; 0 between two runs. */
export function liveChildren() {
  return live.size;
}

/**
 * True once nothing accepts connections at `url` any more (connection refused).
 * @param {string} url  base URL, e.g. http://127.0.0.1:40123
 */
function portClosed(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(1_000);
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", () => resolve(true));
  });
}

/**
 * After `server.stop()`: checks that its process is gone (reaped, pid no longer exists) and that its
 * port refuses connections, so the next run starts on a clean machine. Throws otherwise.
 * @param {Server} server
 */
export async function assertStopped(server) {
  if (server.alive()) throw new Error(`${server.name} (pid ${server.pid}) is still running`);
  try {
    process.kill(server.pid, 0);
    throw new Error(`${server.name}: pid ${server.pid} still exists after it exited`);
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code !== "ESRCH") throw err;
  }
  // The listening socket closes with the process; allow the kernel a moment to tear it down.
  for (let i = 0; i < 20; i++) {
    if (await portClosed(server.url)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${server.name}: something still accepts connections on ${server.url}`);
}

/** SIGKILLs every child still running (used on errors and Ctrl-C). */
export function killAll() {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}
