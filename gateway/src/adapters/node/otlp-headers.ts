/**
 * `OTEL_EXPORTER_OTLP_HEADERS` (and its `_TRACES_`/`_METRICS_` forms) as the OTLP exporters read
 * it (`parseKeyPairsIntoRecord` of `@opentelemetry/core`): `name=value` entries separated by
 * commas, each percent-decoded, and whatever follows a `;` in an entry dropped.
 */

/** What an entry the exporters would mangle or choke on is told as, and what is kept. */
export interface CheckedHeaders {
  /** The entries that the exporters can send as written, in order; `undefined` when none. */
  readonly kept: string | undefined;
  /** One line per entry not kept or not sent whole; never the entry's text. */
  readonly warnings: readonly string[];
}

/** RFC 9110 5.1 `token`: what a header name may hold. Node refuses any other name. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 5.5 field-value characters, as Node's `http` checks them. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Checks the entries of a headers variable. An entry the exporters cannot send is dropped from
 * what they get, with a warning: a name that is not an HTTP token (`Authorization: Bearer
 * abc=` is a name of `Authorization: Bearer abc`) makes Node refuse every export with an error
 * that quotes that name, the credential included, into the log. The SDK drops entries without
 * `=` or with bad percent-encoding without a word; they are named here too. A warning says
 * which entry (by its place) and what is wrong, never its text: it may hold a credential.
 *
 * @example
 * checkOtlpHeaders("OTEL_EXPORTER_OTLP_HEADERS", "Authorization: Bearer abc=,api-key=k");
 * // { kept: "api-key=k", warnings: ['OTEL_EXPORTER_OTLP_HEADERS: entry 1 ...'] }
 */
export function checkOtlpHeaders(variable: string, raw: string): CheckedHeaders {
  const entries = raw.split(",");
  const kept: string[] = [];
  const warnings: string[] = [];
  const warn = (index: number, problem: string) =>
    warnings.push(
      `${variable}: entry ${index + 1} ${problem} (its text is not shown: it may hold a credential)`,
    );
  entries.forEach((entry, index) => {
    if (entry.trim() === "") return;
    const cut = entry.indexOf(";");
    const pair = cut === -1 ? entry : entry.slice(0, cut);
    const equals = pair.indexOf("=");
    const name = equals <= 0 ? "" : decoded(pair.slice(0, equals).trim());
    const value = equals <= 0 ? "" : decoded(pair.slice(equals + 1).trim());
    if (name === "" || value === "") {
      warn(index, "is not name=value; it is not sent");
    } else if (name === undefined || value === undefined) {
      warn(index, "is not valid percent-encoding; it is not sent");
    } else if (!HEADER_NAME.test(name)) {
      warn(index, "has a name that is not an HTTP header name (write name=value); it is not sent");
    } else if (!HEADER_VALUE.test(value)) {
      warn(index, `("${name}") has a control character in its value; it is not sent`);
    } else {
      if (cut !== -1) {
        warn(index, `("${name}") is sent only up to its ';' (write it as %3B)`);
      }
      kept.push(entry);
    }
  });
  return { kept: kept.length === 0 ? undefined : kept.join(","), warnings };
}

/** Shorter pieces are not masked: they would blank out ordinary words of a message. */
const MIN_SECRET_LENGTH = 6;

/**
 * The credentials the OTLP exporters send, for masking what a collector echoes back into an
 * error answer (`invalid key: <key>`): each header value of the header variables (raw and
 * percent-decoded, and each blank-separated part, the key of `Bearer <key>`), and the user,
 * password and query values of the endpoint variables. Longest first, so a value is masked
 * whole before any part of it.
 *
 * @example
 * otlpSecrets({ OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer abc123def" });
 * // ["Bearer abc123def", "abc123def"]
 */
export function otlpSecrets(env: Readonly<Record<string, string | undefined>>): string[] {
  const found = new Set<string>();
  const add = (text: string | undefined) => {
    if (text === undefined) return;
    for (const piece of [text.trim(), ...text.split(/\s+/)]) {
      if (piece.length >= MIN_SECRET_LENGTH) found.add(piece);
    }
  };
  for (const signal of ["", "TRACES_", "METRICS_"]) {
    const headers = env[`OTEL_EXPORTER_OTLP_${signal}HEADERS`];
    for (const entry of headers?.split(",") ?? []) {
      const equals = entry.indexOf("=");
      if (equals <= 0) continue;
      const value = entry.slice(equals + 1);
      add(value);
      add(decoded(value));
      const cut = value.indexOf(";");
      if (cut !== -1) add(decoded(value.slice(0, cut)));
    }
    const endpoint = env[`OTEL_EXPORTER_OTLP_${signal}ENDPOINT`]?.trim();
    if (endpoint === undefined || !URL.canParse(endpoint)) continue;
    const url = new URL(endpoint);
    for (const part of [url.username, url.password]) {
      add(part);
      add(decoded(part));
    }
    for (const [, value] of url.searchParams) add(value);
  }
  return [...found].sort((a, b) => b.length - a.length);
}
