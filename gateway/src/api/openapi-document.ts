/** The members a subscription has, in a request and in an answer (Subscriptions API 3.2.1). */
const SUBSCRIPTION_MEMBERS = {
  id: { type: "string", description: "Ignored on create; must match the path on update" },
  source: {
    type: "string",
    minLength: 1,
    format: "uri-reference",
    description: "The event's `source` must equal this",
  },
  types: {
    type: "array",
    minItems: 1,
    items: { type: "string", minLength: 1 },
    description: "The event's `type` must be one of these",
  },
  config: {
    type: "object",
    propertyNames: { minLength: 1 },
    description:
      "Subscriptions API 3.2.1: manager-defined settings, kept and shown as given (`{}` is left out); Herald acquires no events, so none changes what it does",
  },
  filters: {
    type: "array",
    items: { $ref: "#/components/schemas/Filter" },
    description: "ANDed; empty or absent passes every event",
  },
  sink: {
    type: "string",
    format: "uri",
    pattern: "^[Hh][Tt][Tt][Pp][Ss]?://",
    maxLength: 8000,
    description:
      "Absolute http(s) URL; credential-like query values (`?code=`, `?token=`) are shown as `<redacted>`",
  },
  protocol: {
    const: "HTTP",
    default: "HTTP",
    description:
      "REQUIRED in the Subscriptions API (3.2.1); Herald fills in `HTTP`, the one protocol it delivers over, when it is left out. `AMQP`, `MQTT3`, `MQTT5`, `KAFKA`, `NATS` and any other value (`http`: comparisons are case-sensitive) are refused (400)",
  },
  protocolsettings: {
    type: "object",
    additionalProperties: false,
    properties: {
      method: {
        const: "POST",
        default: "POST",
        description:
          "Subscriptions API 3.2.2.1; deliveries are always POST, so no other value is taken",
      },
      headers: {
        type: "object",
        // RFC 9110 token names and printable ASCII values, as parse-protocol-settings checks.
        propertyNames: { pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
        additionalProperties: { type: "string", pattern: "^[\\t\\x20-\\x7e]*$" },
        description:
          "Sent with every delivery; credentials are shown as `<redacted>`. Names are HTTP tokens (unique regardless of case), values printable ASCII, at most 8 KiB in all (each name and value plus 4 bytes); the headers a delivery writes itself (`ce-*`, `Content-Type`, `Host`, `traceparent`, `webhook-*`, ...) are refused",
      },
    },
  },
  delivery: { $ref: "#/components/schemas/Delivery" },
};

/** `disabled` as a subscription shows it; read-only, ignored in a `PUT`. */
const DISABLED = {
  type: "object",
  readOnly: true,
  description:
    "Present while the sink's 410 Gone keeps the subscription disabled; an update enables it",
  properties: {
    at: { type: "string", format: "date-time" },
    reason: { type: "string" },
  },
};

const PROBLEM = {
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
};

/** `POST /events` and `POST /` (the same handler), and their webhook handshake. */
const INGEST_PATH = {
  post: {
    summary:
      "Publish CloudEvents (HTTP protocol binding): binary mode (`ce-*` headers, the body is `data`), structured mode (`application/cloudevents+json`) or batch mode (`application/cloudevents-batch+json`)",
    description:
      "202 once every event is durably stored. A batch is all or nothing: one invalid event refuses the request and nothing is stored. An event whose `source` and `id` were seen within the dedupe window is acknowledged (202) and not delivered again. Needs a publisher bearer token (header or `access_token` query parameter) unless the gateway runs with `--no-auth`; the publisher policy applies to every event. `Content-Encoding` other than `identity` is refused (415).",
    security: [{ bearer: [] }, {}],
    requestBody: {
      required: true,
      content: {
        "application/cloudevents+json": { schema: { $ref: "#/components/schemas/CloudEvent" } },
        "application/cloudevents-batch+json": {
          schema: { type: "array", items: { $ref: "#/components/schemas/CloudEvent" } },
        },
        "*/*": {
          schema: {},
          description:
            "Binary mode: the attributes in `ce-` headers (`ce-specversion`, `ce-id`, `ce-source`, `ce-type` required), `Content-Type` is `datacontenttype`",
        },
      },
    },
    responses: {
      "202": { description: "Every event accepted (stored, or seen before)" },
      "400": {
        description:
          "`invalid_event`: an event breaks the CloudEvents rules (`errors[]` names each attribute); `malformed_request`: the body cannot be read as the content type says",
        ...PROBLEM,
      },
      "401": {
        description: "`missing_token` / `invalid_token`",
        headers: { "WWW-Authenticate": { schema: { type: "string" } } },
        ...PROBLEM,
      },
      "403": {
        description:
          '`forbidden`: the publisher policy refuses the token, a source or a type; `WWW-Authenticate: Bearer error="insufficient_scope"`',
        headers: { "WWW-Authenticate": { schema: { type: "string" } } },
        ...PROBLEM,
      },
      "413": { description: "An event, the body or the batch is over the limits", ...PROBLEM },
      "415": { description: "Unsupported content type or content coding", ...PROBLEM },
      "429": {
        description: "Rate limited or the delivery queue is full",
        headers: { "Retry-After": { schema: { type: "string" } } },
        ...PROBLEM,
      },
      "503": {
        description: "The store cannot take events now",
        headers: { "Retry-After": { schema: { type: "string" } } },
        ...PROBLEM,
      },
    },
  },
  options: {
    summary:
      "The CloudEvents webhook abuse-protection handshake (http-webhook.md section 4), as a delivery target",
    description: "Needs no token: it only tells a sender that this is an event receiver.",
    security: [{}],
    parameters: [
      { name: "WebHook-Request-Origin", in: "header", required: false, schema: { type: "string" } },
      { name: "WebHook-Request-Rate", in: "header", required: false, schema: { type: "string" } },
    ],
    responses: {
      "200": {
        description: "Allowed: `WebHook-Allowed-Origin`, `WebHook-Allowed-Rate`, `Allow`",
        headers: {
          "WebHook-Allowed-Origin": { schema: { type: "string" } },
          "WebHook-Allowed-Rate": { schema: { type: "string" } },
          Allow: { schema: { type: "string" } },
        },
      },
    },
  },
};

/**
 * An admin operation's answers: its own, and what the admin check in front of every admin call
 * (`app/require-admin.ts`, OPTIONS too) answers before it runs: 400 for a malformed token
 * request (RFC 6750 3.1), 401 without a valid token, 403 without an `auth.admins` rule, 503 when
 * the issuer's keys cannot be fetched. An operation's own 400 takes the place of the first.
 */
function adminResponses(own: Record<string, unknown>): Record<string, unknown> {
  return {
    "400": { $ref: "#/components/responses/TokenRequest" },
    "401": { $ref: "#/components/responses/Unauthorized" },
    "403": { $ref: "#/components/responses/Forbidden" },
    "503": { $ref: "#/components/responses/KeysUnavailable" },
    ...own,
  };
}

/** An admin operation that reads or writes the store: it also answers 503 while the store fails. */
function storeAdminResponses(own: Record<string, unknown>): Record<string, unknown> {
  return adminResponses({ "503": { $ref: "#/components/responses/StoreUnavailable" }, ...own });
}

/** What a `DELETE` of dead deliveries answers. */
const DELETED_SCHEMA = {
  type: "object",
  required: ["deleted"],
  properties: { deleted: { type: "integer", minimum: 0 } },
};

/** One dead delivery: an item of the dead page, and what `GET .../dead/{jobId}` answers. */
const DEAD_DELIVERY_SCHEMA = {
  type: "object",
  required: ["jobId", "attempts", "failure", "event"],
  properties: {
    jobId: { type: "string" },
    attempts: { type: "integer", minimum: 0 },
    failure: {
      type: "object",
      required: ["status", "error", "at"],
      properties: {
        status: { type: "integer", description: "HTTP status of the last attempt, 0 for none" },
        error: { type: "string" },
        at: { type: "string", format: "date-time" },
      },
    },
    event: { type: "object", description: "The event, JSON event format" },
  },
};

/** `OPTIONS` on a part of one subscription (its dead set, its redrive): 200, or 404. */
const featuresOfSubscriptionPart = (operationId: string) => ({
  operationId,
  summary: "The methods this endpoint supports",
  responses: adminResponses({
    "200": { $ref: "#/components/responses/Allow" },
    "404": { $ref: "#/components/responses/Problem" },
  }),
});

/** `OPTIONS` on a probe or the document: 200 with `Allow`, no token (no webhook handshake). */
const readOnlyFeatures = (operationId: string) => ({
  operationId,
  summary: "The methods this endpoint supports (`Allow: GET, HEAD, OPTIONS`)",
  security: [{}],
  responses: { "200": { $ref: "#/components/responses/Allow" } },
});

/**
 * The OpenAPI 3.1 description of Herald's HTTP surface (ingest, the CloudEvents Subscriptions API, health), served
 * at `GET /openapi.json`. Schemas are JSON Schema 2020-12, as OpenAPI 3.1 uses it; they describe
 * the same rules `config/parse-subscription.ts` enforces, so a client generated from this
 * document sends what the gateway accepts.
 *
 * @example
 * app.get("/openapi.json", (c) => c.json(OPENAPI_DOCUMENT));
 */
export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "Herald HTTP API",
    version: "0.1.0",
    description:
      "A Herald gateway: `POST /events` (the CloudEvents HTTP protocol binding) and `POST /webhooks/{adapterId}` (foreign payloads for the configured adapters) take events in; the CloudEvents Subscriptions API (cloudevents/spec subscriptions/spec.md) manages where they go. Publishing needs a publisher bearer token, the Subscriptions API, `/metrics`, `/store/backup` and the dead-letter calls one that matches an `auth.admins` rule, unless the gateway runs with `--no-auth`. Subscriptions declared in the config file are listed and readable but read-only (409). `HEAD` is answered wherever `GET` is, with the same status and headers and no body. A method a path does not answer is 405 with `Allow`.",
    license: { name: "Apache-2.0", identifier: "Apache-2.0" },
  },
  security: [{ bearer: [] }],
  paths: {
    "/events": INGEST_PATH,
    "/": INGEST_PATH,
    "/healthz": {
      get: {
        operationId: "getHealth",
        summary: "Liveness: the process answers",
        security: [{}],
        responses: {
          "200": {
            description: "Alive",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Status" } } },
          },
        },
      },
      options: readOnlyFeatures("getHealthFeatures"),
    },
    "/readyz": {
      get: {
        operationId: "getReadiness",
        summary:
          "Readiness: the gateway accepts events (its store is reachable, it is not stopping)",
        security: [{}],
        responses: {
          "200": {
            description: "Ready (`status`: `ready`)",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Status" } } },
          },
          "503": {
            description: "Not ready (`status`: `stopping` or `store unavailable`)",
            content: { "application/json": { schema: { $ref: "#/components/schemas/Status" } } },
          },
        },
      },
      options: readOnlyFeatures("getReadinessFeatures"),
    },
    "/openapi.json": {
      get: {
        operationId: "getOpenApiDocument",
        summary: "This document",
        security: [{}],
        responses: {
          "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: {} } } },
        },
      },
      options: readOnlyFeatures("getOpenApiDocumentFeatures"),
    },
    "/subscriptions": {
      get: {
        operationId: "getSubscriptions",
        summary: "List every subscription: the config file's, then the API's, oldest first",
        responses: adminResponses({
          "200": {
            description: "The subscriptions (an empty array when there are none)",
            content: {
              "application/json": {
                schema: { type: "array", items: { $ref: "#/components/schemas/Subscription" } },
              },
            },
          },
        }),
      },
      post: {
        operationId: "createSubscription",
        summary: "Create a subscription; the gateway assigns its id (an id in the body is ignored)",
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/SubscriptionRequest" } },
          },
        },
        responses: storeAdminResponses({
          "201": {
            description: "Created: the realized subscription, with defaults applied",
            headers: {
              Location: {
                description: "Path of the new subscription",
                schema: { type: "string" },
              },
            },
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/Subscription" } },
            },
          },
          "400": { $ref: "#/components/responses/Invalid" },
          // On Cloudflare Workers: the stored subscriptions are as large as an isolate loads.
          "409": { $ref: "#/components/responses/Problem" },
          "413": { $ref: "#/components/responses/Problem" },
          "415": { $ref: "#/components/responses/Problem" },
        }),
      },
      options: {
        operationId: "getFeatures",
        summary: "The methods this endpoint supports",
        responses: adminResponses({ "200": { $ref: "#/components/responses/Allow" } }),
      },
    },
    "/subscriptions/{id}": {
      parameters: [
        {
          name: "id",
          in: "path",
          required: true,
          description: "Id of the subscription (percent-encoded in the path)",
          schema: { type: "string" },
        },
      ],
      get: {
        operationId: "getSubscription",
        summary: "Retrieve a subscription",
        responses: adminResponses({
          "200": {
            description: "The subscription",
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/Subscription" } },
            },
          },
          "404": { $ref: "#/components/responses/Problem" },
        }),
      },
      put: {
        operationId: "updateSubscription",
        summary:
          "Replace a subscription created through the API. A header value sent as `<redacted>` keeps the stored value, as long as the sink keeps its origin (scheme, host and port); a credential-like query value likewise, while its URL keeps its origin.",
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: { $ref: "#/components/schemas/SubscriptionUpdate" } },
          },
        },
        responses: storeAdminResponses({
          "200": {
            description: "The updated subscription",
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/Subscription" } },
            },
          },
          "400": { $ref: "#/components/responses/Invalid" },
          "404": { $ref: "#/components/responses/Problem" },
          "409": { $ref: "#/components/responses/Problem" },
          "413": { $ref: "#/components/responses/Problem" },
          "415": { $ref: "#/components/responses/Problem" },
        }),
      },
      delete: {
        operationId: "deleteSubscription",
        summary: "Delete a subscription created through the API",
        responses: storeAdminResponses({
          "200": {
            description: "Deleted: the subscription as it was",
            content: {
              "application/json": { schema: { $ref: "#/components/schemas/Subscription" } },
            },
          },
          "404": { $ref: "#/components/responses/Problem" },
          "409": { $ref: "#/components/responses/Problem" },
        }),
      },
      options: {
        operationId: "getSubscriptionFeatures",
        summary: "The methods this endpoint supports",
        responses: adminResponses({ "200": { $ref: "#/components/responses/Allow" } }),
      },
    },

    "/subscriptions/{id}/dead": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      get: {
        operationId: "getDeadDeliveries",
        summary:
          "Deliveries whose attempts ran out and that no dead-letter sink took, oldest first",
        parameters: [
          {
            name: "limit",
            in: "query",
            schema: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
            description:
              "At most this many; a page of large events ends at about 32 MiB. Given more than once: 400 `malformed_request`",
          },
          {
            name: "after",
            in: "query",
            schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
            description:
              "`next` of the previous page. Given more than once: 400 `malformed_request`",
          },
        ],
        responses: storeAdminResponses({
          "200": {
            description: "A page of dead deliveries",
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["items"],
                  properties: {
                    next: { type: "string" },
                    items: { type: "array", items: DEAD_DELIVERY_SCHEMA },
                  },
                },
              },
            },
          },
          "400": { $ref: "#/components/responses/Problem" },
          "404": { $ref: "#/components/responses/Problem" },
        }),
      },
      delete: {
        operationId: "deleteDeadDeliveries",
        summary:
          "Delete every dead delivery of the subscription for good (config-file subscriptions too); queued and in-flight ones stay",
        responses: storeAdminResponses({
          "200": {
            description: "How many were deleted (0 when there were none)",
            content: { "application/json": { schema: DELETED_SCHEMA } },
          },
          "404": { $ref: "#/components/responses/Problem" },
        }),
      },
      options: featuresOfSubscriptionPart("getDeadDeliveriesFeatures"),
    },
    "/subscriptions/{id}/dead/{jobId}": {
      parameters: [
        { name: "id", in: "path", required: true, schema: { type: "string" } },
        {
          name: "jobId",
          in: "path",
          required: true,
          schema: { type: "string" },
          description: "`jobId` of an item of the dead set",
        },
      ],
      get: {
        operationId: "getDeadDelivery",
        summary: "One dead delivery, as its item of the dead set shows it",
        responses: storeAdminResponses({
          "200": {
            description: "The dead delivery",
            content: { "application/json": { schema: DEAD_DELIVERY_SCHEMA } },
          },
          "404": {
            $ref: "#/components/responses/Problem",
            description:
              "No such subscription, or no dead delivery with that jobId in it (unknown, redriven or deleted since, or no job id at all)",
          },
        }),
      },
      delete: {
        operationId: "deleteDeadDelivery",
        summary: "Delete one dead delivery for good",
        responses: storeAdminResponses({
          "200": {
            description: "It was deleted (`deleted` is 1)",
            content: { "application/json": { schema: DELETED_SCHEMA } },
          },
          "404": {
            $ref: "#/components/responses/Problem",
            description:
              "No such subscription, or no dead delivery with that jobId in it (unknown, redriven or deleted since)",
          },
        }),
      },
      options: featuresOfSubscriptionPart("getDeadDeliveryFeatures"),
    },
    "/subscriptions/{id}/redrive": {
      parameters: [{ name: "id", in: "path", required: true, schema: { type: "string" } }],
      post: {
        operationId: "redriveDeadDeliveries",
        summary: "Make dead deliveries due again with fresh attempts (all, or the jobIds given)",
        requestBody: {
          required: false,
          content: {
            "application/json": {
              schema: {
                type: "object",
                additionalProperties: false,
                properties: { jobIds: { type: "array", items: { type: "string" } } },
              },
            },
          },
        },
        responses: storeAdminResponses({
          "200": {
            description: "How many were made due again",
            content: {
              "application/json": {
                schema: { type: "object", properties: { redriven: { type: "integer" } } },
              },
            },
          },
          "400": { $ref: "#/components/responses/Problem" },
          "404": { $ref: "#/components/responses/Problem" },
        }),
      },
      options: featuresOfSubscriptionPart("getRedriveFeatures"),
    },
    "/metrics": {
      get: {
        operationId: "getMetrics",
        summary:
          "Prometheus text (version 0.0.4) of the gateway's counters, histograms and gauges (admin)",
        responses: adminResponses({
          "200": {
            description: "The metrics",
            content: { "text/plain": { schema: { type: "string" } } },
          },
        }),
      },
      options: {
        operationId: "getMetricsFeatures",
        summary: "The methods this endpoint supports (`Allow: GET, HEAD, OPTIONS`; admin)",
        responses: adminResponses({ "200": { $ref: "#/components/responses/Allow" } }),
      },
    },
    "/store/backup": {
      get: {
        operationId: "getStoreBackup",
        summary:
          "A consistent copy of the whole SQLite store, taken while the gateway serves (admin); `herald backup` downloads it to a file",
        description:
          "Made with SQLite's online backup API into a temporary file beside the store, then streamed with its `Content-Length` and removed. One backup at a time. `Range` is ignored: the answer is always the whole copy (`Accept-Ranges: none`). `HEAD` answers the headers (or the refusal) without taking a copy.",
        responses: adminResponses({
          "200": {
            description: "The store's SQLite file",
            headers: {
              "Content-Disposition": {
                description: 'attachment; filename="herald-backup-<UTC time>.db"',
                schema: { type: "string" },
              },
            },
            content: {
              "application/vnd.sqlite3": { schema: { type: "string", format: "binary" } },
            },
          },
          "409": { $ref: "#/components/responses/Problem" },
          "501": { $ref: "#/components/responses/Problem" },
          "503": { $ref: "#/components/responses/Problem" },
        }),
      },
      options: {
        operationId: "getStoreBackupFeatures",
        summary: "The methods this endpoint supports (`Allow: GET, HEAD, OPTIONS`; admin)",
        responses: adminResponses({ "200": { $ref: "#/components/responses/Allow" } }),
      },
    },
    "/webhooks/{adapterId}": {
      parameters: [
        {
          name: "adapterId",
          in: "path",
          required: true,
          description: "The `id` of an entry of the config's `adapters:`",
          schema: { type: "string", pattern: "^[A-Za-z0-9._~-]+$", not: { enum: [".", ".."] } },
        },
      ],
      post: {
        operationId: "receiveWebhook",
        summary:
          "A foreign payload (S3, SNS, GitHub, GitLab, CouchDB, Kinesis, mapped JSON) normalised into CloudEvents by the adapter's kind, following the CloudEvents adapter documents",
        description:
          "Authentication depends on the kind: `github` needs `X-Hub-Signature-256`, `gitlab` `X-Gitlab-Token`, `sns` a valid SNS message signature (these need no bearer token); `s3`, `kinesis`, `couchdb` and `mapping` need a publisher bearer token (header or `access_token` query parameter), and the publisher policy applies to the normalised events. A payload with many records is accepted whole or not at all; an event whose `source` and `id` were seen within the dedupe window is acknowledged and not delivered again.",
        security: [{}, { bearer: [] }],
        parameters: [
          {
            name: "db",
            in: "query",
            required: false,
            description:
              "`couchdb` only: the database of a `_changes` feed, when the adapter names none; given more than once, 400 `malformed_request`",
            schema: { type: "string" },
          },
        ],
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: {} },
            "text/plain": {
              schema: { type: "string" },
              description: "SNS posts its JSON as text/plain",
            },
            "application/x-www-form-urlencoded": {
              schema: { type: "object", properties: { payload: { type: "string" } } },
              description: "GitHub's form content type: the JSON is in `payload`",
            },
          },
        },
        responses: {
          "202": { description: "Every event of the payload is accepted (or was seen before)" },
          "204": {
            description:
              "Nothing to store: a provider's set-up message that carries no event (GitHub `ping`, S3 `s3:TestEvent`), an empty list of records, or the `last_seq` line that ends a CouchDB continuous feed",
          },
          "400": {
            description:
              "`invalid_payload`: the payload lacks what the adapter maps from (`errors[]` names each field); `malformed_request`: not JSON; `invalid_event`: a mapped value breaks the CloudEvents rules",
            content: {
              "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
            },
          },
          "401": {
            description:
              "`invalid_signature`: the provider's signature or token is missing or wrong; `missing_token`/`invalid_token`: the publisher token",
            content: {
              "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
            },
          },
          "403": { $ref: "#/components/responses/Problem" },
          "404": { $ref: "#/components/responses/Problem" },
          "413": { $ref: "#/components/responses/Problem" },
          "415": { $ref: "#/components/responses/Problem" },
          "429": { $ref: "#/components/responses/Problem" },
          "503": { $ref: "#/components/responses/Problem" },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
    },
    responses: {
      Allow: {
        description: "No content; `Allow` lists the methods",
        headers: { Allow: { schema: { type: "string" } } },
      },
      Problem: {
        description: "RFC 9457 problem details",
        content: {
          "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
        },
      },
      Invalid: {
        description:
          "`invalid_subscription`: the subscription breaks one or more rules, all listed in `errors`; `malformed_request`: the body is not JSON, or names a member twice in one object; `invalid_request`: a malformed token request (RFC 6750 3.1)",
        content: {
          "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
        },
      },
      Unauthorized: {
        description: "No valid bearer token",
        headers: { "WWW-Authenticate": { schema: { type: "string" } } },
        content: {
          "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
        },
      },
      Forbidden: {
        description:
          'The token matches no `auth.admins` rule; `WWW-Authenticate: Bearer error="insufficient_scope"`',
        headers: { "WWW-Authenticate": { schema: { type: "string" } } },
        content: {
          "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
        },
      },
      TokenRequest: {
        description:
          "`invalid_request`: a malformed token request (RFC 6750 3.1): `Authorization: Bearer` with no token, a token both in `Authorization` and in `access_token`, or `access_token` empty or repeated",
        headers: { "WWW-Authenticate": { schema: { type: "string" } } },
        content: {
          "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
        },
      },
      StoreUnavailable: {
        description:
          "`keys_unavailable` (as on every admin call), or `unavailable`: the store could not be read or written (NATS JetStream unreachable); nothing changed, retry after `Retry-After`",
        headers: { "Retry-After": { schema: { type: "integer" } } },
        content: {
          "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
        },
      },
      KeysUnavailable: {
        description:
          "`keys_unavailable`: the issuer's JWKS cannot be fetched and none is cached; retry after `Retry-After`",
        headers: { "Retry-After": { schema: { type: "integer" } } },
        content: {
          "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } },
        },
      },
    },
    schemas: {
      SubscriptionRequest: {
        type: "object",
        description:
          "A subscription (Subscriptions API 3.2.1) plus Herald's `delivery`. Unknown members are refused.",
        required: ["sink"],
        additionalProperties: false,
        properties: SUBSCRIPTION_MEMBERS,
      },
      Subscription: {
        type: "object",
        description: "A subscription as the gateway returns it: every default filled in.",
        required: ["id", "sink", "protocol", "filters", "protocolsettings", "delivery"],
        additionalProperties: false,
        properties: {
          ...SUBSCRIPTION_MEMBERS,
          disabled: DISABLED,
        },
      },
      SubscriptionUpdate: {
        type: "object",
        description:
          "A `PUT` body: a subscription request, which may also carry the read-only `disabled` that `GET` showed (ignored), so what `GET` returns can be sent back as it is; that is how a disabled subscription is enabled again.",
        required: ["sink"],
        additionalProperties: false,
        properties: { ...SUBSCRIPTION_MEMBERS, disabled: DISABLED },
      },
      Delivery: {
        type: "object",
        additionalProperties: false,
        properties: {
          mode: { enum: ["binary", "structured", "batch"], default: "binary" },
          maxBatchSize: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          maxBatchWait: { $ref: "#/components/schemas/Duration", default: "1s" },
          concurrency: { type: "integer", minimum: 1, maximum: 1000, default: 16 },
          rate: { type: "string", pattern: "^[1-9][0-9]*/(s|m)$", examples: ["100/s"] },
          handshake: { type: "boolean", default: false },
          timeout: { $ref: "#/components/schemas/Duration", default: "5s" },
          retry: { type: "integer", minimum: 0, maximum: 100, default: 3 },
          backoffPolicy: { enum: ["exponential", "linear"] },
          backoffDelay: {
            $ref: "#/components/schemas/Duration",
            description: "Longer than zero (`0ms`, `PT0S` are refused)",
          },
          backoffMax: {
            $ref: "#/components/schemas/Duration",
            description: "Longer than zero, and not shorter than `backoffDelay`",
          },
          deadLetterSink: {
            type: "string",
            format: "uri",
            pattern: "^[Hh][Tt][Tt][Pp][Ss]?://",
            maxLength: 8000,
            description: "Credential-like query values are shown as `<redacted>`, as in `sink`",
          },
          signingSecret: {
            type: "string",
            pattern: "^(whsec_|<redacted>$)",
            description: "Shown as `<redacted>`; send that back to keep the stored secret",
          },
          reply: {
            description:
              "Reply events: deliveries send `Prefer: reply`; a CloudEvent the sink answers (200/201) is ingested when its source and type match these globs. `true`: any. Binary and structured mode only.",
            oneOf: [
              { type: "boolean" },
              {
                type: "object",
                additionalProperties: false,
                properties: {
                  sources: {
                    type: "array",
                    items: { type: "string", minLength: 1 },
                    minItems: 1,
                  },
                  types: { type: "array", items: { type: "string", minLength: 1 }, minItems: 1 },
                },
              },
            ],
          },
          receipts: {
            type: "boolean",
            default: false,
            description:
              "Emit dev.herald.delivery.succeeded / .failed and dev.herald.subscription.disabled events (source /herald/subscriptions/{id}) for each final outcome",
          },
        },
      },
      Duration: {
        type: "string",
        description: "`250ms`, `5s`, `1m`, `1h`, or ISO 8601 such as `PT5S`",
        examples: ["250ms", "5s", "PT1M30S"],
      },
      Filter: {
        description: "Exactly one dialect (Subscriptions API 3.2.4)",
        oneOf: [
          { $ref: "#/components/schemas/AttributeFilter/$defs/exact" },
          { $ref: "#/components/schemas/AttributeFilter/$defs/prefix" },
          { $ref: "#/components/schemas/AttributeFilter/$defs/suffix" },
          {
            type: "object",
            required: ["all"],
            additionalProperties: false,
            properties: {
              all: { type: "array", minItems: 1, items: { $ref: "#/components/schemas/Filter" } },
            },
          },
          {
            type: "object",
            required: ["any"],
            additionalProperties: false,
            properties: {
              any: { type: "array", minItems: 1, items: { $ref: "#/components/schemas/Filter" } },
            },
          },
          {
            type: "object",
            required: ["not"],
            additionalProperties: false,
            properties: { not: { $ref: "#/components/schemas/Filter" } },
          },
          {
            type: "object",
            required: ["sql"],
            additionalProperties: false,
            properties: {
              sql: {
                type: "string",
                minLength: 1,
                pattern: "\\S",
                description:
                  "A CESQL v1 expression; refused (400) when it cannot parse, calls an unknown function, names `data`, or can never be true",
              },
            },
          },
        ],
      },
      AttributeFilter: {
        $defs: {
          attributes: {
            type: "object",
            minProperties: 1,
            // `data` is the payload, never an attribute: a filter on it would never match.
            propertyNames: { pattern: "^[a-z0-9]+$", not: { const: "data" } },
            additionalProperties: { type: "string", minLength: 1 },
          },
          exact: {
            type: "object",
            required: ["exact"],
            additionalProperties: false,
            properties: {
              exact: { $ref: "#/components/schemas/AttributeFilter/$defs/attributes" },
            },
          },
          prefix: {
            type: "object",
            required: ["prefix"],
            additionalProperties: false,
            properties: {
              prefix: { $ref: "#/components/schemas/AttributeFilter/$defs/attributes" },
            },
          },
          suffix: {
            type: "object",
            required: ["suffix"],
            additionalProperties: false,
            properties: {
              suffix: { $ref: "#/components/schemas/AttributeFilter/$defs/attributes" },
            },
          },
        },
      },
      Status: {
        type: "object",
        required: ["status"],
        properties: { status: { type: "string" } },
      },
      CloudEvent: {
        type: "object",
        description:
          "A CloudEvent in the JSON event format (cloudevents/formats/json-format.md); extension attributes are further members",
        required: ["specversion", "id", "source", "type"],
        properties: {
          specversion: { const: "1.0" },
          id: { type: "string", minLength: 1 },
          source: { type: "string", format: "uri-reference", minLength: 1 },
          type: { type: "string", minLength: 1 },
          datacontenttype: { type: "string" },
          dataschema: { type: "string", format: "uri" },
          subject: { type: "string", minLength: 1 },
          time: { type: "string", format: "date-time" },
          data: {},
          data_base64: { type: "string", contentEncoding: "base64" },
        },
      },
      Problem: {
        type: "object",
        description: "RFC 9457 problem details with a stable `code`",
        required: ["type", "title", "status", "detail", "code"],
        properties: {
          type: { type: "string" },
          title: { type: "string" },
          status: { type: "integer" },
          detail: { type: "string" },
          code: { type: "string" },
          errors: {
            type: "array",
            items: {
              type: "object",
              properties: { field: { type: "string" }, message: { type: "string" } },
            },
          },
        },
      },
    },
  },
} as const;
