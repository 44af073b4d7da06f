/**
 * The webhook adapters (DESIGN.md `adapters:`) a target must be configured with for the webhook
 * cases: a GitHub one with a fixed, public secret (a conformance target is a test gateway) and a
 * JSON Pointer mapping.
 */

/** The GitHub adapter: `POST /webhooks/conformance-github`, signed with this secret. */
export const GITHUB_ADAPTER = {
  id: "conformance-github",
  secret: "herald-conformance-github-secret",
} as const;

/** The mapping adapter: `id`, `source` and `subject` from the payload, a fixed `type`. */
export const MAPPING_ADAPTER = {
  id: "conformance-mapping",
  type: "dev.herald.conformance.mapped",
} as const;

/** One `adapters:` entry as the config carries it. */
export type ConformanceAdapter =
  | { readonly id: string; readonly kind: "github"; readonly secret: string }
  | {
      readonly id: string;
      readonly kind: "mapping";
      readonly attributes: Readonly<Record<string, string | { readonly pointer: string }>>;
    };

/**
 * The `adapters:` section of a conformance target.
 *
 * @example
 * conformanceAdapters()[0]; // { id: "conformance-github", kind: "github", secret: "..." }
 */
export function conformanceAdapters(): ConformanceAdapter[] {
  return [
    { id: GITHUB_ADAPTER.id, kind: "github", secret: GITHUB_ADAPTER.secret },
    {
      id: MAPPING_ADAPTER.id,
      kind: "mapping",
      attributes: {
        id: { pointer: "/delivery" },
        source: { pointer: "/origin" },
        type: MAPPING_ADAPTER.type,
        subject: { pointer: "/item/name" },
      },
    },
  ];
}
