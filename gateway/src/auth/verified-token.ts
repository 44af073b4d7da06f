import type { JWTPayload } from "jose";

/**
 * What a verified bearer token says about its holder: the outcome of `TokenVerifier.verify`,
 * read by publisher policy and written into provenance (`authid` = `subject`).
 *
 * @example
 * const { issuer, subject, claims, expiresAt } = await verifier.verify(token);
 */
export interface VerifiedToken {
  /** The `iss` claim, one of the configured issuers. */
  readonly issuer: string;
  /** The `sub` claim. */
  readonly subject: string;
  /** The whole verified payload (frozen at the top level; shared by every use of the token). */
  readonly claims: Readonly<JWTPayload>;
  /** When the token expires (its `exp`), in ms since the epoch. */
  readonly expiresAt: number;
}
