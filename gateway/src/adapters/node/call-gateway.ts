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
    throw new ServeError(
      `${url} answered ${response.status} ${response.statusText}, a redirect${to}; herald does not follow redirects: give --url the gateway's own address`,
    );
  }
  return response;
}

/**
 * A refusal as one line: a problem document's `status code: detail`, or the status line.
 *
 * @example
 * io.stderr(`herald: the gateway refused it: ${await problemText(res)}\n`);
 */
export async function problemText(res: Response): Promise<string> {
  const text = await res.text();
  try {
    const problem = JSON.parse(text) as { code?: string; detail?: string };
    return `${res.status} ${problem.code ?? ""}: ${problem.detail ?? text}`;
  } catch {
    return `${res.status} ${res.statusText}`;
  }
}
