import { createCoalescer } from "./coalescer.js";
import type {
  CommonFields,
  EventDefinition,
  FieldsOf,
  NotificationFields,
  StateData,
  StateFields,
} from "./define-event.js";
import { encodeBatch, encodeEvent, payloadByteLength } from "./encode-message.js";
import { NotificationTooLarge, StateTooLarge } from "./errors.js";
import { type Envelope, type EventInput, STRING_ATTRIBUTES, toEnvelope } from "./event-input.js";
import { postMessage, type Transport } from "./post-message.js";
import { type ProducerOptions, producerSettings } from "./producer-options.js";
import { loadTraceApi, type TraceApi, traceAttributes } from "./trace-context.js";
import { uuidv7 } from "./uuid-v7.js";

/** What the gateway accepted: the pair that identifies the event (and dedupes it). */
export interface Sent {
  readonly id: string;
  readonly source: string;
}

/** `producer.notification`'s input: a type and the notification's fields. */
export interface NotificationInput<TData = unknown> extends NotificationFields<TData> {
  readonly type: string;
}

/** `producer.stateTransfer`'s input: a type and the state-transfer fields. */
export interface StateTransferInput<TData = unknown> extends StateFields<TData> {
  readonly type: string;
}

/** Emits events of one `source` to one gateway. Made by `createProducer`. */
export interface Producer {
  readonly source: string;
  /** A thin event: the entity in `subject`, where to get it in `dataref`, identifiers in `data`. */
  notification<TData>(input: NotificationInput<TData>): Promise<Sent>;
  /**
   * A fat event: the state the consumer needs travels in `data`. `TData` excludes `undefined`,
   * so state that may be missing (`data: order | undefined`) is a compile error, not a
   * `TypeError` at run time.
   */
  stateTransfer<TData extends StateData>(input: StateTransferInput<TData>): Promise<Sent>;
  /** Plain CloudEvents (or `cloudevents` package instances); an array is one batch request. */
  send(event: EventInput): Promise<Sent>;
  send(events: readonly EventInput[]): Promise<Sent[]>;
  /** An event of the catalog (`defineEvent`), its fields typed by the definition. */
  emit<D extends EventDefinition<unknown>>(definition: D, fields: FieldsOf<D>): Promise<Sent>;
}

/** The pair that identifies an event, as `send` and the other methods resolve with it. */
function sentOf({ attributes }: Envelope): Sent {
  return { id: attributes.id as string, source: attributes.source as string };
}

function nonEmpty(method: string, name: string, value: unknown): void {
  if (typeof value !== "string" || !value) {
    throw new TypeError(`${method}: ${name} must be a non-empty string`);
  }
}

/**
 * The id, time and extensions of an event. A context attribute (or `data`) in `extensions` is
 * refused: the method's own field would silently drop it (`id`, `subject`, `data`), or it would
 * silently replace what the producer sets (`source`, the `datacontenttype` of JSON data).
 */
function common(fields: CommonFields): Record<string, unknown> {
  for (const name in fields.extensions) {
    if (STRING_ATTRIBUTES.has(name) || /^data(_base64)?$/.test(name)) {
      throw new TypeError(
        `extensions.${name} is no extension: give it as its own field (a per-event source with send())`,
      );
    }
  }
  return { ...fields.extensions, id: fields.id, time: fields.time };
}

/**
 * A producer for one `source` and one gateway: options are checked here, once (a mistake is a
 * `TypeError`). Every event gets an `id` (UUIDv7) and a `time` when it is made; the id is the
 * same on every retry, so the gateway's dedupe makes retries safe. Single events go in binary
 * mode (`mode: "structured"` on request), arrays in batch mode. Refusals reject with a
 * `HeraldError` subclass (`code`, `status`, `problem`).
 *
 * @example
 * const producer = createProducer({
 *   endpoint: "http://127.0.0.1:8080/events",
 *   source: "/images",
 *   token: serviceAccountToken({ privateKey, issuer, audience: "herald", subject: "uploader" }),
 * });
 * await producer.notification({
 *   type: "com.example.image.uploaded",
 *   subject: "images/cat.png",
 *   dataref: "https://images.example.com/images/cat.png",
 * });
 */
export function createProducer(options: ProducerOptions): Producer {
  const settings = producerSettings(options);
  const { source, mode, now } = settings;
  const transport: Transport = settings;
  const defaults = { source, now, newId: () => uuidv7(now()) };
  let traceApi: TraceApi | undefined;
  const traceReady = settings.tracing
    ? loadTraceApi().then((api) => {
        traceApi = api;
      })
    : undefined;

  /** The envelope, with the active span's trace context when the input has none. */
  async function envelopeOf(input: EventInput): Promise<Envelope> {
    if (traceReady !== undefined && traceApi === undefined) await traceReady;
    const trace = traceApi === undefined ? undefined : traceAttributes(traceApi);
    const traced =
      trace === undefined || input.traceparent !== undefined ? input : { ...trace, ...input };
    return toEnvelope(traced, defaults);
  }

  /**
   * The W3C Trace Context headers of the request: the first event's. On this single hop the
   * distributed-tracing extension and the protocol's headers carry the same trace information
   * (extensions/distributed-tracing.md), `tracestate` (vendors' data) included.
   */
  function traceHeaders(envelopes: readonly Envelope[]): Record<string, string> {
    const { traceparent, tracestate } = envelopes[0]?.attributes ?? {};
    if (typeof traceparent !== "string") return {};
    return typeof tracestate === "string" ? { traceparent, tracestate } : { traceparent };
  }

  const coalescer =
    settings.coalesce === undefined
      ? undefined
      : createCoalescer(transport, mode, settings.coalesce, traceHeaders);

  async function sendOne(envelope: Envelope, maxBytes?: number): Promise<Sent> {
    const sent = sentOf(envelope);
    if (coalescer !== undefined && maxBytes === undefined) {
      await coalescer.submit(envelope);
      return sent;
    }
    const message = encodeEvent(envelope, mode);
    if (maxBytes !== undefined && message.size > maxBytes) {
      throw new StateTooLarge(message.size, maxBytes);
    }
    if (coalescer !== undefined) await coalescer.submit(envelope, message);
    else await postMessage(transport, message, traceHeaders([envelope]));
    return sent;
  }

  function notification<TData>(input: NotificationInput<TData>): Promise<Sent> {
    return notify(input, undefined);
  }

  /** A notification; `dataschema` (of the identifiers) comes from a catalog definition. */
  async function notify<TData>(
    input: NotificationInput<TData>,
    dataschema: string | undefined,
  ): Promise<Sent> {
    nonEmpty("notification", "type", input?.type);
    nonEmpty("notification", "subject", input.subject);
    if (input.dataref !== undefined) nonEmpty("notification", "dataref", input.dataref);
    const envelope = await envelopeOf({
      ...common(input),
      type: input.type,
      subject: input.subject,
      // An extension `dataref` is the notification's, unless the field gives one.
      dataref: input.dataref ?? input.extensions?.dataref,
      dataschema,
      data: input.data,
    });
    // The data as it goes on the wire: bytes as given, a string as UTF-8, the rest as JSON text.
    const size = envelope.payload === undefined ? 0 : payloadByteLength(envelope.payload);
    if (size > settings.maxNotificationDataBytes) {
      throw new NotificationTooLarge(size, settings.maxNotificationDataBytes);
    }
    return sendOne(envelope);
  }

  async function stateTransfer<TData extends StateData>(
    input: StateTransferInput<TData>,
  ): Promise<Sent> {
    nonEmpty("stateTransfer", "type", input?.type);
    if (input.data === undefined) {
      throw new TypeError("stateTransfer: data is the state the consumer needs; it is required");
    }
    const envelope = await envelopeOf({
      ...common(input),
      type: input.type,
      subject: input.subject,
      dataschema: input.dataschema,
      datacontenttype: input.datacontenttype,
      data: input.data,
    });
    return sendOne(envelope, settings.maxEventBytes);
  }

  async function send(events: EventInput | readonly EventInput[]): Promise<Sent | Sent[]> {
    if (!Array.isArray(events)) return sendOne(await envelopeOf(events as EventInput));
    if (events.length === 0) return [];
    const envelopes: Envelope[] = [];
    for (const event of events as readonly EventInput[]) envelopes.push(await envelopeOf(event));
    await postMessage(transport, encodeBatch(envelopes), traceHeaders(envelopes));
    return envelopes.map(sentOf);
  }

  function emit(definition: EventDefinition<unknown>, fields: object): Promise<Sent> {
    const { type, kind, dataschema } = definition ?? {};
    if (kind === "notification") {
      return notify({ ...(fields as NotificationFields), type }, dataschema);
    }
    if (kind === "state") {
      // Checked at run time by stateTransfer, as for a caller without TypeScript.
      const state = fields as StateFields<StateData>;
      return stateTransfer({ ...state, type, dataschema: state.dataschema ?? dataschema });
    }
    return Promise.reject(new TypeError("emit: definition must come from defineEvent"));
  }

  return { source, notification, stateTransfer, send, emit } as Producer;
}
