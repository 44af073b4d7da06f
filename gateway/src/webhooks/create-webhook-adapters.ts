import type { FetchLike } from "../ports/fetch.js";
import type { Logger } from "../ports/logger.js";
import type { AdapterConfig } from "./adapter-config.js";
import { createCouchDbAdapter } from "./couchdb-adapter.js";
import { createGitHubAdapter } from "./github-adapter.js";
import { createGitLabAdapter } from "./gitlab-adapter.js";
import { createKinesisAdapter } from "./kinesis-adapter.js";
import { createMappingAdapter } from "./mapping-adapter.js";
import { createS3Adapter } from "./s3-adapter.js";
import { createSnsAdapter } from "./sns-adapter.js";
import { createSnsCertificates } from "./sns-certificates.js";
import type { WebhookAdapter } from "./webhook-adapter.js";

export interface WebhookAdaptersOptions {
  /** Outbound HTTP for SNS certificates and subscription confirmations. */
  readonly fetch: FetchLike;
  readonly logger: Logger;
}

/**
 * Builds every configured adapter once, by id (the `/webhooks/{id}` route).
 *
 * @example
 * const adapters = createWebhookAdapters(config.adapters, { fetch: (r) => fetch(r), logger });
 * adapters.get("github-main")?.kind; // "github"
 */
export function createWebhookAdapters(
  configs: readonly AdapterConfig[],
  options: WebhookAdaptersOptions,
): ReadonlyMap<string, WebhookAdapter> {
  const { fetch, logger } = options;
  let certificates: ReturnType<typeof createSnsCertificates> | undefined;
  const adapters = new Map<string, WebhookAdapter>();
  for (const config of configs) {
    adapters.set(config.id, build(config));
  }
  return adapters;

  function build(config: AdapterConfig): WebhookAdapter {
    switch (config.kind) {
      case "github":
        return createGitHubAdapter(config);
      case "gitlab":
        return createGitLabAdapter(config);
      case "s3":
        return createS3Adapter(config);
      case "kinesis":
        return createKinesisAdapter(config);
      case "couchdb":
        return createCouchDbAdapter(config);
      case "mapping":
        return createMappingAdapter(config);
      case "sns":
        certificates ??= createSnsCertificates({ fetch });
        return createSnsAdapter({ ...config, certificates, fetch, logger });
    }
  }
}
