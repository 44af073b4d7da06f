import { createMemorySubscriptionStore } from "./memory-subscription-store.js";
import { describeSubscriptionStore } from "./subscription-store.case.js";

describeSubscriptionStore("memory", async () => createMemorySubscriptionStore());
