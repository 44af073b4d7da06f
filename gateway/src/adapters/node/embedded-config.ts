import type { JSONWebKeySet } from "jose";
import { DEV_AUDIENCE, DEV_ISSUER } from "./dev-issuer.js";

/** The subject of the token the demo prints; the demo's one publisher rule names it. */
export const DEMO_SUBJECT = "demo";
/** How long the printed demo token lasts: a working day of trying things out. */
export const DEMO_TOKEN_TTL_SECONDS = 86_400;

export interface EmbeddedConfigOptions {
  /** The demo sink's URL. */
  readonly sinkUrl: string;
  readonly host: string;
  readonly port: number;
  /** The dev issuer's public keys: the only tokens the demo trusts. */
  readonly jwks: JSONWebKeySet;
}

/**
 * The config `herald serve` uses when there is no `herald.yaml`: a demo whose one subscription
 * sends every event to the built-in demo sink, which prints it. Publishers need a token from the
 * local dev issuer: sub `demo` may publish anything, scope `herald:admin` administers.
 *
 * @example
 * const issuer = await loadOrCreateDevIssuer(cwd);
 * parseConfig(embeddedConfig({ sinkUrl, host: "127.0.0.1", port: 8080, jwks: issuer.publicJwks }),
 *   "<embedded demo config>");
 */
export function embeddedConfig(options: EmbeddedConfigOptions): string {
  const { sinkUrl, host, port, jwks } = options;
  return JSON.stringify({
    listen: { host, port },
    // DESIGN.md: the demo keeps its events in the SQLite store under ./.herald, like a real setup.
    store: { kind: "sqlite", path: ".herald/herald.db" },
    auth: {
      issuers: [
        {
          issuer: DEV_ISSUER,
          audience: DEV_AUDIENCE,
          jwks: { keys: jwks.keys },
          algorithms: ["ES256"],
        },
      ],
      publishers: [{ claims: { sub: DEMO_SUBJECT }, sources: ["*"], types: ["*"] }],
      admins: [{ claims: { scope: "herald:admin" } }],
    },
    subscriptions: [{ id: "demo", sink: sinkUrl, protocolsettings: { headers: {} } }],
  });
}

/**
 * The curl command the demo suggests: one binary-mode event, carrying `token` as its bearer token
 * (none when `token` is `undefined`: the demo runs with `--no-auth`).
 *
 * @example
 * demoCurl("http://127.0.0.1:8080", token);
 */
export function demoCurl(baseUrl: string, token: string | undefined): string {
  return [
    `curl -i ${baseUrl}/events \\`,
    ...(token === undefined ? [] : [`  -H "Authorization: Bearer ${token}" \\`]),
    "  -H 'ce-specversion: 1.0' -H 'ce-id: demo-1' -H 'ce-source: /demo' \\",
    "  -H 'ce-type: com.example.demo.greeting' -H 'content-type: application/json' \\",
    `  -d '{"hello":"world"}'`,
  ].join("\n");
}

/**
 * What the demo prints after its `herald listening on ...` line: what it is, a ready token for
 * sub `demo` and a curl command that uses it. With `token` `undefined` (`--no-auth`) it says that
 * no token is needed instead, and the curl sends none: telling people to fetch a token the
 * gateway does not ask for would only mislead them.
 *
 * @example
 * print(demoHint("http://127.0.0.1:8080", token));
 */
export function demoHint(baseUrl: string, token: string | undefined): string {
  const intro =
    "No herald.yaml here, so this is the embedded demo: every event goes to a built-in sink that prints it.";
  const tokenLines =
    token === undefined
      ? [
          "Authentication is off (--no-auth): events need no bearer token, and the admin routes are open.",
        ]
      : [
          `Publishing needs a bearer token. Here is one for sub "${DEMO_SUBJECT}", valid for 24h, from the local dev`,
          "issuer (its key is in ./.herald; mint more with `npx herald token --sub NAME`, and add",
          "`--scope herald:admin` for the admin routes):",
          "",
          token,
        ];
  return ["", intro, ...tokenLines, "", "Try:", "", demoCurl(baseUrl, token), "", ""].join("\n");
}
