/** A `herald` command could not do its job; the message says why and what to do. */
export class ServeError extends Error {
  override name = "ServeError";
}
