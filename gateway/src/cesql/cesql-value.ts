/** A CESQL value (3.1): _String_, _Integer_ (a 32-bit signed integer) or _Boolean_. */
export type CesqlValue = string | number | boolean;

/** The primitive CESQL types (3.1). */
export type CesqlType = "String" | "Integer" | "Boolean";

/** Zero values per type (3.1), what an operator returns when it cannot return anything better. */
export const ZERO: { readonly [T in CesqlType]: CesqlValue } = {
  String: "",
  Integer: 0,
  Boolean: false,
};

/**
 * The CESQL type of a value. Numbers are always integers here: the lexer, the casts and the
 * arithmetic only ever make 32-bit integers.
 *
 * @example
 * typeOf("abc"); // "String"
 * typeOf(12); // "Integer"
 */
export function typeOf(value: CesqlValue): CesqlType {
  if (typeof value === "string") return "String";
  return typeof value === "number" ? "Integer" : "Boolean";
}
