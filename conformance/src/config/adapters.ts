/**
 * The webhook adapters (DESIGN.md `adapters:`) a target must be configured with for the webhook
 * cases: one of every kind Herald documents. The shared secrets are fixed and public (a
 * conformance target is a test gateway). The SNS adapter trusts signing certificates only under
 * the suite's own sink ({@link SNS_CERTIFICATE_PATH}), where the suite serves a certificate it
 * makes at run time for a key that never leaves the process.
 */

/** The GitHub adapter: `POST /webhooks/conformance-github`, signed with this secret. */
export const GITHUB_ADAPTER = {
  id: "conformance-github",
  secret: "herald-conformance-github-secret",
} as const;

/** The GitLab adapter: `X-Gitlab-Token` must be this secret. */
export const GITLAB_ADAPTER = {
  id: "conformance-gitlab",
  secret: "herald-conformance-gitlab-token",
} as const;

/** The SNS adapter: messages of this topic only, certificates from the sink only. */
export const SNS_ADAPTER = {
  id: "conformance-sns",
  topic: "arn:aws:sns:us-east-1:123456789012:herald-conformance",
} as const;

/** Sink path under which the suite serves SNS signing certificates (the adapter's `trustedUrls`). */
export const SNS_CERTIFICATE_PATH = "/sns-certificates/";

/** The S3 adapter (records posted by a forwarder). */
export const S3_ADAPTER = { id: "conformance-s3" } as const;

/** The Kinesis adapter (records posted by a forwarder). */
export const KINESIS_ADAPTER = { id: "conformance-kinesis" } as const;

/** The CouchDB adapter: `_changes` rows are of `database` on `server`. */
export const COUCHDB_ADAPTER = {
  id: "conformance-couchdb",
  server: "https://couchdb.herald-conformance.example",
  database: "conformance",
} as const;

/** The mapping adapter: `id`, `source` and `subject` from the payload, a fixed `type`. */
export const MAPPING_ADAPTER = {
  id: "conformance-mapping",
  type: "dev.herald.conformance.mapped",
} as const;

/** One `adapters:` entry as the config carries it. */
export type ConformanceAdapter =
  | { readonly id: string; readonly kind: "github" | "gitlab"; readonly secret: string }
  | {
      readonly id: string;
      readonly kind: "sns";
      readonly topics: readonly string[];
      readonly trustedUrls: readonly string[];
    }
  | { readonly id: string; readonly kind: "s3" | "kinesis" }
  | {
      readonly id: string;
      readonly kind: "couchdb";
      readonly server: string;
      readonly database: string;
    }
  | {
      readonly id: string;
      readonly kind: "mapping";
      readonly attributes: Readonly<Record<string, string | { readonly pointer: string }>>;
    };

/**
 * The `adapters:` section of a conformance target whose sink is at `sinkBaseUrl`. With
 * `herald: false` it leaves out the `mapping` adapter, whose config (JSON Pointers) is Herald's:
 * DESIGN.md names the kind only.
 *
 * @example
 * conformanceAdapters("http://127.0.0.1:9999")[0]; // { id: "conformance-github", kind: "github", secret: "..." }
 */
export function conformanceAdapters(
  sinkBaseUrl: string,
  options: { readonly herald?: boolean } = {},
): ConformanceAdapter[] {
  const sink = sinkBaseUrl.replace(/\/+$/, "");
  return [
    { id: GITHUB_ADAPTER.id, kind: "github", secret: GITHUB_ADAPTER.secret },
    { id: GITLAB_ADAPTER.id, kind: "gitlab", secret: GITLAB_ADAPTER.secret },
    {
      id: SNS_ADAPTER.id,
      kind: "sns",
      topics: [SNS_ADAPTER.topic],
      trustedUrls: [`${sink}${SNS_CERTIFICATE_PATH}`],
    },
    { id: S3_ADAPTER.id, kind: "s3" },
    { id: KINESIS_ADAPTER.id, kind: "kinesis" },
    {
      id: COUCHDB_ADAPTER.id,
      kind: "couchdb",
      server: COUCHDB_ADAPTER.server,
      database: COUCHDB_ADAPTER.database,
    },
    ...(options.herald === false
      ? []
      : [
          {
            id: MAPPING_ADAPTER.id,
            kind: "mapping" as const,
            attributes: {
              id: { pointer: "/delivery" },
              source: { pointer: "/origin" },
              type: MAPPING_ADAPTER.type,
              subject: { pointer: "/item/name" },
            },
          },
        ]),
  ];
}
