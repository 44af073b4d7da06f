/**
 * Standard base64 of bytes (RFC 4648 4) with `btoa`, which every runtime has.
 *
 * @example
 * encodeBase64(new Uint8Array([1, 2, 3])); // "AQID"
 */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  // Chunks keep String.fromCharCode's argument list short.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
