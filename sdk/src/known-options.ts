/**
 * The option names a function takes, written as `{ name: true, ... } satisfies OptionNames<T>`:
 * the compiler then insists every option of `T` is listed and nothing else is.
 */
export type OptionNames<T> = Record<keyof Required<T>, true>;

/**
 * Refuses an options object with a key the function does not take, with a `TypeError` naming it
 * and the option it meant when only the letter case differs, else listing the options. In
 * JavaScript a misspelt option is otherwise ignored without a word, and `{ signingsecret: ... }`
 * would take unsigned deliveries. Inherited and symbol keys are not looked at. (`createProducer` relies on its types instead: its bundle has a
 * size budget of 8 KiB, and a misspelt producer option weakens nothing.)
 *
 * @example
 * checkKnownOptions("receive", { signingsecret: "whsec_..." }, { signingSecret: true });
 * // TypeError: receive: unknown option "signingsecret"; did you mean "signingSecret"?
 */
export function checkKnownOptions(
  where: string,
  options: object,
  names: Readonly<Record<string, true>>,
): void {
  for (const key of Object.keys(options)) {
    if (Object.hasOwn(names, key)) continue;
    const known = Object.keys(names);
    // The producer's bundle has a size budget: a case-insensitive match, not an edit distance.
    const near = known.find((name) => name.toLowerCase() === key.toLowerCase());
    const hint =
      near === undefined ? `; the options are ${known.join(", ")}` : `; did you mean "${near}"?`;
    throw new TypeError(`${where}: unknown option "${key}"${hint}`);
  }
}
