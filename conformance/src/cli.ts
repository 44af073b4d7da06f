import { parseArgs } from "node:util";
import { conformanceConfig, conformanceConfigYaml } from "./config/conformance-config.js";
import { formatReport } from "./report.js";
import { runConformance } from "./run-conformance.js";

/** Where the CLI writes. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** The `--help` text. */
export const USAGE = `Usage:
  herald-conformance --url URL [options]      run the suite against a gateway
  herald-conformance config --sink URL [--json]
                                              print the target config for a sink URL

Run options:
  --url URL            base URL of the gateway (POST URL/events, POST URL/)
  --sink-port N        port of the suite's sink (default 0: ephemeral; the gateway's
                       subscriptions must point at it, so fix it when the config is static)
  --sink-host H        interface the sink binds (default 127.0.0.1)
  --data DIR           cloudevents/conformance data (default <repo>/../shared/conformance-data/http)
  --no-data            skip the official cases
  --token T            send Authorization: Bearer T
  --timeout MS         bound on each wait for a delivery (default 5000)
  --only TEXT          run only cases whose name contains TEXT (repeatable)
  --json               print the report as JSON
Exit code: 0 all passed, 1 a case failed, 2 usage error.
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
    if (!values.sink) return usage(io, "config needs --sink URL");
    try {
      io.stdout(
        values.json
          ? `${JSON.stringify(conformanceConfig(values.sink), null, 2)}\n`
          : conformanceConfigYaml(values.sink),
      );
    } catch (err) {
      return usage(io, (err as Error).message);
    }
    return 0;
  }
  if (positionals.length > 0 && positionals[0] !== "run") {
    return usage(io, `unknown command ${positionals[0]}`);
  }
  if (!values.url) return usage(io, "--url is required");
  const sinkPort = numberOption(values["sink-port"]);
  const timeoutMs = numberOption(values.timeout);
  if (Number.isNaN(sinkPort) || Number.isNaN(timeoutMs))
    return usage(io, "--sink-port and --timeout take numbers");
  const only = values.only ?? [];
  const report = await runConformance(
    { url: values.url },
    {
      sinkPort,
      sinkHost: values["sink-host"],
      dataDir: values["no-data"] ? null : values.data,
      token: values.token,
      timeoutMs,
      only: only.length === 0 ? undefined : (name) => only.some((text) => name.includes(text)),
    },
  );
  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return report.failed === 0 ? 0 : 1;
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
      timeout: { type: "string" },
      only: { type: "string", multiple: true },
      json: { type: "boolean" },
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
