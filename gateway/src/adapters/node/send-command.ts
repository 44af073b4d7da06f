import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseDuration } from "../../config/parse-duration.js";
import { encodeHeaderValue } from "../../deliver/percent-encode.js";
import { callGateway } from "./call-gateway.js";
import { parseFlags } from "./parse-flags.js";
import { ServeError, UsageError } from "./serve-error.js";

export const SEND_USAGE = `  send        Send one test event (binary mode) and print the answer
                --url URL            gateway base URL (default http://127.0.0.1:8080)
                --type T --source S  required attributes (--id defaults to a random UUID)
                --subject S          optional subject
                --data TEXT|@FILE    the data; JSON unless --content-type says otherwise
                --content-type CT    datacontenttype (default application/json with --data)
                --attr NAME=VALUE    any other attribute or extension (repeatable)
                --token T            bearer token
                --timeout D          how long to wait for the answer (default 30s)`;

/** The attributes `send` has a flag of its own for, by the flag's name. */
const FLAG_OF = [
  ["type", "type"],
  ["source", "source"],
  ["id", "id"],
  ["subject", "subject"],
  ["datacontenttype", "content-type"],
] as const;

/** The longest `--timeout`: 24 days, within the 2^31-1 ms a Node timer holds. */
const MAX_TIMEOUT_MS = 24 * 86_400_000;

/**
 * `herald send`: posts one binary-mode event and prints the status and, for a refusal, the
 * problem document. Exit 0 when the gateway accepted it, 1 otherwise.
 *
 * @example
 * herald send --type com.example.demo --source /demo --data '{"hello":"world"}'
 */
export async function sendCommand(
  args: readonly string[],
  io: { stdout: (t: string) => void; stderr: (t: string) => void; cwd: string },
): Promise<number> {
  const { values } = parseFlags(args, {
    url: { type: "string", default: "http://127.0.0.1:8080" },
    type: { type: "string" },
    source: { type: "string" },
    id: { type: "string" },
    subject: { type: "string" },
    data: { type: "string" },
    "content-type": { type: "string" },
    attr: { type: "string", multiple: true },
    token: { type: "string" },
    timeout: { type: "string", default: "30s" },
  });
  if (!values.type || !values.source) throw new UsageError("send needs --type and --source");
  // Most likely an unset variable (`--token "$TOKEN"`): said, not sent without a token.
  if (values.token?.trim() === "") throw new UsageError("--token must not be empty");
  const timeoutMs = parseDuration(values.timeout);
  if (timeoutMs === undefined || timeoutMs <= 0) {
    throw new UsageError(
      `--timeout must be a duration such as 500ms, 10s or 1m (got "${values.timeout}")`,
    );
  }
  // Node keeps no timer past 2^31-1 ms (24.8 days): a longer one fired after 1 ms, which said
  // "no answer within 597h" at once.
  if (timeoutMs > MAX_TIMEOUT_MS) {
    throw new UsageError(`--timeout must be at most 24 days (got "${values.timeout}")`);
  }
  const attributes: Record<string, string> = {
    specversion: "1.0",
    id: values.id ?? crypto.randomUUID(),
    source: values.source,
    type: values.type,
  };
  if (values.subject !== undefined) attributes.subject = values.subject;
  let contentType = values["content-type"];
  // An attribute is given once: an --attr repeating one a flag (or an earlier --attr) gave is
  // refused, as a flag given twice is, rather than sent in place of what the flag said.
  const given = new Map<string, string>();
  for (const [name, flag] of FLAG_OF) if (values[flag] !== undefined) given.set(name, `--${flag}`);
  for (const pair of values.attr ?? []) {
    const eq = pair.indexOf("=");
    const name = pair.slice(0, eq);
    if (eq <= 0 || !/^[a-z0-9]+$/.test(name)) {
      throw new UsageError(
        `--attr must look like name=value with a lower-case a-z0-9 name (got "${pair}")`,
      );
    }
    const earlier = given.get(name);
    if (earlier === "--attr") {
      throw new UsageError(`--attr ${name}=... is given twice; give each attribute once`);
    }
    if (earlier !== undefined) {
      throw new UsageError(`--attr ${name}=... gives the ${name} again; ${earlier} gives it`);
    }
    given.set(name, "--attr");
    // Binary mode carries datacontenttype as Content-Type (HTTP binding 3.1.1).
    if (name === "datacontenttype") contentType = pair.slice(eq + 1);
    else attributes[name] = pair.slice(eq + 1);
  }
  const headers = new Headers();
  for (const [name, value] of Object.entries(attributes)) {
    headers.set(`ce-${name}`, encodeHeaderValue(value));
  }
  if (values.token) headers.set("authorization", `Bearer ${values.token}`);
  let body: Uint8Array | string | undefined;
  if (values.data !== undefined) {
    body = values.data.startsWith("@") ? await dataFile(io.cwd, values.data.slice(1)) : values.data;
    headers.set("content-type", contentType ?? "application/json");
    // JSON is the default: say so before sending data that is not, rather than deliver it.
    if (contentType === undefined && !isJson(body)) {
      // A flag given a value it cannot take: a usage error (exit 2), as the README's exit codes say.
      throw new UsageError(
        "--data is not JSON; fix it, or say what it is with --content-type (e.g. text/plain)",
      );
    }
  } else if (contentType) {
    headers.set("content-type", contentType);
  }
  const url = ingestUrl(values.url);
  const response = await callGateway(
    url,
    { method: "POST", headers, body: (body ?? null) as BodyInit | null },
    { ms: timeoutMs, text: values.timeout },
  );
  const text = await response.text();
  const line = `${response.status} ${response.statusText} (id ${attributes.id})\n`;
  if (response.ok) {
    io.stdout(line);
    return 0;
  }
  io.stderr(`${line}${text}\n`);
  return 1;
}

function isJson(data: string | Uint8Array): boolean {
  try {
    JSON.parse(
      typeof data === "string" ? data : new TextDecoder("utf-8", { fatal: true }).decode(data),
    );
    return true;
  } catch {
    return false;
  }
}

/** The bytes of `--data @FILE`; a file that cannot be read is a one-line CLI error. */
async function dataFile(cwd: string, path: string): Promise<Uint8Array> {
  try {
    return await readFile(resolve(cwd, path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "file not found" : code === "EISDIR" ? "a directory" : code;
    throw new ServeError(`--data @${path}: cannot read it (${why ?? (err as Error).message})`);
  }
}

/** `--url` is the gateway's base URL (a path prefix is kept) or its full `/events` URL. */
function ingestUrl(base: string): URL {
  const url = URL.canParse(base) ? new URL(base) : undefined;
  // Another scheme parses too, and fetch would fail on it with "unknown scheme".
  if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
    throw new UsageError(`--url must be an absolute http(s) URL (got "${base}")`);
  }
  // Trailing slashes first, as `tail` reads its --url: `.../events/` is the ingest URL too, not a
  // prefix to add `/events` to (that posted to `/events/events`, a 404).
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith("/events") ? path : `${path}/events`;
  return url;
}
