// Before the ingest-auth scenario measures anything: is Herald really authenticating, and does it
// accept every one of the bench's tokens? A Herald that ignores tokens would make the ratio ~1.0 and
// meaningless; a config or token mistake would turn the measured runs into a flood of cheap 401s.
// Each probe is one HTTP request; the rejected ones store nothing, the accepted ones (one event per
// publisher) must reach the sink.
import { request } from "node:http";
import { waitUntilSettled } from "./sink-client.js";

/**
 * @typedef {object} Answer
 * @property {number} status
 * @property {string} problem  title and detail of a problem+json body, else the body's start
 */

/**
 * POSTs one binary-mode CloudEvent.
 * @param {string} url  http://H:N/events
 * @param {{ id: string, type: string, token?: string }} e
 * @returns {Promise<Answer>}
 */
function postEvent(url, e) {
  const body = '{"probe":true}';
  /** @type {Record<string, string>} */
  const headers = {
    "ce-specversion": "1.0",
    "ce-id": e.id,
    "ce-source": "/bench/preflight",
    "ce-type": e.type,
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
  };
  if (e.token !== undefined) headers.authorization = `Bearer ${e.token}`;
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, problem: problemOf(text) }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** @param {string} text */
function problemOf(text) {
  try {
    const p = JSON.parse(text);
    const parts = [p.title, p.detail].filter((x) => typeof x === "string" && x !== "");
    if (parts.length > 0) return parts.join(": ").slice(0, 300);
  } catch {
    // not JSON: show its start
  }
  return text.trim().slice(0, 200);
}

const ok = (/** @type {number} */ s) => s >= 200 && s < 300;
const shown = (/** @type {Answer} */ a) =>
  `${a.status}${a.problem === "" ? "" : ` (${a.problem})`}`;

/**
 * Runs the probes against a Herald started with the bench's `auth` config; throws an Error whose
 * message says what is wrong and what it means when Herald does not behave like an authenticating
 * gateway. Returns what each probe got, for the JSON.
 * @param {object} o
 * @param {string} o.heraldUrl
 * @param {string} o.sinkUrl
 * @param {string[]} o.tokens
 * @param {string} o.allowedType    a type the publisher rule allows
 * @param {string} o.forbiddenType  a type it does not
 */
export async function probeAuth(o) {
  const url = `${o.heraldUrl}/events`;
  const nonce = `${Date.now().toString(36)}-preflight`;

  const noToken = await postEvent(url, { id: `${nonce}-none`, type: o.allowedType });
  if (ok(noToken.status)) {
    throw new Error(
      `Herald accepted an event WITHOUT a token (status ${noToken.status}): it does not enforce ` +
        "publisher authentication, so herald-auth would measure the unauthenticated path and the " +
        "ratio would mean nothing. Is auth wired into `herald serve` in this build (issue 3)?",
    );
  }
  if (noToken.status !== 401) {
    throw new Error(`an event without a token should get 401, got ${shown(noToken)}`);
  }

  const first = /** @type {string} */ (o.tokens[0]);
  const forbidden = await postEvent(url, {
    id: `${nonce}-forbidden`,
    type: o.forbiddenType,
    token: first,
  });
  if (forbidden.status === 401) {
    throw new Error(
      `Herald rejected the token of publisher-0 with 401: the bench's auth config or its tokens are wrong: ${shown(forbidden)}`,
    );
  }
  if (ok(forbidden.status)) {
    throw new Error(
      `Herald accepted type ${o.forbiddenType}, which the publisher rule does not allow ` +
        `(status ${forbidden.status}): the publisher policy is not enforced`,
    );
  }
  if (forbidden.status !== 403) {
    throw new Error(
      `an event of a type outside the publisher rule should get 403, got ${shown(forbidden)}`,
    );
  }

  /** @type {string[]} */
  const rejected = [];
  for (const [i, token] of o.tokens.entries()) {
    const a = await postEvent(url, { id: `${nonce}-${i}`, type: o.allowedType, token });
    if (!ok(a.status)) rejected.push(`publisher-${i}: ${shown(a)}`);
  }
  if (rejected.length > 0) {
    throw new Error(
      `Herald rejected ${rejected.length} of the ${o.tokens.length} publishers' tokens; the ` +
        `bench's auth config or its tokens are wrong (401: token not accepted, 403: publisher ` +
        `rule):\n  ${rejected.slice(0, 10).join("\n  ")}${rejected.length > 10 ? "\n  ..." : ""}`,
    );
  }
  const settled = await waitUntilSettled(o.sinkUrl, {
    expected: o.tokens.length,
    quietMs: 2_000,
    maxMs: 10_000,
  });
  if (settled.deliveries !== o.tokens.length) {
    throw new Error(
      `Herald accepted one event from each of the ${o.tokens.length} publishers, but the sink ` +
        `counted ${settled.deliveries} deliveries`,
    );
  }
  return {
    withoutToken: noToken.status,
    forbiddenType: forbidden.status,
    publishersAccepted: o.tokens.length,
    delivered: settled.deliveries,
  };
}
