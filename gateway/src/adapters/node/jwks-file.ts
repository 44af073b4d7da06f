import { readFile } from "node:fs/promises";
import type { JSONWebKeySet } from "jose";
import { createInlineKeySource } from "../../auth/inline-key-source.js";
import type { KeySource } from "../../auth/key-source.js";

/**
 * The key source of a JWKS file (`auth.issuers[].jwks: ./jwks.json`): the file is read once and
 * served like an inline set, so a changed file takes effect at the next start. Node only: the
 * one auth file that touches the file system. An unreadable file rejects with the file system's
 * error; a file that is not a JWKS of public keys, or holds none, rejects with a `TypeError`
 * naming the file.
 *
 * @example
 * const keys = await loadJwksFile("./jwks.json");
 */
export async function loadJwksFile(path: string): Promise<KeySource> {
  return parseJwksFile(await readFile(path, "utf8"), path);
}

/**
 * `loadJwksFile` for a text already read from `path` (named in errors): the caller keeps the very
 * text its keys came from, to tell later whether the file changed.
 *
 * @example
 * const keys = parseJwksFile(await readFile(path, "utf8"), path);
 */
export function parseJwksFile(fileText: string, path: string): KeySource {
  // A UTF-8 BOM (some editors write one) is dropped, as for the config file (RFC 8259 8.1 lets a
  // parser ignore it); `JSON.parse` would call the file "not JSON".
  const text = fileText.replace(/^\uFEFF/, "");
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw new TypeError(`${path}: not JSON`);
  }
  // Refused like an inline `jwks: { keys: [] }` (config check): read once, an empty set would
  // start a gateway that refuses every token with 401, and `herald validate` would call it valid.
  if (isEmptyKeySet(jwks)) {
    throw new TypeError(`${path}: the JWKS holds no keys; add the issuer's public keys`);
  }
  try {
    return createInlineKeySource(jwks as JSONWebKeySet);
  } catch (err) {
    throw new TypeError(`${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function isEmptyKeySet(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    "keys" in value &&
    Array.isArray(value.keys) &&
    value.keys.length === 0
  );
}
