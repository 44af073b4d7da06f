/** An object or array being scanned, and where the scan is inside it. */
interface Frame {
  readonly names: Set<string> | undefined; // undefined for an array
  /** The member name just read (objects) or the index of the current element (arrays). */
  at: string | number;
  /** In an object: the next string is a member name, not a value. */
  expectName: boolean;
}

/**
 * The path of the first member whose name its object already has, in a text that is valid JSON
 * (`JSON.parse` accepted it), or `undefined` when every name is unique. RFC 8259 section 4 says
 * names SHOULD be unique, and that with repeats "the behavior of software that receives such an
 * object is unpredictable": `JSON.parse` keeps the last, other readers the first. So where one
 * reader might check a request and another act on it, a repeat is refused rather than guessed.
 * Names are compared decoded (`"a"` and `"\u0061"` are the same name). Iterative, so any depth
 * is safe.
 *
 * @example
 * findDuplicateMember('{"sink":"a","delivery":{"retry":1,"retry":2}}'); // ["delivery", "retry"]
 * findDuplicateMember('{"a":[{"b":1},{"b":2}]}'); // undefined
 */
export function findDuplicateMember(text: string): (string | number)[] | undefined {
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    const top = stack.at(-1);
    if (c === '"') {
      const end = closingQuote(text, i);
      if (top?.names !== undefined && top.expectName) {
        const name = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.names.has(name)) return [...stack.slice(0, -1).map((f) => f.at), name];
        top.names.add(name);
        top.at = name;
        top.expectName = false;
      }
      i = end + 1;
      continue;
    }
    if (c === "{" || c === "[") {
      stack.push({ names: c === "{" ? new Set() : undefined, at: 0, expectName: c === "{" });
    } else if (c === "}" || c === "]") {
      stack.pop();
    } else if (c === "," && top !== undefined) {
      if (top.names === undefined) top.at = (top.at as number) + 1;
      else top.expectName = true;
    }
    i++;
  }
  return undefined;
}

/** The index of the quote that closes the string opening at `start`. */
function closingQuote(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text.charAt(i) !== '"') i += text.charAt(i) === "\\" ? 2 : 1;
  return i;
}
