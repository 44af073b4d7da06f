import type { ConformanceAuth } from "../auth/conformance-auth.js";
import { adapterCases } from "./adapter-cases.js";
import { authCases } from "./auth-cases.js";
import { batchCases } from "./batch-cases.js";
import { binaryCases } from "./binary-cases.js";
import type { ConformanceCase } from "./case.js";
import { deadSetCases } from "./dead-set-cases.js";
import { dedupeCases } from "./dedupe-cases.js";
import { deliveryCases } from "./delivery-cases.js";
import { extensionCases } from "./extension-cases.js";
import { filterCases } from "./filter-cases.js";
import { httpSurfaceCases } from "./http-surface-cases.js";
import { limitCases } from "./limit-cases.js";
import { metricsCases } from "./metrics-cases.js";
import { onSuccessCases } from "./on-success-cases.js";
import { robustnessCases } from "./robustness-cases.js";
import { structuredCases } from "./structured-cases.js";
import { subscriptionApiCases } from "./subscription-api-cases.js";
import { traceCases } from "./trace-cases.js";
import { validationCases } from "./validation-cases.js";
import { webhookCases } from "./webhook-cases.js";

/**
 * Every built-in spec-derived case, in report order (the official cases are loaded at run time).
 * `auth` selects the auth cases: those for a target with publisher authentication, or without it
 * the one for an unauthenticated target; with a token, the Subscriptions API cases use
 * `auth.adminToken` (default `auth.token`) and add the admin-token checks, and so do the
 * delivery cases (they create their subscriptions there) and the (Herald-specific) dead-set and
 * metrics cases.
 *
 * @example
 * builtinCases().map((c) => c.name);
 */
export function builtinCases(auth?: ConformanceAuth): readonly ConformanceCase[] {
  return [
    ...binaryCases,
    ...structuredCases,
    ...batchCases,
    ...validationCases,
    ...extensionCases,
    ...limitCases,
    ...httpSurfaceCases,
    ...authCases(auth),
    ...robustnessCases,
    ...dedupeCases,
    ...filterCases,
    ...subscriptionApiCases(auth),
    ...deliveryCases(auth),
    ...deadSetCases(auth),
    ...webhookCases,
    ...adapterCases,
    ...traceCases,
    ...onSuccessCases(auth),
    ...metricsCases(auth),
  ];
}
