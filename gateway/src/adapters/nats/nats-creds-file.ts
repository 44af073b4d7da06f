/**
 * One block of a `.creds` file, as the NATS client reads it: a dashed header line, the value, a
 * dashed footer line (`nats-core`'s `credsAuthenticator`).
 */
const BLOCK = /\s*(?:(?:[-]{3,}[^\n]*[-]{3,}\n)(.+)(?:\n\s*[-]{3,}[^\n]*[-]{3,}\n))/g;

/**
 * What is wrong with the text of a NATS `.creds` file, or `undefined` when the client can read
 * it: a user JWT block, then a user nkey seed block (`nsc generate creds` writes both). The
 * client reads the file only when it connects, so `herald validate` asks this instead.
 *
 * @example
 * natsCredsProblem("garbage"); // "not a NATS credentials file: ..."
 */
export function natsCredsProblem(text: string): string | undefined {
  const values = [...text.matchAll(BLOCK)].map((match) => (match[1] ?? "").trim());
  const [jwt, seed] = values;
  if (jwt === undefined || seed === undefined) {
    return "not a NATS credentials file: it needs a user JWT block and a user nkey seed block (as `nsc generate creds` writes them)";
  }
  if (jwt.split(".").length !== 3) return "its first block is not a user JWT";
  if (!seed.startsWith("SU")) return "its second block is not a user nkey seed (SU...)";
  return undefined;
}
