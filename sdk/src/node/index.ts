/**
 * @herald/sdk/node: what only Node has. `createNodeFetch()` is a `fetch` for `createProducer` on
 * `node:http` keep-alive connections, much cheaper per event than Node's global fetch, with the
 * same wire messages. The producer itself stays in `@herald/sdk` (Web Standards only).
 *
 * @example
 * import { createProducer } from "@herald/sdk";
 * import { createNodeFetch } from "@herald/sdk/node";
 * const producer = createProducer({ endpoint, source: "/orders", fetch: createNodeFetch() });
 */
export { createNodeFetch, type NodeFetch, type NodeFetchOptions } from "./node-fetch.js";
