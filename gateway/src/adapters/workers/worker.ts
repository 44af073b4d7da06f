import { createHeraldWorker } from "./create-herald-worker.js";

/**
 * The module Worker that `gateway/wrangler.toml` deploys: config from the `HERALD_CONFIG`
 * variable, bindings `HERALD_DB` (D1) and `HERALD_DELIVERIES` (Queue). The runtime demands a
 * default export.
 */
export default createHeraldWorker();
