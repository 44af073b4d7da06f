import { connect } from "node:net";

/**
 * Writes `bytes` as they are on a fresh connection to `127.0.0.1:port` and resolves with all the
 * server sent (read as Latin-1, byte for byte) once it closes the connection; rejects on a socket
 * error. For requests no HTTP client would send.
 *
 * @example
 * const text = await rawExchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
 * Number(text.split(" ")[1]); // 200
 */
export function rawExchange(
  port: number,
  bytes: string,
  { halfClose = false }: { halfClose?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    // halfClose: the client closes its sending side once the bytes are out (shutdown(SHUT_WR)).
    const socket = connect(port, "127.0.0.1", () =>
      halfClose ? socket.end(bytes) : socket.write(bytes),
    );
    let text = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(text));
  });
}

/** The status code of the first status line of `text` (`NaN` when there is none). */
export const statusOf = (text: string): number => Number(text.split(" ")[1]);
