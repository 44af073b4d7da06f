import type { FieldPath } from "./field-path.js";
import {
  DEFAULT_DEDUPE_WINDOW_MS,
  DEFAULT_NATS_STREAM,
  DEFAULT_SQLITE_PATH,
  DEFAULT_STORE,
  type StoreConfig,
} from "./herald-config.js";
import { type Report, trackReport } from "./report.js";
import {
  expectDuration,
  expectFilePath,
  expectInteger,
  expectList,
  expectObject,
  expectOneOf,
  expectString,
  isAbsent,
  optional,
  rejectUnknownKeys,
  required,
} from "./value-checks.js";

const STORE_KINDS = ["memory", "sqlite", "nats"] as const;

/** Keys each kind accepts; the other kinds' keys are unknown keys. */
const KEYS_OF: Readonly<Record<StoreConfig["kind"], readonly string[]>> = {
  memory: ["kind", "dedupeWindow"],
  sqlite: ["kind", "path", "dedupeWindow"],
  nats: [
    "kind",
    "url",
    "stream",
    "dedupeWindow",
    "replicas",
    "ackWait",
    "startupWait",
    "credentials",
    "user",
    "password",
    "token",
  ],
};

/** Longest `dedupeWindow`: a week of keys is plenty, and keeps the dedupe table bounded. */
export const MAX_DEDUPE_WINDOW_MS = 7 * 86_400_000;

/** JetStream stream names may not hold whitespace, `.`, `*`, `>` or path separators. */
const STREAM_NAME = /^[^\s.*>/\\]+$/;

/**
 * Validates `store` (DESIGN.md "Config"): `memory`, `sqlite` (`path`, default
 * `.herald/herald.db`) or `nats` (`url`: one URL or a list, `stream`, default `herald`,
 * `replicas` 1 to 5, `ackWait`, `startupWait`, and one way to authenticate: `credentials` (a `.creds` file),
 * `user` + `password`, or `token`). Absent means the SQLite default.
 *
 * @example
 * parseStore({ kind: "sqlite" }, ["store"], report); // { kind: "sqlite", path: ".herald/herald.db" }
 */
export function parseStore(raw: unknown, path: FieldPath, report: Report): StoreConfig | undefined {
  if (isAbsent(raw)) return DEFAULT_STORE;
  const tracked = trackReport(report);
  const r = tracked.report;
  const object = expectObject(raw, path, r);
  if (object === undefined) return undefined;
  const at = (key: string): FieldPath => [...path, key];
  const kind = required(object.kind, at("kind"), r, (value, p, rr) =>
    expectOneOf(value, STORE_KINDS, p, rr),
  );
  if (kind === undefined) return undefined;
  rejectUnknownKeys(object, KEYS_OF[kind], path, r);
  const dedupeWindowMs =
    optional(object.dedupeWindow, at("dedupeWindow"), r, parseDedupeWindow) ??
    DEFAULT_DEDUPE_WINDOW_MS;
  let store: StoreConfig | undefined;
  switch (kind) {
    case "memory":
      store = { kind, dedupeWindowMs };
      break;
    case "sqlite": {
      const file = optional(object.path, at("path"), r, expectFilePath) ?? DEFAULT_SQLITE_PATH;
      store = { kind, path: file, dedupeWindowMs };
      break;
    }
    case "nats": {
      const url = required(object.url, at("url"), r, parseNatsUrl);
      const stream =
        optional(object.stream, at("stream"), r, parseStreamName) ?? DEFAULT_NATS_STREAM;
      const replicas = optional(object.replicas, at("replicas"), r, (v, p, rr) =>
        expectInteger(v, p, rr, 1, 5),
      );
      const ackWaitMs = optional(object.ackWait, at("ackWait"), r, parseAckWait);
      const startupWaitMs = optional(object.startupWait, at("startupWait"), r, parseStartupWait);
      const credentials = optional(object.credentials, at("credentials"), r, expectFilePath);
      const user = optional(object.user, at("user"), r, expectString);
      const password = optional(object.password, at("password"), r, expectString);
      const token = optional(object.token, at("token"), r, expectString);
      if (password !== undefined && user === undefined) r(at("password"), "needs user");
      const secrets = [credentials, user, token].filter((v) => v !== undefined).length;
      if (secrets > 1) r(path, "give one of credentials, user (and password) or token");
      store =
        url === undefined
          ? undefined
          : {
              kind,
              url,
              stream,
              dedupeWindowMs,
              ...(replicas === undefined ? {} : { replicas }),
              ...(ackWaitMs === undefined ? {} : { ackWaitMs }),
              ...(startupWaitMs === undefined ? {} : { startupWaitMs }),
              ...(credentials === undefined ? {} : { credentials }),
              ...(user === undefined ? {} : { user }),
              ...(password === undefined ? {} : { password }),
              ...(token === undefined ? {} : { token }),
            };
      break;
    }
  }
  return tracked.failed() ? undefined : store;
}

/** `0` turns dedupe off; otherwise a duration up to a week. */
function parseDedupeWindow(value: unknown, path: FieldPath, report: Report) {
  const ms = expectDuration(value, path, report);
  if (ms === undefined || ms <= MAX_DEDUPE_WINDOW_MS) return ms;
  report(path, "must be at most 168h (P7D)");
  return undefined;
}

/** `ack_wait`: from 1 s (JetStream keeps held jobs alive a third of it at a time) to 1 h. */
function parseAckWait(value: unknown, path: FieldPath, report: Report) {
  const ms = expectDuration(value, path, report);
  if (ms === undefined || (ms >= 1_000 && ms <= 3_600_000)) return ms;
  report(path, "must be from 1s to 1h");
  return undefined;
}

/** How long serve waits for NATS at start: `0s` (fail at once) up to 1 h. */
function parseStartupWait(value: unknown, path: FieldPath, report: Report) {
  const ms = expectDuration(value, path, report);
  if (ms === undefined || ms <= 3_600_000) return ms;
  report(path, "must be at most 1h");
  return undefined;
}

/** A non-empty string (`expectString`) that the file system can take: no NUL byte. */

/** One server URL or a list of them (the NATS client tries each), all `nats://` or all `tls://`. */
function parseNatsUrl(value: unknown, path: FieldPath, report: Report) {
  if (!Array.isArray(value)) return parseNatsServer(value, path, report);
  const tracked = trackReport(report);
  const urls = expectList(value, path, tracked.report)?.map((item, index) =>
    parseNatsServer(item, [...path, index], tracked.report),
  );
  if (tracked.failed() || urls === undefined) return undefined;
  const kept = urls.filter((url) => url !== undefined);
  if (new Set(kept.map((url) => TLS_SCHEME.test(url))).size > 1) {
    report(path, "give every server with the same scheme: all nats:// or all tls://");
    return undefined;
  }
  return kept;
}

/** `tls://` asks for TLS (the connection fails where a server does not offer it). */
const TLS_SCHEME = /^tls:\/\//i;

/**
 * One server as the NATS client takes it: `nats://host:port`, `tls://host:port` or `host:port`.
 * Refused here rather than at `herald serve`: what the client cannot use (another scheme such as
 * `ws://` or `http://`, a bad port, several URLs in one string, which the client would read as
 * the last one), and a user or password in the URL, which the client ignores (connecting without
 * them) and which would show in the start-up error.
 */
function parseNatsServer(value: unknown, path: FieldPath, report: Report) {
  const text = expectString(value, path, report);
  if (text === undefined) return undefined;
  if (text.includes(",")) {
    report(path, "one server per URL: give several as a list, [nats://a:4222, nats://b:4222]");
    return undefined;
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme !== undefined && scheme !== "nats" && scheme !== "tls") {
    report(path, "must be a nats:// or tls:// URL (or host:port)");
    return undefined;
  }
  let url: URL | undefined;
  try {
    url = new URL(scheme === undefined ? `nats://${text}` : text);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.hostname === "" || url.port === "0") {
    report(path, "must be a server URL such as nats://127.0.0.1:4222 (port 1 to 65535)");
    return undefined;
  }
  if (url.username !== "" || url.password !== "") {
    report(
      path,
      "must not hold a user or password (NATS would not get them): use store.user and store.password, or store.token",
    );
    return undefined;
  }
  return text;
}

/**
 * The longest `stream`: JetStream names are at most 255 bytes, and the bucket's stream is
 * `KV_<stream>-subscriptions` (17 more).
 */
const MAX_STREAM_NAME_BYTES = 255 - "KV_".length - "-subscriptions".length;

function parseStreamName(value: unknown, path: FieldPath, report: Report) {
  const name = expectString(value, path, report);
  if (name === undefined) return undefined;
  if (!STREAM_NAME.test(name)) {
    report(path, "must be a JetStream stream name: no whitespace, '.', '*', '>', '/' or '\\'");
    return undefined;
  }
  if (new TextEncoder().encode(name).length > MAX_STREAM_NAME_BYTES) {
    report(
      path,
      `must be at most ${MAX_STREAM_NAME_BYTES} bytes (the bucket's stream, KV_<stream>-subscriptions, is a JetStream name: at most 255)`,
    );
    return undefined;
  }
  return name;
}
