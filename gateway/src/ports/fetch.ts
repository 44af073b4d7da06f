/**
 * The outbound HTTP port: the Web Standards `fetch` signature. Deliveries go through it so tests
 * and runtimes can inject their own (the Node adapter supplies a keep-alive `node:http` client).
 */
export type FetchLike = (input: Request) => Promise<Response>;
