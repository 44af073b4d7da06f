/**
 * A CloudEvent as a sink receives it from Herald: the attributes (the gateway's provenance
 * `recordedtime`, `authtype`, `authid`, `authclaims` among the extensions) and `data`, decoded by
 * its media type the same in every mode: a JSON type (`*\/json`, `*\/*+json`) parsed, `text/*` a
 * string (read in its charset), anything else a `Uint8Array` (a JSON-format `data` string under
 * `application/xml` too: the bytes it encodes). In binary mode every attribute is a string
 * (headers have no types).
 */
export interface ReceivedEvent<TData = unknown> {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string;
  readonly time?: string;
  readonly datacontenttype?: string;
  readonly dataschema?: string;
  readonly dataref?: string;
  readonly data?: TData;
  readonly [extension: string]: unknown;
}
