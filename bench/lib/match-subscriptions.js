// The match scenario's subscriptions and events: a mix of the filters people write, named so that
// each event matches about one subscription. Used by the micro part (lib/match-micro.js, the
// matchers called directly) and by the end-to-end part (a generated Herald config).
//
// Subscription i, by i % 20:
//   0-11  (60%) exact type       filters: [{ exact: { type: "com.example.match.<i>" } }]
//   12-15 (20%) prefix source    filters: [{ prefix: { source: "/match/<i>/" } }]
//   16-17 (10%) suffix subject   filters: [{ suffix: { subject: "/<i>" } }]
//   18    (5%)  all/any/not      filters: [{ all: [{ prefix: { type: "com.example.match.<i>." } },
//                                  { any: [{ exact: { subject: "s<i>" } }, { suffix: { subject: "/s<i>" } }] },
//                                  { not: { exact: { region: "test" } } }] }]
//   19    (5%)  sql, when Herald compiles it:
//                                filters: [{ exact: { type: "com.example.match.<i>" } }, { sql: "subject = 's<i>'" }]
//               otherwise the all/any/not filter of 18.
// The trailing "/" and "." keep prefixes and suffixes from matching another subscription's events
// ("/match/1/" is not a prefix of "/match/12/x"; "/1" is not a suffix of "orders/11").

export const MATCH_TYPE_PREFIX = "com.example.match.";

/** What the SQL probe compiles: Herald supports `sql` filters when this does not throw. */
export const SQL_PROBE = { sql: "subject = 'x'" };

/**
 * @param {(filter: object) => unknown} compileFilter  the gateway's compileFilter
 * @returns {boolean}
 */
export function supportsSql(compileFilter) {
  try {
    compileFilter(SQL_PROBE);
    return true;
  } catch {
    return false;
  }
}

/**
 * @typedef {object} MatchSubscription
 * @property {string} id
 * @property {readonly object[]} filters
 */

/**
 * @param {number} i
 * @param {boolean} sql
 * @returns {"exact-type" | "prefix-source" | "suffix-subject" | "all-any" | "sql"}
 */
export function kindOf(i, sql) {
  const k = i % 20;
  if (k < 12) return "exact-type";
  if (k < 16) return "prefix-source";
  if (k < 18) return "suffix-subject";
  if (k === 19 && sql) return "sql";
  return "all-any";
}

/**
 * `count` subscriptions of the mix, in order, ids `match-<i>`.
 * @param {number} count
 * @param {{ sql: boolean }} o
 * @returns {MatchSubscription[]}
 */
export function matchSubscriptions(count, o) {
  const out = [];
  for (let i = 0; i < count; i++) out.push({ id: `match-${i}`, filters: filtersOf(i, o.sql) });
  return out;
}

/**
 * @param {number} i
 * @param {boolean} sql
 */
function filtersOf(i, sql) {
  switch (kindOf(i, sql)) {
    case "exact-type":
      return [{ exact: { type: `${MATCH_TYPE_PREFIX}${i}` } }];
    case "prefix-source":
      return [{ prefix: { source: `/match/${i}/` } }];
    case "suffix-subject":
      return [{ suffix: { subject: `/${i}` } }];
    case "sql":
      return [{ exact: { type: `${MATCH_TYPE_PREFIX}${i}` } }, { sql: `subject = 's${i}'` }];
    default:
      return [
        {
          all: [
            { prefix: { type: `${MATCH_TYPE_PREFIX}${i}.` } },
            { any: [{ exact: { subject: `s${i}` } }, { suffix: { subject: `/s${i}` } }] },
            { not: { exact: { region: "test" } } },
          ],
        },
      ];
  }
}

/**
 * An event that matches subscription `i` of the mix and no other.
 * @param {number} i
 * @param {boolean} sql
 * @returns {{ attributes: Record<string, string> }}
 */
export function eventFor(i, sql) {
  const base = {
    specversion: "1.0",
    id: `e-${i}`,
    source: "/match/none",
    type: `${MATCH_TYPE_PREFIX}none`,
    subject: "none",
  };
  switch (kindOf(i, sql)) {
    case "exact-type":
      return { attributes: { ...base, type: `${MATCH_TYPE_PREFIX}${i}` } };
    case "prefix-source":
      return { attributes: { ...base, source: `/match/${i}/orders` } };
    case "suffix-subject":
      return { attributes: { ...base, subject: `orders/${i}` } };
    case "sql":
      return { attributes: { ...base, type: `${MATCH_TYPE_PREFIX}${i}`, subject: `s${i}` } };
    default:
      return { attributes: { ...base, type: `${MATCH_TYPE_PREFIX}${i}.v1`, subject: `s${i}` } };
  }
}

/**
 * `count` events spread over the `subscriptions` (a stride coprime with typical sizes), each
 * matching the one subscription it was made for.
 * @param {number} subscriptions
 * @param {number} count
 * @param {boolean} sql
 */
export function matchEvents(subscriptions, count, sql) {
  const out = [];
  for (let k = 0; k < count; k++) out.push(eventFor((k * 7919 + 13) % subscriptions, sql));
  return out;
}

/**
 * The end-to-end part's config: `count` subscriptions of the mix, except that the one in the
 * middle of the list is `exact: { type: <wrkType> }`. wrk's events (that type, source /bench/wrk,
 * no subject) match it and no other, with 10 subscriptions as with 10,000.
 * @param {number} count
 * @param {{ sql: boolean, wrkType: string }} o
 * @returns {MatchSubscription[]}
 */
export function endToEndSubscriptions(count, o) {
  const out = matchSubscriptions(count, o);
  const middle = Math.floor(count / 2);
  out[middle] = { id: `match-${middle}`, filters: [{ exact: { type: o.wrkType } }] };
  return out;
}
