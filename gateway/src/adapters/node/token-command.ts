import { parseDuration } from "../../config/parse-duration.js";
import { DevIssuerInvalid, loadDevIssuer } from "./dev-issuer.js";
import { parseFlags } from "./parse-flags.js";
import { ServeError, UsageError } from "./serve-error.js";

export const TOKEN_USAGE = `  token       Mint a bearer token from the dev issuer in ./.herald (the embedded demo makes it)
                --sub NAME      the token's subject (required)
                --scope "A B"   space-separated scopes (herald:admin for the admin routes)
                --ttl D         lifetime: 15m, 1h, 24h or ISO 8601 (default 1h)
                --jwks          print the dev issuer's public keys (a JWKS) instead, for a
                                config that trusts it elsewhere (e.g. inline in a Worker's)`;

const DEFAULT_TTL = "1h";

/**
 * `herald token`: mints a token from the dev issuer in the current directory's `.herald/` and
 * prints only the token, so `TOKEN=$(herald token --sub demo)` works. It never creates an issuer
 * and never mints for any other: without a dev issuer it says how to make one, exit 1. With
 * `--jwks` it prints the issuer's public keys (never the private one) as a JWKS instead, for
 * `auth.issuers[].jwks` of a gateway that cannot read the key file (a Worker).
 *
 * @example
 * herald token --sub orders-service --scope "herald:admin" --ttl 15m
 */
export async function tokenCommand(
  args: readonly string[],
  io: { stdout: (t: string) => void; cwd: string },
): Promise<number> {
  const { values } = parseFlags(args, {
    sub: { type: "string" },
    scope: { type: "string" },
    ttl: { type: "string" },
    jwks: { type: "boolean", default: false },
  });
  if (values.jwks) {
    if (values.sub !== undefined || values.scope !== undefined || values.ttl !== undefined) {
      throw new UsageError(
        "--jwks prints the public keys only: leave out --sub, --scope and --ttl",
      );
    }
    const issuer = await devIssuerIn(io.cwd);
    io.stdout(`${JSON.stringify(issuer.publicJwks)}\n`);
    return 0;
  }
  const sub = values.sub?.trim();
  if (!sub) throw new UsageError("token needs --sub NAME (the token's subject)");
  const scope = values.scope?.trim().split(/\s+/).join(" ");
  if (scope === "") {
    throw new UsageError('--scope must name at least one scope, e.g. "herald:admin"');
  }
  const ttl = values.ttl ?? DEFAULT_TTL;
  const ttlMs = parseDuration(ttl);
  if (ttlMs === undefined || ttlMs < 1_000 || ttlMs % 1_000 !== 0) {
    throw new UsageError(
      `--ttl must be a whole number of seconds, at least 1s, such as 15m or 1h (got "${ttl}")`,
    );
  }
  const issuer = await devIssuerIn(io.cwd);
  const token = await issuer.mint({
    sub,
    ...(scope === undefined ? {} : { scope }),
    ttlSeconds: ttlMs / 1_000,
  });
  io.stdout(`${token}\n`);
  return 0;
}

/** The dev issuer of `cwd`'s `.herald/`; a `ServeError` saying how to make one when there is none. */
async function devIssuerIn(cwd: string) {
  const issuer = await loadDevIssuer(cwd).catch((err: unknown) => {
    if (err instanceof DevIssuerInvalid) throw new ServeError(err.message);
    throw err;
  });
  if (issuer === undefined) {
    throw new ServeError(
      "no dev issuer in ./.herald; run `herald serve` once without a config to create it",
    );
  }
  return issuer;
}
