import type { ExpectedData } from "../events/compare.js";
import { binaryRequest, EVENTS_PATH, structuredRequest } from "../events/requests.js";
import { CLOUDEVENTS_JSON } from "../http/media-type.js";
import { type FeatureCase, loadFeatureCases } from "../official/feature-cases.js";
import { loadYamlEvents, type YamlEvent } from "../official/yaml-events.js";
import type { GatewayRequest } from "../target.js";
import type { CaseContext, ConformanceCase } from "./case.js";
import { expectAcceptedAndDelivered, expectRejected } from "./expect.js";

const UPSTREAM = "cloudevents/conformance";

/**
 * The request for a YAML event and the event the sinks must then receive. The id gets the case's
 * unique id appended: upstream files reuse ids (both `v1.yaml` events are `4321-4321-4321` from
 * the same source), which a gateway that dedupes on `source` + `id` would rightly drop.
 */
function yamlRequest(
  ctx: CaseContext,
  e: YamlEvent,
): { request: GatewayRequest; attributes: Record<string, string> } {
  const attributes = { ...e.attributes, id: `${e.attributes.id ?? "no-id"}.${ctx.id()}` };
  if (e.mode === "binary") {
    const request = binaryRequest(attributes, {
      headers: e.transportHeaders,
      ...(e.data === "" ? {} : { body: e.data }),
    });
    return { request, attributes };
  }
  const envelope = {
    ...attributes,
    ...(e.data === "" ? {} : { data: JSON.parse(e.data) as unknown }),
  };
  const request = structuredRequest(envelope, `${CLOUDEVENTS_JSON}; charset=UTF-8`);
  return {
    request: { ...request, headers: { ...request.headers, ...e.transportHeaders } },
    attributes,
  };
}

function yamlCase(e: YamlEvent): ConformanceCase {
  const version = e.attributes.specversion ?? "(none)";
  const label = `official: ${e.file} #${e.index} (${e.mode}, specversion ${version})`;
  if (version !== "1.0") {
    // A 1.0 receiver cannot interpret another version's context (spec "specversion": producers
    // MUST use 1.0 for this version); Herald speaks 1.0 only and rejects the rest as invalid.
    // Herald's contract, not the spec's: a receiver that also speaks 0.3 would accept them.
    return {
      name: `herald: ${label} -> 400`,
      spec: `${UPSTREAM} ${e.file}; Herald's contract (issue 2: 1.0 only), not the spec's: CloudEvents 1.0.2 "specversion" gives no status for another version`,
      run: (ctx) =>
        expectRejected(ctx, yamlRequest(ctx, e).request, 400, { attributes: ["specversion"] }),
    };
  }
  return {
    name: `${label} accepted and delivered equivalent`,
    spec: `${UPSTREAM} ${e.file}; HTTP protocol binding 1.0.2 §3`,
    async run(ctx) {
      const { request, attributes } = yamlRequest(ctx, e);
      const data: ExpectedData =
        e.data === ""
          ? { absent: true }
          : e.mode === "binary"
            ? { bytes: new TextEncoder().encode(e.data) }
            : { json: JSON.parse(e.data) as unknown };
      await expectAcceptedAndDelivered(ctx, request, { attributes, data });
    },
  };
}

function featureCase(f: FeatureCase): ConformanceCase {
  return {
    name: `official: ${f.file} "${f.title}" accepted and delivered equivalent`,
    spec: `${UPSTREAM} ${f.file}`,
    async run(ctx) {
      const original = f.attributes.id ?? "";
      const id = `${original}.${ctx.id()}`;
      // Replace the id where it is written so the body keeps its exact bytes otherwise.
      const swap = (s: string) => (original === "" ? s : s.split(original).join(id));
      const headers = Object.fromEntries(Object.entries(f.headers).map(([k, v]) => [k, swap(v)]));
      await expectAcceptedAndDelivered(
        ctx,
        { method: "POST", path: EVENTS_PATH, headers, body: swap(f.body) },
        { attributes: { ...f.attributes, id }, data: { json: f.data } },
      );
    },
  };
}

/**
 * The official cases, read from `dataDir` at run time: every YAML event (specversion 1.0 ones
 * must round-trip, others must be rejected) and every HTTP feature parse case.
 *
 * @example
 * const cases = await officialCases(defaultDataDir());
 */
export async function officialCases(dataDir: string): Promise<ConformanceCase[]> {
  const [events, features] = await Promise.all([
    loadYamlEvents(dataDir),
    loadFeatureCases(dataDir),
  ]);
  return [...events.map(yamlCase), ...features.map(featureCase)];
}
