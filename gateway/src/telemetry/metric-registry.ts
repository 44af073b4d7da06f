/**
 * A small metric registry that renders the Prometheus text exposition format (version 0.0.4):
 * counters and histograms with labels, and gauges read when rendered. It is what `GET /metrics`
 * serves, with or without an OpenTelemetry SDK; `gateway-metrics.ts` records into it and into
 * the OpenTelemetry API at once.
 */
export type Labels = Readonly<Record<string, string>>;

/** The label set of a metric without labels (one object, so its key is worked out once). */
const NO_LABELS: Labels = Object.freeze({});

interface Series<T> {
  readonly labels: Labels;
  value: T;
}

interface HistogramValue {
  readonly buckets: number[];
  sum: number;
  count: number;
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge" | "histogram";
  render(out: string[]): Promise<void>;
  /** Drops the series whose label `name` is `value` (absent for gauges). */
  forget?(name: string, value: string): void;
  /** How many label values it keeps to find series by for `forget` (absent for gauges). */
  indexed?(): number;
}

/**
 * How many forgotten series a family keeps the value of, the oldest dropped first (a few hundred
 * bytes each): enough for the subscriptions of a config, not for every `herald tail` ever run.
 */
export const RETIRED_LIMIT = 2000;

/** Keeps `value` as the latest retired one of `key`, the oldest dropped past `RETIRED_LIMIT`. */
export function retire<T>(retired: Map<string, T>, key: string, value: T): void {
  retired.delete(key);
  retired.set(key, value);
  if (retired.size > RETIRED_LIMIT) retired.delete(retired.keys().next().value as string);
}

/**
 * One family's series by key, with what `forget` needs to find a label value's series without
 * walking them all: once a label name has been forgotten by, the keys of its series are kept by
 * that label's value (deleting each of 10,000 subscriptions walked every series: 0.7 ms each).
 */
function createSeries<T>() {
  const series = new Map<string, Series<T>>();
  const retired = new Map<string, T>();
  /** By label name (those `forget` was asked about), the keys of the series by that label's value. */
  const byLabel = new Map<string, Map<string, Set<string>>>();
  const note = (byValue: Map<string, Set<string>>, labels: Labels, name: string, key: string) => {
    if (!Object.hasOwn(labels, name)) return;
    const value = labels[name] as string;
    const keys = byValue.get(value);
    if (keys === undefined) byValue.set(value, new Set([key]));
    else keys.add(key);
  };
  return {
    series,
    retired,
    add(key: string, entry: Series<T>): void {
      series.set(key, entry);
      for (const [name, byValue] of byLabel) note(byValue, entry.labels, name, key);
    },
    /**
     * Drops the series whose label `name` is `value`, keeping their values in `retired`: a
     * series of the same labels that comes back (a subscription a reload adds back) goes on from
     * it. Starting again from 0 would be a counter reset that Prometheus sees only when the new
     * value is below the last one it scraped; otherwise the counts up to it are lost to `rate()`.
     */
    forget(name: string, value: string): void {
      let byValue = byLabel.get(name);
      if (byValue === undefined) {
        byValue = new Map();
        for (const [key, { labels }] of series) note(byValue, labels, name, key);
        byLabel.set(name, byValue);
      }
      const keys = byValue.get(value);
      if (keys === undefined) return;
      byValue.delete(value);
      for (const key of keys) {
        const found = series.get(key);
        if (found === undefined) continue;
        series.delete(key);
        // Its keys under other indexed labels go too, or they would pile up.
        for (const [other, values] of byLabel) {
          if (other === name || !Object.hasOwn(found.labels, other)) continue;
          const otherValue = found.labels[other] as string;
          const set = values.get(otherValue);
          set?.delete(key);
          if (set?.size === 0) values.delete(otherValue);
        }
        retire(retired, key, found.value);
      }
    },
    /** How many label values are indexed, over every label name (for tests). */
    indexed(): number {
      let count = 0;
      for (const byValue of byLabel.values()) count += byValue.size;
      return count;
    },
  };
}

/** The value a new series starts from: a forgotten one's of the same labels, or `fresh`. */
export function revive<T>(retired: Map<string, T>, key: string, fresh: () => T): T {
  const kept = retired.get(key);
  if (kept === undefined) return fresh();
  retired.delete(key);
  return kept;
}

export interface Counter {
  add(value: number, labels?: Labels): void;
}

export interface Histogram {
  record(value: number, labels?: Labels): void;
}

// Callers that record often pass the same label objects again: their key is worked out once.
const keys = new WeakMap<Labels, string>();
function labelKey(labels: Labels): string {
  let key = keys.get(labels);
  if (key === undefined) {
    key = JSON.stringify(Object.entries(labels));
    keys.set(labels, key);
  }
  return key;
}

const escapeLabel = (value: string) =>
  value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels);
  if (extra !== undefined) pairs.push(extra);
  if (pairs.length === 0) return "";
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

const number = (value: number) =>
  Number.isFinite(value) ? String(value) : value > 0 ? "+Inf" : value < 0 ? "-Inf" : "NaN";

const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

/**
 * @example
 * const registry = createMetricRegistry();
 * const accepted = registry.counter("herald_events_accepted_total", "Events accepted.");
 * accepted.add(1, { mode: "binary" });
 * await registry.render(); // "# HELP herald_events_accepted_total Events accepted.\n# TYPE ..."
 */
export function createMetricRegistry() {
  const families: Family[] = [];

  function header(family: Family, out: string[]) {
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    out.push(`# TYPE ${family.name} ${family.type}`);
  }

  return {
    counter(name: string, help: string): Counter {
      const held = createSeries<number>();
      const { series, retired } = held;
      const family: Family = {
        name,
        help,
        type: "counter",
        async render(out) {
          header(family, out);
          for (const { labels, value } of series.values()) {
            out.push(`${name}${labelText(labels)} ${number(value)}`);
          }
        },
        forget: (label, value) => held.forget(label, value),
        indexed: () => held.indexed(),
      };
      families.push(family);
      return {
        add(value, labels = NO_LABELS) {
          if (!(value >= 0)) return;
          const key = labelKey(labels);
          const found = series.get(key);
          if (found === undefined) {
            held.add(key, { labels, value: revive(retired, key, () => 0) + value });
          } else found.value += value;
        },
      };
    },

    histogram(name: string, help: string, bounds: readonly number[]): Histogram {
      const held = createSeries<HistogramValue>();
      const { series, retired } = held;
      const family: Family = {
        name,
        help,
        type: "histogram",
        async render(out) {
          header(family, out);
          for (const { labels, value } of series.values()) {
            let cumulative = 0;
            bounds.forEach((bound, i) => {
              cumulative += value.buckets[i] ?? 0;
              out.push(`${name}_bucket${labelText(labels, ["le", number(bound)])} ${cumulative}`);
            });
            out.push(`${name}_bucket${labelText(labels, ["le", "+Inf"])} ${value.count}`);
            out.push(`${name}_sum${labelText(labels)} ${number(value.sum)}`);
            out.push(`${name}_count${labelText(labels)} ${value.count}`);
          }
        },
        forget: (label, value) => held.forget(label, value),
        indexed: () => held.indexed(),
      };
      families.push(family);
      return {
        record(value, labels = NO_LABELS) {
          if (Number.isNaN(value)) return;
          const key = labelKey(labels);
          let found = series.get(key);
          if (found === undefined) {
            const fresh = () => ({ buckets: bounds.map(() => 0), sum: 0, count: 0 });
            found = { labels, value: revive(retired, key, fresh) };
            held.add(key, found);
          }
          const i = bounds.findIndex((bound) => value <= bound);
          if (i >= 0) found.value.buckets[i] = (found.value.buckets[i] ?? 0) + 1;
          found.value.sum += value;
          found.value.count++;
        },
      };
    },

    /** A gauge read at render time; a read that fails leaves the gauge out of that scrape. */
    gauge(name: string, help: string, read: () => Promise<number> | number): void {
      const family: Family = {
        name,
        help,
        type: "gauge",
        async render(out) {
          let value: number;
          try {
            value = await read();
          } catch {
            return;
          }
          header(family, out);
          out.push(`${name} ${number(value)}`);
        },
      };
      families.push(family);
    },

    /**
     * Drops every series labelled `name="value"` (a deleted subscription's): they would
     * otherwise be served, and kept in memory, until the process ends. Their values are kept
     * (the last `RETIRED_LIMIT` per family), so one that comes back goes on counting from them.
     */
    forget(name: string, value: string): void {
      for (const family of families) family.forget?.(name, value);
    },

    /** How many label values the families keep to find series by (for tests). */
    indexed(): number {
      let count = 0;
      for (const family of families) count += family.indexed?.() ?? 0;
      return count;
    },

    /** Every metric in the text format, each family once, ending with a newline. */
    async render(): Promise<string> {
      const out: string[] = [];
      for (const family of families) await family.render(out);
      return out.length === 0 ? "" : `${out.join("\n")}\n`;
    },
  };
}

export type MetricRegistry = ReturnType<typeof createMetricRegistry>;
