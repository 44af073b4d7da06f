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
    throw new ServeError(`cannot reach ${url}: ${(err as Error).cause ?? (err as Error).message}`);
  }
}
