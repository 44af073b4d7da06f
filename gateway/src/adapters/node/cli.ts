import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  ConfigInvalid,
  describeConfigIssue,
  formatConfigIssue,
} from "../../config/config-invalid.js";
import { configWarnings } from "../../config/config-warnings.js";
import { listenHostProblem } from "../../config/listen-host.js";
import { parseConfig } from "../../config/load-config.js";
import { BACKUP_USAGE, backupCommand } from "./backup-command.js";
import { checkConfigFiles, unusableKeyWarnings } from "./check-config-files.js";
import { configLookalikes, lookalikeNote } from "./config-lookalikes.js";
import { createJsonLogger, logLevelFromEnv } from "./json-logger.js";
import { parseFlags } from "./parse-flags.js";
import { readConfigText } from "./read-config-file.js";
import { SEND_USAGE, sendCommand } from "./send-command.js";
import type { RunningServer } from "./serve.js";
import { ServeError, UsageError } from "./serve-error.js";
import { TAIL_USAGE, tailCommand } from "./tail-command.js";
import { TOKEN_USAGE, tokenCommand } from "./token-command.js";

const SERVE_USAGE = `  serve       Start the gateway
                -c, --config FILE  config file (default ./herald.yaml; without one, an embedded demo)
                --host H           listen address (overrides listen.host)
                -p, --port N       listen port (overrides listen.port; 0 picks a free port)
                --no-auth          accept events without authentication (development only)`;

const VALIDATE_USAGE = `  validate    Check a config file and exit (0 valid, 1 invalid)
                -c, --config FILE  config file (default ./herald.yaml)`;

const ENVIRONMENT = `Environment: HERALD_LOG_LEVEL=debug|info|warn|error|silent (default info). Logs are JSON lines on stderr.
  OTEL_EXPORTER_OTLP_ENDPOINT=URL (or OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER) exports traces and
  metrics with OpenTelemetry; the other standard OTEL_* variables apply (README: Tracing and metrics).
`;

const USAGE = `Usage: herald <command> [options]

Commands:
${SERVE_USAGE}
${VALIDATE_USAGE}
${SEND_USAGE}
${TAIL_USAGE}
${TOKEN_USAGE}
${BACKUP_USAGE}
  help        Show this help (herald help COMMAND, or herald COMMAND --help: one command's)
  version     Print the version

${ENVIRONMENT}`;

/** The names of `help` and `version`, whose usage is the whole usage. */
const HELP_OR_VERSION: ReadonlySet<string> = new Set([
  "help",
  "--help",
  "-h",
  "version",
  "--version",
  "-v",
]);

/** Each command's part of the usage, for `herald COMMAND --help` and `herald help COMMAND`. */
const COMMAND_USAGE: Readonly<Record<string, string>> = {
  serve: `${SERVE_USAGE}\n\n${ENVIRONMENT.trimEnd()}`,
  validate: VALIDATE_USAGE,
  send: SEND_USAGE,
  tail: TAIL_USAGE,
  token: TOKEN_USAGE,
  backup: BACKUP_USAGE,
};

interface Io {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: Record<string, string | undefined>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Aborted when stdout's reader went away (a closed pipe): `tail` then stops as on Ctrl-C. */
  readonly stdoutGone?: AbortSignal;
}

/**
 * The `herald` command line. Resolves with the exit code for commands that finish; `serve`
 * resolves only when the server has stopped after SIGTERM/SIGINT.
 *
 * @example
 * process.exitCode = await runCli({ argv: process.argv.slice(2), cwd: process.cwd(), env: process.env,
 *   stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
 */
export async function runCli(io: Io): Promise<number> {
  const [command = "help", ...rest] = io.argv;
  // `herald serve --help` is how people ask about one command: its usage, exit 0, never an
  // "unknown option" (or, worse, a gateway started). `herald help serve` says the same.
  const commandUsage = usageOf(command);
  if (commandUsage !== undefined && asksForHelp(rest)) {
    io.stdout(commandUsage);
    return 0;
  }
  if (HELP_OR_VERSION.has(command) && asksForHelp(rest)) {
    io.stdout(USAGE);
    return 0;
  }
  try {
    switch (command) {
      case "serve":
        return await serveCommand(rest, io);
      case "validate":
        return await validateCommand(rest, io);
      case "send":
        return await sendCommand(rest, io);
      case "tail": {
        const { signal } = stopSignal();
        const stop = io.stdoutGone ? AbortSignal.any([signal, io.stdoutGone]) : signal;
        return await tailCommand(rest, { ...io, stop });
      }
      case "token":
        return await tokenCommand(rest, io);
      case "backup": {
        // Ctrl-C stops the download and removes what it wrote, rather than leave a `.part`.
        const stop = stopSignal();
        try {
          return await backupCommand(rest, { ...io, stop: stop.signal });
        } finally {
          stop.dispose();
        }
      }
      case "version":
      case "--version":
      case "-v":
        // Strict like every command: `herald version --json` is a usage error, not a version.
        parseArgs({ args: [...rest], options: {}, strict: true });
        io.stdout(`herald ${version()}\n`);
        return 0;
      case "help":
      case "--help":
      case "-h":
        return helpCommand(rest, io);
      default:
        io.stderr(`herald: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigInvalid) {
      // One line per problem, each said by `herald:` as every other line it writes there is.
      io.stderr(err.issues.map((issue) => `herald: ${describeConfigIssue(issue)}\n`).join(""));
      return 1;
    }
    if (err instanceof UsageError) {
      io.stderr(`herald: ${err.message} (see herald ${command} --help)\n`);
      return 2;
    }
    if (err instanceof ServeError) {
      io.stderr(`herald: ${err.message}\n`);
      return 1;
    }
    if (
      err instanceof TypeError &&
      "code" in err &&
      String(err.code).startsWith("ERR_PARSE_ARGS")
    ) {
      // The usage of the command the options were for, not every command's.
      io.stderr(`herald: ${err.message}\n\n${usageOf(command) ?? USAGE}`);
      return 2;
    }
    // Anything else (a damaged store file, a defect): one line a person can act on, with its
    // cause, instead of Node's dump of an uncaught error; the stack when debug logging asks.
    io.stderr(`herald: ${command} failed: ${describeFailure(err)}\n`);
    if (logLevelFromEnv(io.env.HERALD_LOG_LEVEL) === "debug" && err instanceof Error) {
      io.stderr(`${err.stack ?? ""}\n`);
    }
    return 1;
  }
}

/**
 * `herald help [COMMAND]`: the whole usage, or one command's. A topic that is not a command is
 * a usage error (exit 2), as `herald COMMAND` with that name would be, not the usage with exit 0.
 */
function helpCommand(args: readonly string[], io: Io): number {
  const { positionals } = parseArgs({ args: [...args], options: {}, allowPositionals: true });
  const [topic, ...extra] = positionals;
  if (extra.length > 0) {
    io.stderr(`herald: help takes one COMMAND at most (got ${positionals.length})\n\n${USAGE}`);
    return 2;
  }
  if (topic === undefined || HELP_OR_VERSION.has(topic)) {
    io.stdout(USAGE);
    return 0;
  }
  const usage = usageOf(topic);
  if (usage === undefined) {
    io.stderr(`herald: unknown command "${topic}"\n\n${USAGE}`);
    return 2;
  }
  io.stdout(usage);
  return 0;
}

/** An error's message and its causes' ("a: b: c"), without stacks. */
function describeFailure(err: unknown): string {
  const parts: string[] = [];
  for (let at: unknown = err; at !== undefined && parts.length < 5; ) {
    const message = at instanceof Error ? at.message : String(at);
    if (!parts.some((part) => part.includes(message))) parts.push(message);
    at = at instanceof Error ? at.cause : undefined;
  }
  return parts.join(": ");
}

/** One command's usage, `undefined` for a name that is not a command. */
function usageOf(command: string): string | undefined {
  if (!Object.hasOwn(COMMAND_USAGE, command)) return undefined;
  return `Usage: herald ${command} [options]\n\n${COMMAND_USAGE[command]}\n`;
}

/**
 * `--config ""` (an unset variable in `--config "$HERALD_CONFIG"`) is a usage error: resolved, it
 * would name the current folder, and the answer would be that a folder is not a config file.
 */
function checkConfigFlag(config: string | undefined): void {
  if (config?.trim() === "") throw new UsageError("--config must not be empty");
}

/** Whether the arguments ask for help (`--help` or `-h`) before any `--` that ends the options. */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((arg) => arg === "--help" || arg === "-h");
}

async function serveCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseFlags(args, {
    config: { type: "string", short: "c" },
    host: { type: "string" },
    port: { type: "string", short: "p" },
    "no-auth": { type: "boolean", default: false },
  });
  // Said as the flag it is: left to the config check, it would be reported as a field of the
  // config (of `<embedded demo config>` for the demo), where the user never wrote it.
  if (values.host?.trim() === "") throw new UsageError("--host must not be empty");
  const hostProblem =
    values.host === undefined ? undefined : listenHostProblem(values.host, "--port");
  if (hostProblem !== undefined) throw new UsageError(`--host ${hostProblem}`);
  checkConfigFlag(values.config);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65_535) {
      throw new UsageError(`--port must be a number from 0 to 65535 (got "${values.port}")`);
    }
  }
  const logger = createJsonLogger({
    level: logLevelFromEnv(io.env.HERALD_LOG_LEVEL),
    write: io.stderr,
  });
  const asked = io.env.HERALD_LOG_LEVEL?.trim().toLowerCase();
  if (asked && asked !== logLevelFromEnv(asked)) {
    io.stderr(
      `herald: HERALD_LOG_LEVEL=${io.env.HERALD_LOG_LEVEL} is not one of debug, info, warn, error, silent; using info\n`,
    );
  }
  // SIGHUP reloads the config (subscriptions swap atomically; a bad file is refused and logged).
  // The handler is installed before the server starts: without one, a SIGHUP sent as soon as
  // the `listening` line appears would end the process (the signal's default action).
  let reload: (() => Promise<boolean>) | undefined;
  let hangupBeforeReady = false;
  const onHangup = () => {
    if (reload === undefined) {
      hangupBeforeReady = true;
      return;
    }
    reload().catch((error: unknown) => {
      logger.error("config reload failed", {
        error: error instanceof Error ? error.message : String(error),
      });
    });
  };
  process.on("SIGHUP", onHangup);
  // So are the stop signals': one that arrives while starting stops the server once it is up.
  const stop = stopSignal();
  let server: RunningServer;
  try {
    // Loaded here, not at the top: `herald --version`, `token`, `send` and the rest start in a
    // fraction of the time without the gateway, its stores and their clients.
    const { serve } = await import("./serve.js");
    server = await serve({
      ...(values.config === undefined ? {} : { configPath: values.config }),
      ...(values.host === undefined ? {} : { host: values.host }),
      ...(port === undefined ? {} : { port }),
      noAuth: values["no-auth"] === true,
      cwd: io.cwd,
      env: io.env,
      logger,
      print: io.stdout,
      note: io.stderr,
      stop: stop.signal,
    });
  } catch (error) {
    process.off("SIGHUP", onHangup);
    stop.dispose();
    // Stopped while waiting for the store: nothing was accepted, so a stop like any other.
    if (stop.signal.aborted) {
      logger.info("stopped before the gateway was ready", {
        reason: error instanceof Error ? error.message : String(error),
      });
      return 0;
    }
    throw error;
  }
  reload = () => server.reload();
  if (hangupBeforeReady) onHangup();
  const signal = await stop.signalled;
  process.off("SIGHUP", onHangup);
  // Still handled while draining: without a handler SIGHUP's default action would end the
  // process mid-drain (deliveries in flight, their replies and receipts, a memory store's queue).
  const hangupWhileStopping = () =>
    logger.warn("SIGHUP ignored: the gateway is shutting down; the config is not reloaded");
  process.on("SIGHUP", hangupWhileStopping);
  logger.info("shutting down", { signal });
  // A second signal while draining means "now".
  // Said before exiting: without it the log ended at "shutting down", as if the drain had hung.
  const force = (second: NodeJS.Signals) => {
    logger.warn(
      "second signal while draining: exiting at once (status 1); the work in flight is cut short (SQLite, NATS: its jobs stay queued for the next start; memory store: lost)",
      { signal: second },
    );
    process.exit(1);
  };
  process.once("SIGTERM", force);
  process.once("SIGINT", force);
  try {
    await server.close();
  } finally {
    process.off("SIGTERM", force);
    process.off("SIGINT", force);
    process.off("SIGHUP", hangupWhileStopping);
  }
  logger.info("stopped");
  return 0;
}

async function validateCommand(args: readonly string[], io: Io): Promise<number> {
  const { values } = parseFlags(args, { config: { type: "string", short: "c" } });
  checkConfigFlag(values.config);
  const path = resolve(io.cwd, values.config ?? "herald.yaml");
  if (values.config === undefined && !existsSync(path)) {
    // Said with the file that is there, if there is a herald.json or herald.yml.
    throw new ServeError(
      `config file not found: ${path}\n${lookalikeNote(configLookalikes(io.cwd))}`.trimEnd(),
    );
  }
  const text = await readConfigText(path);
  const config = parseConfig(text, path, io.env);
  // The files it names, as `serve` reads them: a valid config also starts.
  const issues = await checkConfigFiles(config, path, text);
  if (issues.length > 0) throw new ConfigInvalid(issues);
  const count = config.subscriptions.length;
  io.stdout(`${path}: valid (${count} subscription${count === 1 ? "" : "s"})\n`);
  // Valid, and serve starts with them, but probably not meant: said, not fatal.
  for (const warning of [
    ...configWarnings(config, path, text),
    ...(await unusableKeyWarnings(config, dirname(path), path, text)),
  ]) {
    io.stderr(`herald: warning: ${formatConfigIssue(warning)}\n`);
  }
  if (config.auth === undefined) {
    io.stderr(
      "herald: note: this config has no auth section; `herald serve` starts it only with --no-auth (development only)\n",
    );
  }
  return 0;
}

function version(): string {
  const pkg = JSON.parse(
    readFileSync(new URL("../../../package.json", import.meta.url), "utf8"),
  ) as { version: string };
  return pkg.version;
}

/**
 * The first SIGINT or SIGTERM, as an `AbortSignal` (for `tail`) and as a promise of its name (for
 * `serve`); both listeners go after it, or with `dispose()`.
 */
function stopSignal(): {
  readonly signal: AbortSignal;
  readonly signalled: Promise<NodeJS.Signals>;
  dispose(): void;
} {
  const controller = new AbortController();
  let signalled: (name: NodeJS.Signals) => void = () => {};
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    signalled = resolve;
  });
  const dispose = () => {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  };
  function stop(name: NodeJS.Signals) {
    dispose();
    controller.abort();
    signalled(name);
  }
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return { signal: controller.signal, signalled: promise, dispose };
}
