import { type Attributes, metrics, ValueType } from "@opentelemetry/api";
import type { DeliveryOutcome } from "../deliver/delivery-outcome.js";
import { createMetricRegistry, type Labels } from "./metric-registry.js";
import { TRACER_NAME } from "./tracing.js";

/** What a delivery attempt was for: the subscription's sink, or its dead-letter sink. */
export type AttemptTarget = "sink" | "dead_letter_sink";
/** Where a job whose attempts are over ended. */
export type DeadEnding = "dead_letter_sink" | "store";

/**
 * Herald's metrics, recorded twice: into the registry behind `GET /metrics` (Prometheus text,
 * always there) and through the OpenTelemetry API (exported by OTLP when the Node adapter
 * starts the SDK; no-ops otherwise). Names, in Prometheus form (OpenTelemetry form in brackets):
 * - `herald_events_accepted_total` (`herald.events.accepted`): events stored;
 * - `herald_events_duplicate_total` (`herald.events.duplicate`): acknowledged, already seen;
 * - `herald_events_rejected_total{reason}` (`herald.events.rejected`): refused requests, by
 *   problem `code` (`invalid_event`, `unauthorized`, `payload_too_large`, ...);
 * - `herald_deliveries_total{subscription,target,outcome}` (`herald.deliveries`): attempts by
 *   outcome `delivered`, `retry` or `dead`, to the `sink` or the `dead_letter_sink`;
 * - `herald_delivery_duration_seconds{target,outcome}` (`herald.delivery.duration`): attempt
 *   latency histogram;
 * - `herald_dead_events_total{subscription,ending}` (`herald.dead_events`): jobs whose attempts
 *   are over, sent to the `dead_letter_sink` or kept as dead in the `store`;
 * - `herald_queue_depth` (`herald.queue.depth`): delivery jobs queued or in flight;
 * - `herald_telemetry_spans_dropped_total` (`herald.telemetry.spans_dropped`): spans the export
 *   queue had no room for (collector slow or down).
 *
 * The OpenTelemetry instruments come from the global meter provider at creation: start the SDK
 * before creating the gateway (the Node adapter does).
 */
export interface GatewayMetrics {
  accepted(events: number, duplicates: number): void;
  rejected(reason: string): void;
  attempt(
    subscriptionId: string,
    target: AttemptTarget,
    outcome: DeliveryOutcome["kind"],
    seconds: number,
  ): void;
  dead(subscriptionId: string, ending: DeadEnding, jobs: number): void;
  spansDropped(spans: number): void;
  /**
   * Forgets a deleted subscription's series on `/metrics`, so short-lived subscriptions (`herald
   * tail`) do not pile up series there for the life of the process. Through OTLP, a delta
   * reader exports them no more (and the SDK forgets them); a cumulative one keeps exporting
   * what it exported once (past 2000 sets per instrument it counts new ones in its overflow
   * series): see the README. A subscription of the same id added back later goes on from its
   * counts, on `/metrics` and through a cumulative reader.
   */
  forgetSubscription(subscriptionId: string): void;
  /** How many attempt label sets are held, live or waiting to be handed over (for tests). */
  heldLabelSets(): number;
  /** The Prometheus text of every metric. */
  render(): Promise<string>;
}

/** The label sets of one (subscription, target, outcome) and its attempts not handed over yet. */
interface AttemptLabels {
  readonly deliveries: Labels;
  readonly duration: Labels;
  readonly otel: Attributes;
  pending: number;
}

/** Attempt latency buckets, seconds: loopback sinks to the longest allowed timeout. */
const DURATION_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300,
];

/**
 * What each metric counts: the Prometheus `HELP` line and the OpenTelemetry instrument's
 * description, one text for both so an OTLP backend and a scrape read the same words.
 */
const HELP = {
  accepted: "Events accepted (stored).",
  duplicate:
    "Events acknowledged without storing them: their source and id were seen within the dedupe window.",
  rejected: "Ingest requests refused, by problem code.",
  deliveries: "Delivery attempts, by subscription, target and outcome.",
  duration: "Delivery attempt latency, by target and outcome.",
  dead: "Delivery jobs whose attempts are over, by subscription and where they ended.",
  spansDropped: "Spans dropped because the trace export queue was full.",
  queueDepth: "Delivery jobs queued or in flight.",
} as const;

/**
 * @example
 * const metrics = createGatewayMetrics({ queueDepth: () => queue.size() });
 * metrics.accepted(1, 0);
 * await metrics.render();
 */
export function createGatewayMetrics(options: {
  readonly queueDepth: () => Promise<number>;
  /**
   * Whether a subscription still exists: an attempt that ends after its subscription was deleted
   * is not counted under its id (that would bring back the series `forgetSubscription` dropped).
   * Default: every id exists.
   */
  readonly known?: (subscriptionId: string) => boolean;
}): GatewayMetrics {
  const known = options.known ?? (() => true);
  const registry = createMetricRegistry();
  const meter = metrics.getMeter(TRACER_NAME);
  const accepted = registry.counter("herald_events_accepted_total", HELP.accepted);
  const duplicates = registry.counter("herald_events_duplicate_total", HELP.duplicate);
  const rejected = registry.counter("herald_events_rejected_total", HELP.rejected);
  const deliveries = registry.counter("herald_deliveries_total", HELP.deliveries);
  const duration = registry.histogram(
    "herald_delivery_duration_seconds",
    HELP.duration,
    DURATION_BUCKETS,
  );
  const dead = registry.counter("herald_dead_events_total", HELP.dead);
  const dropped = registry.counter("herald_telemetry_spans_dropped_total", HELP.spansDropped);
  // Counters without labels start at 0, so a scrape before the first event shows them.
  for (const counter of [accepted, duplicates, dropped]) counter.add(0);
  registry.gauge("herald_queue_depth", HELP.queueDepth, options.queueDepth);

  // Accepted and duplicate events are counted here and observed at collection time: an event
  // then costs the SDK nothing for them (they carry no attributes, so no set is ever left behind).
  const totals = { accepted: 0, duplicates: 0 };
  meter
    .createObservableCounter("herald.events.accepted", {
      description: HELP.accepted,
      unit: "{event}",
      valueType: ValueType.INT,
    })
    .addCallback((result) => {
      // Collection runs every observable callback before it reads the synchronous instruments
      // (sdk-metrics, MeterSharedState.collect), so attempts counted since the last collection
      // are handed over here and make this one.
      flushAttempts();
      result.observe(totals.accepted);
    });
  meter
    .createObservableCounter("herald.events.duplicate", {
      description: HELP.duplicate,
      unit: "{event}",
      valueType: ValueType.INT,
    })
    .addCallback((result) => result.observe(totals.duplicates));
  const otel = {
    rejected: meter.createCounter("herald.events.rejected", {
      description: HELP.rejected,
      unit: "{request}",
      valueType: ValueType.INT,
    }),
    duration: meter.createHistogram("herald.delivery.duration", {
      description: HELP.duration,
      unit: "s",
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    }),
    dead: meter.createCounter("herald.dead_events", {
      description: HELP.dead,
      unit: "{job}",
      valueType: ValueType.INT,
    }),
    dropped: meter.createCounter("herald.telemetry.spans_dropped", {
      description: HELP.spansDropped,
      unit: "{span}",
      valueType: ValueType.INT,
    }),
  };
  meter
    .createObservableGauge("herald.queue.depth", {
      description: HELP.queueDepth,
      unit: "{job}",
      valueType: ValueType.INT,
    })
    .addCallback(async (result) => {
      try {
        result.observe(await options.queueDepth());
      } catch {
        // No observation this time: the store did not answer.
      }
    });

  /**
   * The label sets of one (subscription, target, outcome), made once and reused, with the
   * attempts counted under them and not yet handed to the SDK.
   */
  const labelSets = new Map<string, Map<string, AttemptLabels>>();
  /** The label sets whose `pending` is above 0. */
  let unflushed: AttemptLabels[] = [];
  /**
   * Attempts go to the SDK one by one (a counter, not observed at collection time): the SDK
   * remembers every attribute set an observable instrument ever reported, to compute deltas, and
   * past its cardinality limit (2000) reported every new set as the overflow set's last value:
   * under delta temporality a deleted subscription's set stayed there for good, and the attempts
   * of later subscriptions were lost (the overflow's delta was 0). A counter's sets are
   * forgotten at each delta export, and its overflow sums; under cumulative temporality the SDK
   * keeps its totals, so an id added back goes on from its count.
   *
   * They are handed over in sums, at collection time (`flushAttempts`): an `add` costs the SDK a
   * hash of the attribute set (sorted keys, JSON) and a lookup, ~1 µs per attempt, 2% of a traced
   * gateway's CPU.
   */
  const otelDeliveries = meter.createCounter("herald.deliveries", {
    description: HELP.deliveries,
    unit: "{attempt}",
    valueType: ValueType.INT,
  });
  function attemptLabels(subscriptionId: string, target: AttemptTarget, outcome: string) {
    // By subscription first: forgetting one drops its sets without walking everyone's.
    let ofSubscription = labelSets.get(subscriptionId);
    if (ofSubscription === undefined) {
      ofSubscription = new Map();
      labelSets.set(subscriptionId, ofSubscription);
    }
    const key = `${target}\n${outcome}`;
    let found = ofSubscription.get(key);
    if (found === undefined) {
      found = {
        deliveries: { subscription: subscriptionId, target, outcome },
        duration: { target, outcome },
        otel: { "herald.subscription.id": subscriptionId, target, outcome },
        pending: 0,
      };
      ofSubscription.set(key, found);
    }
    return found;
  }
  function flushAttempts(): void {
    const sets = unflushed;
    unflushed = [];
    for (const labels of sets) {
      otelDeliveries.add(labels.pending, labels.otel);
      labels.pending = 0;
    }
  }

  return {
    accepted(events, dups) {
      if (events > 0) {
        accepted.add(events);
        totals.accepted += events;
      }
      if (dups > 0) {
        duplicates.add(dups);
        totals.duplicates += dups;
      }
    },
    rejected(reason) {
      rejected.add(1, { reason });
      otel.rejected.add(1, { reason });
    },
    attempt(subscriptionId, target, outcome, seconds) {
      if (!known(subscriptionId)) return;
      const labels = attemptLabels(subscriptionId, target, outcome);
      deliveries.add(1, labels.deliveries);
      duration.record(seconds, labels.duration);
      // Handed over early past UNFLUSHED_MAX sets: without an SDK no collection ever comes (the
      // API's meter is a no-op), and every deleted subscription's sets stayed here for good.
      if (labels.pending++ === 0 && unflushed.push(labels) >= UNFLUSHED_MAX) flushAttempts();
      otel.duration.record(seconds, labels.duration);
    },
    dead(subscriptionId, ending, jobs) {
      if (!known(subscriptionId)) return;
      dead.add(jobs, { subscription: subscriptionId, ending });
      otel.dead.add(jobs, { "herald.subscription.id": subscriptionId, ending });
    },
    spansDropped(spans) {
      dropped.add(spans);
      otel.dropped.add(spans);
    },
    forgetSubscription(subscriptionId) {
      registry.forget("subscription", subscriptionId);
      // Attempts not handed over yet still are at the next collection (`unflushed` holds them).
      labelSets.delete(subscriptionId);
    },
    heldLabelSets() {
      const held = new Set(unflushed);
      for (const sets of labelSets.values()) for (const labels of sets.values()) held.add(labels);
      return held.size;
    },
    render: () => registry.render(),
  };
}

/**
 * The most label sets with attempts not handed to the OpenTelemetry SDK yet: more are handed over
 * at once (the same sums, earlier), so what waits for a collection that may never come is bounded.
 */
const UNFLUSHED_MAX = 1024;
