import { type JWTPayload, jwtVerify } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { claimsAt, T0 } from "../../test/support/test-issuer.js";
import { Unauthorized } from "./auth-errors.js";
import type { KeySource } from "./key-source.js";

/** A key source under test and how to sign tokens it can verify. */
export interface KeySourceFixture {
  readonly source: KeySource;
  /** The algorithm and kid of the key the source holds. */
  readonly alg: string;
  readonly kid: string | undefined;
  readonly sign: (claims: JWTPayload) => Promise<string>;
  /** An algorithm of the other family (HMAC for a JWKS, asymmetric for a secret). */
  readonly otherFamilyAlg: string;
  readonly close?: () => Promise<void>;
}

/**
 * The contract every `KeySource` passes.
 *
 * @example
 * describeKeySource("inline", async () => ({ source: createInlineKeySource(jwks), ... }));
 */
export function describeKeySource(name: string, setup: () => Promise<KeySourceFixture>): void {
  describe(`KeySource contract: ${name}`, () => {
    const open: KeySourceFixture[] = [];
    const fixture = async () => {
      const made = await setup();
      open.push(made);
      return made;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((made) => made.close?.()));
    });

    it("finds a key that verifies the tokens it is meant for", async () => {
      const { source, alg, kid, sign } = await fixture();
      const token = await sign(claimsAt());
      const { keys, generation } = await source.keysFor({ alg, kid });
      expect(keys.length).toBeGreaterThan(0);
      expect(generation).toBe(await source.generation());
      const [key] = keys;
      const verified = await jwtVerify(token, key!, {
        algorithms: [alg],
        currentDate: new Date(T0),
      });
      expect(verified.payload.sub).toBe("orders-service");
    });

    it("holds no key for the other algorithm family (no algorithm confusion)", async () => {
      const { source, kid, otherFamilyAlg } = await fixture();
      const refused = await source.keysFor({ alg: otherFamilyAlg, kid }).catch((err) => err);
      expect(refused).toBeInstanceOf(Unauthorized);
      expect(refused).toMatchObject({ reason: "algorithm_not_allowed" });
    });

    it("keeps its generation while its keys stay", async () => {
      const { source, alg, kid } = await fixture();
      const first = await source.generation();
      await source.keysFor({ alg, kid });
      expect(await source.generation()).toBe(first);
    });

    it("says which kind of key it holds", async () => {
      const { source, alg } = await fixture();
      expect(source.kind).toBe(alg.startsWith("HS") ? "secret" : "jwks");
    });
  });
}
