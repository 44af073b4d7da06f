/**
 * SNS subscription ARNs: the topic's ARN, `:`, and the UUID SNS gives the subscription, written
 * in lower case (`arn:aws:sns:us-east-2:123456789012:MyTopic:6b0e71bd-7e97-4d97-80ce-4a0994e55286`).
 * Only that exact spelling is taken: the `x-amz-sns-subscription-arn` header is the `source` of
 * notifications (aws-sns.md) and is not covered by the message signature, so every other
 * spelling of one subscription (an upper-case digit, a suffix) would be another `source`, and a
 * replayed message under it would escape dedupe.
 */
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** A topic ARN: `arn:PARTITION:sns:REGION:ACCOUNT:NAME`. */
const TOPIC = "arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:[^:\\s]+";
const TOPIC_ARN = new RegExp(`^${TOPIC}$`);
const SUBSCRIPTION_ARN = new RegExp(`^${TOPIC}:${UUID}$`);
const SUBSCRIPTION_SUFFIX = new RegExp(`^:${UUID}$`);

/**
 * True when `arn` is an SNS topic ARN (`arn:aws:sns:us-east-2:123456789012:MyTopic`), as the
 * `TopicArn` of SNS messages: a bare topic name, or another service's ARN, is not.
 *
 * @example
 * isTopicArn("arn:aws:sns:us-east-2:123456789012:MyTopic"); // true
 * isTopicArn("MyTopic");                                    // false
 */
export function isTopicArn(arn: string): boolean {
  return TOPIC_ARN.test(arn);
}

/**
 * True when `arn` is a subscription ARN as SNS writes them.
 *
 * @example
 * isSubscriptionArn("arn:aws:sns:us-east-2:123456789012:MyTopic:6b0e71bd-7e97-4d97-80ce-4a0994e55286"); // true
 */
export function isSubscriptionArn(arn: string): boolean {
  return SUBSCRIPTION_ARN.test(arn);
}

/**
 * True when `arn` is a subscription ARN of `topic`: `topic`, `:`, a lower-case UUID.
 *
 * @example
 * isSubscriptionOf("arn:aws:sns:us-east-2:123456789012:MyTopic:attacker", "arn:aws:sns:us-east-2:123456789012:MyTopic"); // false
 */
export function isSubscriptionOf(arn: string, topic: string): boolean {
  return arn.startsWith(topic) && SUBSCRIPTION_SUFFIX.test(arn.slice(topic.length));
}

/**
 * The `SubscriptionArn` of SNS's answer to a `ConfirmSubscription` request (XML), when it has one.
 *
 * @example
 * confirmedSubscriptionArn("<SubscriptionArn>arn:aws:sns:...:MyTopic:6b0e...</SubscriptionArn>");
 */
export function confirmedSubscriptionArn(xml: string): string | undefined {
  const found = /<SubscriptionArn>\s*([^<\s]+)\s*<\/SubscriptionArn>/.exec(xml)?.[1];
  return found !== undefined && isSubscriptionArn(found) ? found : undefined;
}
