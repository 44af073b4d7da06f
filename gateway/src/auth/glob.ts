/** Tells whether a text matches a compiled glob (or any glob of a compiled list). */
export type GlobMatcher = (text: string) => boolean;

/**
 * Compiles a publisher-rule glob (DESIGN.md `auth.publishers`): `*` matches any run of characters,
 * `/` and the empty run included; every other character matches only itself (no `?`, no classes,
 * no escapes). Matching is case-sensitive and never backtracks more than once per literal piece
 * (no regular expression), so a hostile `source` cannot make it slow.
 *
 * @example
 * const orders = compileGlob("/orders/*");
 * orders("/orders/eu/42"); // true
 * orders("/orders"); // false
 * compileGlob("com.example.*")("comXexample.order"); // false: `.` is a dot
 */
export function compileGlob(pattern: string): GlobMatcher {
  const pieces = pattern.split("*");
  if (pieces.length === 1) return (text) => text === pattern;
  const head = pieces[0] ?? "";
  const tail = pieces[pieces.length - 1] ?? "";
  const middle = pieces.slice(1, -1).filter((piece) => piece !== "");
  const minLength = head.length + tail.length + middle.reduce((sum, p) => sum + p.length, 0);
  return (text) => {
    if (text.length < minLength || !text.startsWith(head) || !text.endsWith(tail)) return false;
    // Leftmost placement of each middle piece is optimal when the only wildcard is `*`: it leaves
    // the most room for the pieces after it.
    let at = head.length;
    const end = text.length - tail.length;
    for (const piece of middle) {
      const found = text.indexOf(piece, at);
      if (found === -1 || found + piece.length > end) return false;
      at = found + piece.length;
    }
    return true;
  };
}

/**
 * Compiles a list of globs into one matcher that is true when any of them matches. Globs without
 * `*` are looked up in a set.
 *
 * @example
 * const sources = compileGlobList(["/orders", "/orders/*"]);
 * sources("/orders"); // true
 * sources("/ordersX"); // false
 */
export function compileGlobList(patterns: readonly string[]): GlobMatcher {
  const exact = new Set(patterns.filter((pattern) => !pattern.includes("*")));
  const wild = patterns.filter((pattern) => pattern.includes("*")).map(compileGlob);
  return (text) => exact.has(text) || wild.some((matches) => matches(text));
}
