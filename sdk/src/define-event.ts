import type { AttributeValue } from "./event-input.js";

/** What every kind of event may add: an `id` of the caller's, a `time`, extension attributes. */
export interface CommonFields {
  /** The event's id; by default a UUIDv7 made once and reused on every retry. */
  readonly id?: string | undefined;
  /** When the occurrence happened (default: now). */
  readonly time?: string | Date | undefined;
  /**
   * Extension attributes (lower-case names), e.g. `{ partitionkey: "tractor-7" }`. A context
   * attribute (`source`, `subject`, `time`, ...) or `data` here is a `TypeError`.
   */
  readonly extensions?: Readonly<Record<string, AttributeValue>> | undefined;
}

/** Fields of a notification: the entity (`subject`), where to fetch it (`dataref`), its ids. */
export interface NotificationFields<TData = unknown> extends CommonFields {
  /** The entity the event is about, e.g. `images/cat.png`; the consumer calls back for it. */
  readonly subject: string;
  /**
   * Where the consumer fetches the details (CloudEvents `dataref` extension): a URI-reference,
   * else a `TypeError`.
   */
  readonly dataref?: string | undefined;
  /** Identifiers only (JSON, at most `maxNotificationDataBytes`). */
  readonly data?: TData | undefined;
}

/** What a state transfer's `data` may be: any value but `undefined` (`null` is a JSON state). */
export type StateData = NonNullable<unknown> | null;

/** Fields of an event-carried state transfer: the state the consumer needs, in `data`. */
export interface StateFields<TData = unknown> extends CommonFields {
  readonly data: TData;
  readonly subject?: string | undefined;
  /** Overrides the definition's `dataschema`. */
  readonly dataschema?: string | undefined;
  /** Media type of `data` (default `application/json`, or `text/plain` for a string). */
  readonly datacontenttype?: string | undefined;
}

/** A notification event type of the catalog; `TData` types its identifiers. */
export interface NotificationDefinition<TData = undefined> {
  readonly kind: "notification";
  readonly type: string;
  readonly dataschema?: string | undefined;
  /** Never set: carries `TData` for the type checker. */
  readonly __data?: TData;
}

/** A state-transfer event type of the catalog; `TData` types the state. */
export interface StateDefinition<TData> {
  readonly kind: "state";
  readonly type: string;
  readonly dataschema?: string | undefined;
  /** Never set: carries `TData` for the type checker. */
  readonly __data?: TData;
}

/** Any entry of the catalog. */
export type EventDefinition<TData = unknown> =
  | NotificationDefinition<TData>
  | StateDefinition<TData>;

/** Fields `producer.emit` takes for a definition: typed by its kind and `TData`. */
export type FieldsOf<D> =
  D extends NotificationDefinition<infer T>
    ? NotificationFields<T>
    : D extends StateDefinition<infer T>
      ? StateFields<T>
      : never;

/**
 * Declares an event type once, with its payload pattern and data type, for `producer.emit`.
 * A `TypeError` when the type is empty or the kind unknown.
 *
 * @example
 * const imageUploaded = defineEvent<{ imageId: string }>({
 *   type: "com.example.image.uploaded", kind: "notification",
 * });
 * const partOrdered = defineEvent<PartOrder>({
 *   type: "com.example.tractor.part.ordered", kind: "state",
 *   dataschema: "https://schemas.example.com/part-order.json",
 * });
 * await producer.emit(imageUploaded, { subject: "images/cat.png", data: { imageId: "cat" } });
 */
export function defineEvent<TData = undefined>(spec: {
  readonly type: string;
  readonly kind: "notification";
  readonly dataschema?: string | undefined;
}): NotificationDefinition<TData>;
export function defineEvent<TData>(spec: {
  readonly type: string;
  readonly kind: "state";
  readonly dataschema?: string | undefined;
}): StateDefinition<TData>;
export function defineEvent(spec: {
  readonly type: string;
  readonly kind: "notification" | "state";
  readonly dataschema?: string | undefined;
}): EventDefinition {
  const { type, kind, dataschema } = spec ?? {};
  if (typeof type !== "string" || type === "") {
    throw new TypeError("defineEvent: type must be a non-empty string");
  }
  if (kind !== "notification" && kind !== "state") {
    throw new TypeError('defineEvent: kind must be "notification" or "state"');
  }
  if (dataschema !== undefined && (typeof dataschema !== "string" || dataschema === "")) {
    throw new TypeError("defineEvent: dataschema must be a non-empty URI");
  }
  return Object.freeze(dataschema === undefined ? { kind, type } : { kind, type, dataschema });
}
