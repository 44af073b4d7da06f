import type { MappedValue } from "./mapping-adapter.js";

/** The adapter kinds (DESIGN.md `adapters[].kind`). */
export const ADAPTER_KINDS = [
  "s3",
  "sns",
  "github",
  "gitlab",
  "couchdb",
  "kinesis",
  "mapping",
] as const;

export type AdapterKind = (typeof ADAPTER_KINDS)[number];

/**
 * One entry of `adapters:`, normalised: the route `/webhooks/{id}` and what its kind needs
 * (see README "Webhooks").
 */
export type AdapterConfig =
  | { readonly id: string; readonly kind: "github" | "gitlab"; readonly secret: string }
  | {
      readonly id: string;
      readonly kind: "sns";
      readonly topics?: readonly string[];
      readonly subscriptions?: readonly string[];
      readonly trustedUrls?: readonly string[];
      readonly autoConfirm: boolean;
    }
  | { readonly id: string; readonly kind: "s3" | "kinesis" }
  | {
      readonly id: string;
      readonly kind: "couchdb";
      readonly server: string;
      readonly database?: string;
    }
  | {
      readonly id: string;
      readonly kind: "mapping";
      readonly attributes: Readonly<Record<string, MappedValue>>;
      readonly records?: string;
    };
