/** A `herald` command could not do its job; the message says why and what to do. */
export class ServeError extends Error {
  override name = "ServeError";
}

/**
 * A flag given a value it cannot take (`--port 99999`, `--ttl 0s`): a usage error, exit 2 like an
 * unknown option, where a `ServeError` (a config, a file, a port in use) exits 1.
 */
export class UsageError extends ServeError {
  override name = "UsageError";
}
