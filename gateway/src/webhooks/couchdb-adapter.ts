import type { CloudEvent } from "../event/cloud-event.js";
import { queryParameter } from "../http/query-parameter.js";
import { foreignEvent } from "./foreign-event.js";
import { isJsonObject, type PayloadFields, payloadFields, quoteValue } from "./payload-fields.js";
import { checkRecordCount } from "./records.js";
import type { WebhookAdapter } from "./webhook-adapter.js";
import { eventTime } from "./webhook-time.js";

/**
 * `_db_updates` row types (a Map: a `type` such as "constructor" must find nothing). CouchDB also
 * writes `ddoc_updated` when a design document of the database changes. couchdb.md has no type
 * of its own for it: a design document is a document of the database, so the database was
 * updated, and the row is the document's "Update" (`org.apache.couchdb.database.updated`).
 * Refusing it failed the forwarder on every design-document write.
 */
const DATABASE_EVENTS: ReadonlyMap<string, string> = new Map([
  ["created", "org.apache.couchdb.database.created"],
  ["updated", "org.apache.couchdb.database.updated"],
  ["ddoc_updated", "org.apache.couchdb.database.updated"],
  ["deleted", "org.apache.couchdb.database.deleted"],
]);

/** A continuous feed's heartbeat line: nothing but JSON whitespace (an empty body too). */
const HEARTBEAT = /^[ \t\r\n]*$/;

export interface CouchDbAdapterOptions {
  readonly id: string;
  /** The CouchDB server URL, the `source` of database events (`https://couch.example.com`). */
  readonly server: string;
  /** The database a `_changes` feed is read from; else the `db` query parameter names it. */
  readonly database?: string | undefined;
}

/**
 * The `couchdb` adapter (cloudevents/adapters/couchdb.md). CouchDB has no webhooks: a forwarder
 * reads a feed and posts what it reads, authenticated with a publisher JWT. It posts a feed
 * response (`{ "results": [...], "last_seq": ... }`) or a single row (a line of a continuous
 * feed); each row becomes one CloudEvent, all or nothing:
 *
 * - a `/{db}/_changes` row (`seq`, `id`, `changes`): `id` = `seq`, `source` = server URL + `/` +
 *   database, `type` `org.apache.couchdb.document.updated` (`.deleted` when `deleted: true`),
 *   `subject` = the document id, `data` = `changes`;
 * - a `/_db_updates` row (`seq`, `db_name`, `type`): `id` = `seq`, `source` = server URL,
 *   `type` `org.apache.couchdb.database.` + created | updated | deleted (a `ddoc_updated` row,
 *   a design document changed, is `updated`), `subject` = `db_name`.
 *
 * `time` is the receipt time ("Current time"). The line that ends a continuous feed
 * (`{"last_seq": ..., "pending": 0}`, sent when the feed times out) carries no change: a
 * forwarder that posts every line gets 204 for it, not a refusal it would retry. So does a
 * heartbeat, the empty line a feed read with `heartbeat=` sends while nothing changes.
 *
 * @example
 * const adapter = createCouchDbAdapter({ id: "orders-db", server: "https://couch.example.com", database: "orders" });
 */
export function createCouchDbAdapter(options: CouchDbAdapterOptions): WebhookAdapter {
  const server = options.server.replace(/\/+$/, "");
  return {
    id: options.id,
    kind: "couchdb",
    auth: { scheme: "publisher" },
    records: true,
    mediaTypes: ["application/json"],
    normalise(request) {
      if (HEARTBEAT.test(request.text())) {
        return { kind: "acknowledge", reason: "CouchDB feed heartbeat (an empty line)" };
      }
      const payload = request.json();
      const fields = payloadFields("couchdb", payload);
      const results =
        isJsonObject(payload) && Object.hasOwn(payload, "results") ? payload.results : undefined;
      if (results === undefined && isFeedEnd(payload)) {
        return { kind: "acknowledge", reason: "end of a CouchDB continuous feed (last_seq)" };
      }
      // `at` names a row that is no object: the body itself, or `results[i]`.
      const rows: { row: unknown; f: PayloadFields; at: string }[] = [];
      if (results === undefined) rows.push({ row: payload, f: fields, at: "body" });
      else if (!Array.isArray(results)) fields.problem("results", "must be a list of rows");
      else {
        checkRecordCount(results.length, request.maxRecords);
        results.forEach((row: unknown, i) => {
          rows.push({ row, f: fields.at(row, `results[${i}].`), at: `results[${i}]` });
        });
      }
      const time = eventTime([], request.receivedAt);
      // `?db=a&db=b` names no one database: refused (400) rather than one of them taken.
      const database = options.database ?? queryParameter(request.url, "db");
      const events: CloudEvent[] = [];
      let databaseReported = false;
      for (const { row, f, at } of rows) {
        if (!isJsonObject(row)) {
          fields.problem(at, "must be an object: a _changes or _db_updates row");
          continue;
        }
        const seq = f.text("seq");
        if (Object.hasOwn(row, "db_name")) {
          const dbName = f.text("db_name");
          const kind = f.text("type");
          const type = kind === undefined ? undefined : DATABASE_EVENTS.get(kind);
          if (kind !== undefined && type === undefined) {
            f.problem(
              "type",
              `is ${quoteValue(kind)}; expected created, updated, ddoc_updated or deleted`,
            );
          }
          events.push(
            foreignEvent({
              id: seq ?? "",
              source: server,
              type: type ?? "",
              subject: dbName,
              time,
            }),
          );
          continue;
        }
        const docId = f.text("id");
        const changes = row.changes;
        if (!Array.isArray(changes)) {
          f.problem(
            "changes",
            changes === undefined ? "is missing" : "must be a list of revisions",
          );
        }
        // couchdb.md's Delete row: `deleted: true`. CouchDB writes a boolean (absent when
        // false); a forwarder that rewrote it as text ("true") or a number would otherwise have
        // its deletion delivered as `document.updated`.
        const deleted = row.deleted;
        if (deleted !== undefined && typeof deleted !== "boolean") {
          f.problem("deleted", `is ${quoteValue(deleted)}; must be true or false`);
        }
        if ((database === undefined || database === "") && !databaseReported) {
          databaseReported = true;
          fields.problem("?db", "is missing: set database in the adapter or pass ?db=NAME");
        }
        events.push(
          foreignEvent(
            {
              id: seq ?? "",
              source: `${server}/${encodeURIComponent(database ?? "")}`,
              type: `org.apache.couchdb.document.${deleted === true ? "deleted" : "updated"}`,
              subject: docId,
              time,
            },
            { kind: "json", value: changes },
          ),
        );
      }
      fields.throwIfProblems();
      return { kind: "events", events };
    },
  };
}

/**
 * The closing line of a continuous `_changes` or `_db_updates` feed: `last_seq` (and `pending`),
 * no `seq` of a row of its own.
 */
function isFeedEnd(payload: unknown): boolean {
  return (
    isJsonObject(payload) && Object.hasOwn(payload, "last_seq") && !Object.hasOwn(payload, "seq")
  );
}
