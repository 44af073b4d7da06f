import type { Hono } from "hono";
import { ConfigInvalid } from "../config/config-invalid.js";
import { validateSubscription } from "../config/validate-subscription.js";
import { isAbsent } from "../config/value-checks.js";
import type { DeliveryQueue } from "../deliver/delivery-queue.js";
import { MethodNotAllowed, NotFound } from "../errors/errors.js";
import { type Logger, silentLogger } from "../ports/logger.js";
import type { Subscription } from "../subscriptions/subscription.js";
import type { SubscriptionRegistry } from "../subscriptions/subscription-registry.js";
import { answerAllow } from "./answer-allow.js";
import { mountDeadLetters } from "./dead-letter-routes.js";
import { InvalidSubscription } from "./invalid-subscription.js";
import { readJsonBody } from "./read-json-body.js";
import {
  prepareUpdate,
  restoreRedactedHeaders,
  restoreRedactedUrls,
  toSubscriptionResource,
} from "./subscription-resource.js";

// HEAD is answered wherever GET is (Hono runs the GET route and drops the body, RFC 9110 9.3.2),
// so `Allow` names it too.
const COLLECTION_ALLOW = ["GET", "HEAD", "POST", "OPTIONS"] as const;
const ITEM_ALLOW = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"] as const;
/** What a subscription of the config file answers: it is read-only through the API. */
const READ_ONLY_ALLOW = ["GET", "HEAD", "OPTIONS"] as const;

export interface SubscriptionApiOptions {
  readonly registry: SubscriptionRegistry;
  /** Where dead deliveries are kept (`/subscriptions/{id}/dead`, `/redrive`). */
  readonly queue: DeliveryQueue;
  /** Id of a created subscription (default: a random UUID). */
  readonly newId?: () => string;
  readonly logger?: Logger;
}

/**
 * Mounts the Subscriptions API (cloudevents/spec subscriptions/spec.md 3.2.5, HTTP binding 3.3):
 * - `GET /subscriptions`: every subscription, config ones first (200, a JSON array, maybe empty);
 * - `POST /subscriptions`: create; the id is assigned here, one in the body is ignored (3.2.1
 *   id: "if present on the input to a subscribe operation then it MUST be ignored"): 201 with
 *   `Location` and the realized subscription;
 * - `GET|PUT|DELETE /subscriptions/{id}`: retrieve, update (the body's `id`, if any, must match),
 *   delete (200 with the deleted subscription, 3.2.5.5; its queued and dead deliveries are
 *   dropped); 404 for an unknown id, 409 for a
 *   subscription declared in the config file, which is read-only here;
 * - `HEAD` wherever `GET` is: the same status and headers, no body;
 * - `OPTIONS` answers `Allow` (3.2.5 "discovery mechanism"), other methods 405.
 * Admin authorisation is applied in front of these routes (`app/require-admin.ts`).
 *
 * @example
 * mountSubscriptionApi(app, { registry });
 */
export function mountSubscriptionApi(app: Hono, options: SubscriptionApiOptions): void {
  const { registry, queue, newId = () => crypto.randomUUID(), logger = silentLogger } = options;

  app.get("/subscriptions", (c) =>
    c.json(
      registry
        .list()
        .map(({ subscription, disabled }) => toSubscriptionResource(subscription, disabled)),
    ),
  );
  app.post("/subscriptions", async (c) => {
    const raw = await readJsonBody(c.req.raw);
    const id = newId();
    // A `<redacted>` header or sink query value has no stored value behind it on create:
    // refused, never sent as is.
    const proposed = isPlainObject(raw) ? restoreRedactedUrls({ ...raw, id }, undefined) : raw;
    const created = await registry.create(restoreRedactedHeaders(validate(proposed), undefined));
    c.header("location", `/subscriptions/${encodeURIComponent(created.id)}`);
    return c.json(toSubscriptionResource(created), 201);
  });
  app.options("/subscriptions", (c) => answerAllow(c, COLLECTION_ALLOW));
  app.all("/subscriptions", (c) => {
    throw new MethodNotAllowed(c.req.method, COLLECTION_ALLOW);
  });

  app.get("/subscriptions/:id", (c) => {
    const id = c.req.param("id");
    const found = registry.find(id);
    if (found === undefined) throw new NotFound(`no subscription with id "${id}"`);
    return c.json(toSubscriptionResource(found.subscription, found.disabled));
  });
  app.put("/subscriptions/:id", async (c) => {
    const id = c.req.param("id");
    // Refuse unknown and read-only ids before judging the body: the state is the first problem.
    const existing = registry.writable(id);
    const raw = await readJsonBody(c.req.raw);
    // `null` is an absent member, here as for every other one (`isAbsent`).
    if (isPlainObject(raw) && !isAbsent(raw.id) && raw.id !== id) {
      throw new InvalidSubscription([
        { field: "id", message: `must be "${id}", the id in the path, or be left out` },
      ]);
    }
    const proposed = isPlainObject(raw) ? prepareUpdate({ ...raw, id }, existing) : raw;
    const updated = restoreRedactedHeaders(validate(proposed), existing);
    return c.json(toSubscriptionResource(await registry.update(updated)));
  });
  app.delete("/subscriptions/:id", async (c) => {
    const deleted = await registry.delete(c.req.param("id"));
    // Its deliveries go with it now, queued and dead (`/dead` answers 404 from here on): left
    // in the store they would only be dropped one by one as they came due, and on NATS its
    // durable consumer would stay, pulled by every replica for ever.
    await queue.drop(deleted.id).then(
      (dropped) => {
        if (dropped > 0) {
          logger.info("dropped the deliveries of a deleted subscription", {
            subscriptionId: deleted.id,
            dropped,
          });
        }
      },
      (error: unknown) =>
        logger.warn(
          "could not drop a deleted subscription's deliveries; each is dropped when due",
          {
            subscriptionId: deleted.id,
            error: error instanceof Error ? error.message : String(error),
          },
        ),
    );
    return c.json(toSubscriptionResource(deleted));
  });
  mountDeadLetters(app, { registry, queue, logger });
  // A subscription of the config file is read-only here: PUT and DELETE would answer 409.
  const itemAllow = (id: string) =>
    registry.find(id)?.origin === "config" ? READ_ONLY_ALLOW : ITEM_ALLOW;
  app.options("/subscriptions/:id", (c) => answerAllow(c, itemAllow(c.req.param("id"))));
  app.all("/subscriptions/:id", (c) => {
    throw new MethodNotAllowed(c.req.method, itemAllow(c.req.param("id")));
  });
}

/** Validates a proposed subscription exactly as the config loader does. */
function validate(raw: unknown): Subscription {
  try {
    return validateSubscription(raw);
  } catch (error) {
    if (!(error instanceof ConfigInvalid)) throw error;
    throw new InvalidSubscription(error.issues.map(({ field, message }) => ({ field, message })));
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
