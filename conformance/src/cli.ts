import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { ConformanceAuth } from "./auth/conformance-auth.js";
import {
  type ConformanceConfigOptions,
  conformanceConfig,
  conformanceConfigYaml,
  type InlineJwks,
} from "./config/conformance-config.js";
import { formatResult, formatSummary } from "./report.js";
import { conformanceCaseNames, runConformance } from "./run-conformance.js";

/** Where the CLI writes. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** The `--help` text. */
export const USAGE = `Usage:
  herald-conformance --url URL [options]      run the suite against a gateway
  herald-conformance --list [--only TEXT]... [--skip TEXT]... [--no-data | --data DIR] [--token T ...]
                                              print the names of the cases a run would report
  herald-conformance config --sink URL [--json] [--no-herald]
      [--auth-jwks FILE|URL --issuer I --audience A [--sub S] [--admin-sub S]]
                                              print the target config for a sink URL

Config options:
  --sink URL           base URL the suite's sink will listen on
  --auth-jwks FILE|URL add an auth section trusting this issuer: a public JWKS file (written
                       inline) or an http(s) JWKS URL; needs --issuer and --audience
  --issuer I           the iss of the suite's tokens
  --audience A         the aud of the suite's tokens
  --sub S              the sub the publisher rule allows (default conformance)
  --admin-sub S        the sub the auth.admins rule allows (default: --sub)
  --no-herald          leave out what only Herald reads (the on-success subscriptions, the
                       mapping adapter), for another gateway; run it with --skip herald:

Run options:
  --url URL            base URL of the gateway (POST URL/events, POST URL/)
  --sink-port N        port of the suite's sink (default 0: ephemeral; the gateway's
                       subscriptions must point at it, so fix it when the config is static)
  --sink-host H        interface the sink binds (default 127.0.0.1)
  --data DIR           cloudevents/conformance data, the conformance-data folder or its http
                       (default $HERALD_CONFORMANCE_DATA, else <repo>/../shared/conformance-data/http)
  --no-data            skip the official cases
  --token T            the target authenticates publishers: send Authorization: Bearer T
                       on every request and run the auth cases (401s, access_token,
                       provenance); T must be allowed every source and type
  --sub S              the authid the target must write (default: T's sub claim)
  --admin-token T      the token for the Subscriptions API (/subscriptions; default: --token);
                       when it differs, also check that --token alone gets a 403 there
  --foreign-token T    also check that the target refuses T with 401 invalid_token
  --outside-source S   also check that an event with source S gets a 403
  --outside-type T     also check that an event with type T gets a 403
  --timeout MS         bound on each wait for a delivery (default 5000, 1 to 2147483647)
  --request-timeout MS bound on each request to the target (default 10000, same range)
  --only TEXT          run only cases whose name contains TEXT (repeatable; the setup
                       check always runs)
  --skip TEXT          leave out cases whose name contains TEXT (repeatable; after --only);
                       --skip herald: runs only what DESIGN.md and the specs require
  --list               print the case names (after --only, --skip) instead of running them
  --json               print the report as JSON (at the end; without it each case is
                       printed as it finishes)
Exit code: 0 all passed, 1 a case failed, 2 usage error or the suite cannot start (its sink's
port is taken), 141 the reader of its output went away (| head).
`;

/**
 * The `herald-conformance` command. Returns the exit code.
 *
 * @example
 * process.exitCode = await main(process.argv.slice(2), {
 *   stdout: (t) => process.stdout.write(t),
 *   stderr: (t) => process.stderr.write(t),
 * });
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    io.stderr(`herald-conformance: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals[0] === "config") {
    const runOnly = given(values, RUN_ONLY);
    if (runOnly.length > 0)
      return usage(io, `${runOnly.join(", ")} ${goes(runOnly)} with a run, not config`);
    if (!values.sink) return usage(io, "config needs --sink URL");
    try {
      const options = {
        ...(await configOptions(values)),
        ...(values["no-herald"] ? { herald: false } : {}),
      };
      io.stdout(
        values.json
          ? `${JSON.stringify(conformanceConfig(values.sink, options), null, 2)}\n`
          : conformanceConfigYaml(values.sink, options),
      );
    } catch (err) {
      return usage(io, (err as Error).message);
    }
    return 0;
  }
  if (positionals.length > 0 && positionals[0] !== "run") {
    return usage(io, `unknown command ${positionals[0]}`);
  }
  const configOnly = given(values, CONFIG_ONLY);
  if (configOnly.length > 0) {
    return usage(
      io,
      `${configOnly.join(", ")} ${goes(configOnly)} with config, not a run` +
        (values.sink === undefined ? "" : " (the run's sink listens on --sink-port)"),
    );
  }
  if (values["no-data"] && values.data !== undefined) {
    return usage(io, "--data and --no-data contradict each other: give one");
  }
  const run = values.list ? undefined : runOptions(values);
  if (typeof run === "string") return usage(io, run);
  const auth = runAuth(values);
  if (typeof auth === "string") return usage(io, auth);
  const only = values.only ?? [];
  const skip = values.skip ?? [];
  const selection = {
    dataDir: values["no-data"] ? null : values.data,
    auth,
    only:
      only.length === 0 && skip.length === 0
        ? undefined
        : (name: string) =>
            (only.length === 0 || only.some((t) => name.includes(t))) &&
            !skip.some((t) => name.includes(t)),
  };
  const names = await conformanceCaseNames(selection);
  // Only the setup check is left: the filter matched nothing, most likely a typo.
  if (only.length > 0 && names.length === 1 && !only.some((t) => names[0]?.includes(t))) {
    return usage(io, `--only ${only.map((t) => JSON.stringify(t)).join(", ")} matched no case`);
  }
  if (skip.length > 0 && names.length === 1) {
    return usage(io, `--skip ${skip.map((t) => JSON.stringify(t)).join(", ")} left no case`);
  }
  if (run === undefined) {
    io.stdout(names.map((name) => `${name}\n`).join(""));
    return 0;
  }
  let report: Awaited<ReturnType<typeof runConformance>>;
  try {
    report = await runConformance(
      { url: run.url },
      {
        ...selection,
        sinkPort: run.sinkPort,
        sinkHost: values["sink-host"],
        timeoutMs: run.timeoutMs,
        requestTimeoutMs: run.requestTimeoutMs,
        // A run against a gateway that times out on every case takes minutes: show progress.
        ...(values.json ? {} : { onResult: (result) => io.stdout(formatResult(result)) }),
      },
    );
  } catch (err) {
    // The cases catch their own failures; what lands here stopped the run before the first one
    // (the sink's port is taken, say), so it is reported like a usage error, not as a stack trace.
    io.stderr(`herald-conformance: ${(err as Error).message}\n`);
    return 2;
  }
  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatSummary(report));
  return report.failed === 0 ? 0 : 1;
}

/** Options only `config` reads (`--sub` goes with both). */
const CONFIG_ONLY = ["sink", "auth-jwks", "issuer", "audience", "admin-sub", "no-herald"] as const;
/** Options only a run (or `--list`) reads. */
const RUN_ONLY = [
  "url",
  "sink-port",
  "sink-host",
  "data",
  "no-data",
  "token",
  "admin-token",
  "foreign-token",
  "outside-source",
  "outside-type",
  "timeout",
  "request-timeout",
  "only",
  "skip",
  "list",
] as const;

/** The options of `names` that were given, as flags: a command that ignores them says so. */
function given(values: Values, names: readonly (keyof Values)[]): string[] {
  return names.filter((name) => values[name] !== undefined).map((name) => `--${name}`);
}

function goes(flags: readonly string[]): string {
  return flags.length === 1 ? "goes" : "go";
}

/** The longest delay a Node timer honours. */
const MAX_TIMER_MS = 2_147_483_647;

type Values = ReturnType<typeof parse>["values"];

/** The target and the numbers of a run, or a usage message. */
function runOptions(values: Values):
  | {
      url: string;
      sinkPort?: number | undefined;
      timeoutMs?: number | undefined;
      requestTimeoutMs?: number | undefined;
    }
  | string {
  const { url } = values;
  if (!url) return "--url is required";
  if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) {
    return `--url must be an absolute http(s) URL (got "${url}")`;
  }
  const sinkPort = numberOption(values["sink-port"]);
  const timeoutMs = numberOption(values.timeout);
  const requestTimeoutMs = numberOption(values["request-timeout"]);
  if (Number.isNaN(sinkPort) || Number.isNaN(timeoutMs) || Number.isNaN(requestTimeoutMs)) {
    return "--sink-port, --timeout and --request-timeout take numbers";
  }
  if (sinkPort !== undefined && sinkPort > 65_535) {
    return `--sink-port must be from 0 to 65535 (got ${sinkPort})`;
  }
  // 0 ms fails every wait, and Node fires a timer of more than 2^31-1 ms after 1 ms.
  if (timeoutMs !== undefined && (timeoutMs < 1 || timeoutMs > MAX_TIMER_MS)) {
    return `--timeout must be from 1 to ${MAX_TIMER_MS} ms (got ${timeoutMs})`;
  }
  if (requestTimeoutMs !== undefined && (requestTimeoutMs < 1 || requestTimeoutMs > MAX_TIMER_MS)) {
    return `--request-timeout must be from 1 to ${MAX_TIMER_MS} ms (got ${requestTimeoutMs})`;
  }
  return { url, sinkPort, timeoutMs, requestTimeoutMs };
}

/** The run's auth settings, or a usage message. */
function runAuth(values: Values): ConformanceAuth | undefined | string {
  const { token, sub } = values;
  const adminToken = values["admin-token"];
  const foreignToken = values["foreign-token"];
  const source = values["outside-source"];
  const type = values["outside-type"];
  const extra = [sub, adminToken, foreignToken, source, type].some((v) => v !== undefined);
  if (token === undefined) {
    return extra
      ? "--sub, --admin-token, --foreign-token, --outside-source and --outside-type need --token"
      : undefined;
  }
  return {
    token,
    adminToken,
    sub,
    foreignToken,
    outsideRule: source === undefined && type === undefined ? undefined : { source, type },
  };
}

/** `config`'s options: limits stay the defaults; `--auth-jwks` adds the auth section. */
async function configOptions(values: Values): Promise<ConformanceConfigOptions> {
  const { issuer, audience, sub } = values;
  const adminSub = values["admin-sub"];
  const jwks = values["auth-jwks"];
  if (jwks === undefined) {
    if ([issuer, audience, sub, adminSub].some((v) => v !== undefined)) {
      throw new Error("--issuer, --audience, --sub and --admin-sub go with --auth-jwks");
    }
    return {};
  }
  if (issuer === undefined || audience === undefined) {
    throw new Error("--auth-jwks needs --issuer and --audience");
  }
  return { auth: { issuer, audience, sub, adminSub, jwks: await readJwks(jwks) } };
}

/** An http(s) URL is kept as it is; a file is read and its public JWKS written inline. */
async function readJwks(location: string): Promise<InlineJwks | string> {
  if (/^https?:\/\//i.test(location)) return location;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(location, "utf8"));
  } catch (err) {
    throw new Error(`cannot read the JWKS ${location}: ${(err as Error).message}`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === "object" && k !== null)) {
    throw new Error(`${location} is not a JWKS: expected { "keys": [ ... ] }`);
  }
  return { keys };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      url: { type: "string" },
      sink: { type: "string" },
      "sink-port": { type: "string" },
      "sink-host": { type: "string" },
      data: { type: "string" },
      "no-data": { type: "boolean" },
      token: { type: "string" },
      sub: { type: "string" },
      "admin-sub": { type: "string" },
      "admin-token": { type: "string" },
      "foreign-token": { type: "string" },
      "outside-source": { type: "string" },
      "outside-type": { type: "string" },
      "auth-jwks": { type: "string" },
      issuer: { type: "string" },
      audience: { type: "string" },
      timeout: { type: "string" },
      "request-timeout": { type: "string" },
      only: { type: "string", multiple: true },
      skip: { type: "string", multiple: true },
      "no-herald": { type: "boolean" },
      json: { type: "boolean" },
      list: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function numberOption(value: string | undefined): number | undefined {
  return value === undefined ? undefined : /^\d+$/.test(value) ? Number(value) : Number.NaN;
}

function usage(io: CliIo, message: string): number {
  io.stderr(`herald-conformance: ${message}\n\n${USAGE}`);
  return 2;
}
