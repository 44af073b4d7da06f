import { expect } from "vitest";

/**
 * Posts one binary-mode event `com.example.order` from `/shop` with id `id` to a gateway in
 * process, and expects the 202 that says it is stored. `headers` are added (or override), `body`
 * is its data (none by default).
 *
 * @example
 * await publishOrder(gateway, "o-1");
 * await publishOrder(gateway, "o-2", { "content-type": "application/json" }, '{"order":2}');
 */
export async function publishOrder(
  gateway: { fetch(request: Request): Promise<Response> },
  id: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<void> {
  const res = await gateway.fetch(
    new Request("http://gw/events", {
      method: "POST",
      headers: {
        "ce-specversion": "1.0",
        "ce-id": id,
        "ce-source": "/shop",
        "ce-type": "com.example.order",
        ...headers,
      },
      ...(body === undefined ? {} : { body }),
    }),
  );
  expect(res.status).toBe(202);
}
