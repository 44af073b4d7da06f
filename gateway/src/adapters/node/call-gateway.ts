import { ServeError } from "./serve-error.js";

/**
 * `fetch` for the CLI commands that talk to a gateway (`send`, `tail`): a gateway that cannot be
 * reached is a one-line `ServeError` naming the URL and the cause, not a stack trace.
 *
 * @example
 * const res = await callGateway("http://127.0.0.1:8080/events", { method: "POST", headers });
 */
export async function callGateway(url: string | URL, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (err) {
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
}
