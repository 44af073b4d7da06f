import type { SinkAnswer } from "../../deliver/sink-client.js";

/**
 * A `SinkAnswer` over the response's raw header list (name, value, name, value... as sent):
 * `Retry-After` found once, any other header looked up only when asked, so a delivery that never
 * asks builds no header map.
 *
 * @example
 * const answer = new RawHeadersAnswer(503, ["Retry-After", "120"], new Uint8Array(0), true);
 * answer.retryAfter; // "120"
 * answer.header("retry-after"); // "120"
 */
export class RawHeadersAnswer implements SinkAnswer {
  readonly retryAfter: string | null;

  constructor(
    readonly status: number,
    private readonly raw: readonly string[],
    readonly head: Uint8Array,
    readonly complete: boolean,
  ) {
    this.retryAfter = null;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i] as string;
      if (name.length === 11 && name.toLowerCase() === "retry-after") {
        this.retryAfter = raw[i + 1] as string;
        break;
      }
    }
  }

  /** Repeated fields joined with ", " (as `Headers.get` does). */
  header(name: string): string | null {
    const { raw } = this;
    const wanted = name.toLowerCase();
    let value: string | null = null;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const field = raw[i] as string;
      if (field.length === wanted.length && field.toLowerCase() === wanted) {
        const next = raw[i + 1] as string;
        value = value === null ? next : `${value}, ${next}`;
      }
    }
    return value;
  }

  forEachHeader(fn: (value: string, name: string) => void): void {
    const { raw } = this;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      fn(raw[i + 1] as string, (raw[i] as string).toLowerCase());
    }
  }
}
