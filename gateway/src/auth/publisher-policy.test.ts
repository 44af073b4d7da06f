import { describe, expect, test } from "vitest";
import type { PublisherRule } from "../config/auth-config.js";
import type { CloudEvent } from "../event/cloud-event.js";
import { problemParts } from "../http/problem.js";
import type { Clock } from "../ports/clock.js";
import { Forbidden, RateLimited } from "./policy-errors.js";
import { createPublisherPolicy } from "./publisher-policy.js";

const event = (source: string, type: string, extra: Record<string, string> = {}): CloudEvent => ({
  attributes: { specversion: "1.0", id: "1", source, type, ...extra },
});

const iss = "https://id.example.com";
const orders = { iss, sub: "orders-service" };

const rules: PublisherRule[] = [
  {
    claims: { sub: "orders-service" },
    sources: ["/orders", "/orders/*"],
    types: ["com.example.order.*"],
  },
  { claims: { scope: "events:publish" }, sources: ["/public/*"] },
  { claims: { groups: ["ops", "oncall"] } },
];

/** What `fn` throws, to assert on. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return expect.fail("expected a throw");
}

describe("createPublisherPolicy: which rule", () => {
  test("the first rule whose claims match wins, even when a later one would allow more", () => {
    const policy = createPublisherPolicy(rules);
    const both = { iss, sub: "orders-service", scope: "events:publish", groups: ["ops", "oncall"] };
    expect(policy.match(both)?.index).toBe(0);
    // Rule 0 applies and refuses /public/x; rule 1 would have allowed it, but is never tried.
    expect(() => policy.authorize(both, [event("/public/x", "com.example.order.a")])).toThrow(
      Forbidden,
    );
    expect(policy.match({ iss, sub: "web", scope: "openid events:publish" })?.index).toBe(1);
    expect(policy.match({ iss, sub: "ops-bot", groups: ["oncall", "ops", "x"] })?.index).toBe(2);
    expect(policy.match({ iss, sub: "ops-bot", groups: ["ops"] })).toBeUndefined();
  });

  test("no matching rule is 403 forbidden with a fixed detail", () => {
    const error = thrown(() =>
      createPublisherPolicy(rules).authorize({ iss, sub: "stranger" }, [event("/orders", "x")]),
    );
    expect(error).toBeInstanceOf(Forbidden);
    expect(error).toMatchObject({
      status: 403,
      code: "forbidden",
      message: "no publisher rule matches this token",
      violations: [],
    });
    expect(createPublisherPolicy([]).match(orders)).toBeUndefined();
  });

  test("authorize returns the grant: the rule and its index", () => {
    const grant = createPublisherPolicy(rules).authorize(orders, [
      event("/orders/eu/1", "com.example.order.created"),
    ]);
    expect(grant).toEqual({ index: 0, rule: rules[0] });
  });
});

describe("createPublisherPolicy: sources and types", () => {
  const policy = createPublisherPolicy(rules);

  test("source and type must each match one of the rule's globs", () => {
    expect(() =>
      policy.authorize(orders, [
        event("/orders", "com.example.order.created"),
        event("/orders/eu/42", "com.example.order.line.added"),
      ]),
    ).not.toThrow();
    const error = thrown(() =>
      policy.authorize(orders, [event("/billing", "com.example.order.created")]),
    );
    expect(error).toMatchObject({
      message: "source is not one this publisher may publish",
      violations: [
        { attribute: "source", index: 0, message: "is not one this publisher may publish" },
      ],
    });
    expect(
      thrown(() => policy.authorize(orders, [event("/orders", "com.example.invoice")])),
    ).toMatchObject({
      message: "type is not one this publisher may publish",
    });
  });

  test("an absent list allows any value", () => {
    const scoped = { iss, sub: "web", scope: "events:publish" };
    expect(() => policy.authorize(scoped, [event("/public/a", "anything.at.all")])).not.toThrow();
    const ops = { iss, sub: "ops", groups: ["ops", "oncall"] };
    expect(() => policy.authorize(ops, [event("/anywhere", "any.type")])).not.toThrow();
  });

  test("glob characters in event values are only characters", () => {
    expect(() => policy.authorize(orders, [event("/orders*", "com.example.order.x")])).toThrow(
      Forbidden,
    );
    expect(() => policy.authorize(orders, [event("/orders", "comXexampleXorderXx")])).toThrow(
      Forbidden,
    );
  });

  test("a batch is all or nothing: every offender is named with its index", () => {
    const error = thrown(() =>
      policy.authorize(orders, [
        event("/orders/1", "com.example.order.created"),
        event("/billing/1", "com.example.order.created"),
        event("/orders/2", "com.example.order.created"),
        event("/billing/2", "com.example.invoice.sent"),
      ]),
    );
    expect(error).toBeInstanceOf(Forbidden);
    const forbidden = error as Forbidden;
    expect(forbidden.message).toBe(
      "event 1: source is not one this publisher may publish; " +
        "event 3: source is not one this publisher may publish; " +
        "event 3: type is not one this publisher may publish",
    );
    expect(forbidden.violations.map((v) => [v.index, v.attribute])).toEqual([
      [1, "source"],
      [3, "source"],
      [3, "type"],
    ]);
    expect(forbidden.extensions).toEqual({
      attributes: ["source", "type"],
      errors: forbidden.violations,
    });
  });

  test("a long list of offenders is cut short in detail, not in errors", () => {
    const events = Array.from({ length: 8 }, (_, i) => event(`/x/${i}`, "com.example.order.a"));
    const error = thrown(() => policy.authorize(orders, events)) as Forbidden;
    expect(error.message).toMatch(/^event 0: source .*; event 4: source [^;]* \(and 3 more\)$/);
    expect(error.violations).toHaveLength(8);
  });

  test("the 403 problem document names the offenders and never a claim", () => {
    const error = thrown(() => policy.authorize(orders, [event("/billing", "x")]));
    const { status, body, headers } = problemParts(error);
    expect(status).toBe(403);
    expect(headers).toEqual({
      "content-type": "application/problem+json",
      "www-authenticate":
        'Bearer error="insufficient_scope", error_description="source is not one this publisher may publish; type is not one this publisher may publish"',
    });
    const problem = JSON.parse(body) as Record<string, unknown>;
    expect(problem).toMatchObject({
      code: "forbidden",
      status: 403,
      attributes: ["source", "type"],
    });
    expect(body).not.toContain("orders-service");
    expect(body).not.toContain("/orders");
  });
});

describe("createPublisherPolicy: rate limits", () => {
  function setup() {
    let now = 0;
    const clock: Clock = { now: () => now };
    const limited: PublisherRule[] = [
      { claims: { scope: "events:publish" }, rate: { count: 3, periodMs: 1_000 } },
      { claims: { sub: "unlimited" } },
    ];
    const policy = createPublisherPolicy(limited, { clock });
    return {
      policy,
      advance: (ms: number) => {
        now += ms;
      },
    };
  }
  const alice = { iss, sub: "alice", scope: "events:publish" };
  const bob = { iss, sub: "bob", scope: "events:publish" };
  const three = [event("/a", "t"), event("/a", "t"), event("/a", "t")];

  test("429 with Retry-After once the rate is used up, then it recovers", () => {
    const { policy, advance } = setup();
    expect(policy.authorize(alice, three).index).toBe(0);
    const error = thrown(() => policy.authorize(alice, [event("/a", "t")]));
    expect(error).toBeInstanceOf(RateLimited);
    expect(error).toMatchObject({ status: 429, code: "rate_limited", retryAfterSeconds: 1 });
    const { status, headers } = problemParts(error);
    expect(status).toBe(429);
    expect(headers["retry-after"]).toBe("1");
    advance(333);
    expect(() => policy.authorize(alice, [event("/a", "t")])).toThrow(RateLimited);
    advance(1);
    expect(() => policy.authorize(alice, [event("/a", "t")])).not.toThrow();
    advance(1_000);
    expect(() => policy.authorize(alice, three)).not.toThrow();
  });

  test("each publisher under a rule has its own bucket", () => {
    const { policy } = setup();
    policy.authorize(alice, three);
    expect(() => policy.authorize(alice, [event("/a", "t")])).toThrow(RateLimited);
    expect(() => policy.authorize(bob, three)).not.toThrow();
    // The same sub from another issuer is another publisher.
    expect(() => policy.authorize({ ...alice, iss: "https://other" }, three)).not.toThrow();
  });

  test("a refused batch takes no tokens, and neither does a forbidden one", () => {
    const { policy } = setup();
    policy.authorize(alice, [event("/a", "t")]);
    expect(() => policy.authorize(alice, three)).toThrow(RateLimited);
    expect(() => policy.authorize(alice, [event("/a", "t"), event("/a", "t")])).not.toThrow();
    const narrow = createPublisherPolicy([
      { claims: { sub: "alice" }, sources: ["/ok"], rate: { count: 1, periodMs: 1_000 } },
    ]);
    expect(() => narrow.authorize(alice, [event("/nope", "t")])).toThrow(Forbidden);
    expect(() => narrow.authorize(alice, [event("/ok", "t")])).not.toThrow();
  });

  test("a rule without rate is never limited", () => {
    const { policy } = setup();
    const many = Array.from({ length: 1_000 }, () => event("/a", "t"));
    for (let i = 0; i < 5; i++) policy.authorize({ iss, sub: "unlimited" }, many);
  });
});
