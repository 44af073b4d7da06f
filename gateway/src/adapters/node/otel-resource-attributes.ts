/** The most characters a key or value may have, as the SDK's environment detector allows. */
const MAX_LENGTH = 255;

function decoded(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/**
 * Why the SDK would ignore `OTEL_RESOURCE_ATTRIBUTES`, or `undefined` when it reads it. The
 * SDK's environment detector follows the spec ("the entire value SHOULD be discarded") for a
 * malformed entry, but reports it only as a debug diagnostic, so `team=a,b` quietly loses
 * every attribute of the variable, `deployment.environment` included. The rules are the
 * detector's: `key=value` entries separated by commas, `,` and `=` inside a key or value
 * percent-encoded, a non-empty key, at most 255 characters each after decoding.
 *
 * @example
 * resourceAttributesProblem("deployment.environment=prod,team=a,b");
 * // 'OTEL_RESOURCE_ATTRIBUTES: entry 3 is not key=value ...'
 */
export function resourceAttributesProblem(raw: string): string | undefined {
  const ignored = "; the SDK ignores the whole variable, so none of its attributes are set";
  for (const [index, entry] of raw.split(",").entries()) {
    if (entry.trim() === "") continue;
    const at = `OTEL_RESOURCE_ATTRIBUTES: entry ${index + 1}`;
    const parts = entry.split("=");
    if (parts.length !== 2) {
      return `${at} is not key=value (',' and '=' in a key or value must be written %2C and %3D)${ignored}`;
    }
    const [key = "", value = ""] = parts.map((part) => part.trim());
    if (key === "") return `${at} has an empty key${ignored}`;
    const name = decoded(key);
    const text = decoded(value);
    if (name === undefined || text === undefined) {
      return `${at} is not valid percent-encoding${ignored}`;
    }
    if (name.length > MAX_LENGTH || text.length > MAX_LENGTH) {
      return `${at} ("${name.slice(0, 64)}") is longer than ${MAX_LENGTH} characters${ignored}`;
    }
  }
  return undefined;
}
