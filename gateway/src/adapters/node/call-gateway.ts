import { ServeError } from "./serve-error.js";

/**
 * How long a command waits for a gateway's answer: undici's own limit is 5 minutes for the
 * headers and none for the body, so a `--url` that accepts connections and never answers (a
 * stopped process, a wrong port behind a proxy) left `send` and `tail` hanging.
 */
const DEFAULT_TIMEOUT = { ms: 30_000, text: "30s" };

/**
 * `fetch` for the CLI commands that talk to a gateway (`send`, `tail`): a gateway that cannot be
 * reached is a one-line `ServeError` naming the URL and the cause, not a stack trace.
 *
 * A redirect is not followed but said, with where it points: fetch turns a POST answered 301 or
 * 302 into a GET without its body, so `send` printed the 2xx of a page instead of a refusal
 * while no event was published (and a followed redirect may carry the token to another host).
 *
 * @example
 * const res = await callGateway("http://127.0.0.1:8080/events", { method: "POST", headers });
 * const soon = await callGateway(url, { method: "POST" }, { ms: 5_000, text: "5s" });
 */
export async function callGateway(
  url: string | URL,
  init: RequestInit,
  timeout: { readonly ms: number; readonly text: string } = DEFAULT_TIMEOUT,
): Promise<Response> {
  let response: Response;
  try {
    const limit = AbortSignal.timeout(timeout.ms);
    response = await fetch(url, {
      ...init,
      redirect: "manual",
      // The caller's own signal (Ctrl-C) ends it too; the timeout covers the body as well.
      signal: init.signal ? AbortSignal.any([init.signal, limit]) : limit,
    });
  } catch (err) {
    if ((err as Error).name === "AbortError")
      throw new ServeError(`stopped before ${url} answered`);
    if ((err as Error).name === "TimeoutError") {
      throw new ServeError(
        `no answer from ${url} within ${timeout.text}; is --url a Herald gateway?`,
      );
    }
    const cause = (err as Error).cause ?? (err as Error).message;
    // `fetch` never connects to the Fetch standard's "bad ports" (6000, 6665-6669, ...) and says
    // only "bad port": a gateway serving on one is reachable by curl, not by this command.
    if (cause instanceof Error && cause.message === "bad port") {
      throw new ServeError(
        `cannot reach ${url}: fetch refuses port ${new URL(url).port}, a port browsers block ("bad ports" of the Fetch standard); serve the gateway on another port`,
      );
    }
    throw new ServeError(`cannot reach ${url}: ${cause}`);
  }
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    const location = response.headers.get("location");
    const to =
      location === null
        ? ""
        : ` to ${URL.canParse(location, url) ? new URL(location, url) : location}`;
    // The status line and `Location` are the server's words: printed safely.
    const answered = printable(`${response.status} ${response.statusText}, a redirect${to}`);
    throw new ServeError(
      `${url} answered ${answered}; herald does not follow redirects: give --url the gateway's own address`,
    );
  }
  return response;
}

/** The most of a refusal's body read (`problemText`): a problem document is a few hundred bytes. */
export const PROBLEM_MAX_BYTES = 64 * 1024;

/**
 * A refusal as one line: a problem document's `status code: detail` (its `title` when it has no
 * `detail`), or the status line. At most `PROBLEM_MAX_BYTES` of the body are read and the rest is
 * cancelled: an endpoint answering an endless body (broken or hostile) would otherwise fill
 * memory until the command's timeout. A document cut there still gives its `code`, `title` and
 * `detail` when they come before the cut.
 *
 * @example
 * io.stderr(`herald: the gateway refused it: ${await problemText(res)}\n`);
 */
export async function problemText(res: Response): Promise<string> {
  const { text, whole } = await readAtMost(res, PROBLEM_MAX_BYTES);
  const problem = whole ? parseProblem(text) : problemFields(text);
  if (
    problem === undefined ||
    (!whole && problem.detail === undefined && problem.title === undefined)
  ) {
    const cut = whole ? "" : ` (its body was not read past ${PROBLEM_MAX_BYTES / 1024} KiB)`;
    return printable(`${res.status} ${res.statusText}${cut}`);
  }
  return printable(
    `${res.status} ${problem.code ?? ""}: ${problem.detail ?? problem.title ?? text}`,
  );
}

/**
 * `text` safe to print on a terminal, on one line: control characters (C0, DEL, C1: an escape
 * sequence, a newline, a carriage return) and the Unicode ones that break or reorder lines are
 * written as escapes (`\n`, `\u001b`). What a server says (a refusal's `detail`) is not trusted:
 * raw, it could recolour or retitle the terminal, clear it, or forge lines of output.
 *
 * @example
 * printable("no\u001b[2J room\n"); // "no\\u001b[2J room\\n"
 */
export function printable(text: string): string {
  return text.replace(
    /[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu,
    (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

const ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

interface ProblemFields {
  code?: string;
  title?: string;
  detail?: string;
}

function parseProblem(text: string): ProblemFields | undefined {
  try {
    const problem = JSON.parse(text) as unknown;
    if (typeof problem !== "object" || problem === null) return undefined;
    const { code, title, detail } = problem as Record<string, unknown>;
    return {
      ...(typeof code === "string" ? { code } : {}),
      ...(typeof title === "string" ? { title } : {}),
      ...(typeof detail === "string" ? { detail } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The `code`, `title` and `detail` strings of a JSON object cut short, found before the cut. */
function problemFields(text: string): ProblemFields | undefined {
  if (!text.trimStart().startsWith("{")) return undefined;
  const fields: ProblemFields = {};
  for (const [, name, literal] of text.matchAll(
    /"(code|title|detail)"\s*:\s*("(?:[^"\\]|\\.)*")/g,
  )) {
    try {
      fields[name as keyof ProblemFields] ??= JSON.parse(literal as string) as string;
    } catch {
      // A string with a bad escape: left out.
    }
  }
  return fields;
}

/**
 * The body's first `max` bytes as text, then the rest cancelled (`whole`: it ended within them).
 * A body that fails midway (a cut connection, the timeout) gives what came before.
 */
async function readAtMost(res: Response, max: number): Promise<{ text: string; whole: boolean }> {
  if (res.body === null) return { text: "", whole: true };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let whole = false;
  try {
    while (length < max) {
      const read = await reader.read();
      if (read.done) {
        whole = true;
        break;
      }
      chunks.push(read.value);
      length += read.value.length;
    }
  } catch {
    // What came before the failure is all there is.
  } finally {
    if (!whole) void reader.cancel().catch(() => undefined);
  }
  const bytes = Buffer.concat(chunks).subarray(0, max);
  // A UTF-8 sequence cut at the bound decodes as U+FFFD.
  return { text: bytes.toString("utf8"), whole };
}
