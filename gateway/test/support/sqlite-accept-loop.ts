// A child process for the kill -9 test: opens the SQLite store at argv[2], leases a few jobs
// (printing "leased <job id>"), then accepts events for ever, 50 in flight, printing
// "committed <event id>" after each accept resolved. stdout is a pipe, written synchronously on
// Linux, so a printed line is never ahead of what was committed.
import { openSqliteStore } from "../../src/adapters/node/sqlite-store.js";

const path = process.argv[2];
if (path === undefined) throw new Error("usage: sqlite-accept-loop.ts <path>");
const store = openSqliteStore({ path });
const event = (id: number) => ({
  event: {
    attributes: { specversion: "1.0", id: String(id), source: "/crash", type: "t" },
    data: { kind: "json" as const, value: { id } },
  },
  subscriptionIds: ["a", "b"],
});

await store.queue.accept([event(0), event(1), event(2)]);
for (const job of await store.queue.lease(3, 60_000, new AbortController().signal)) {
  process.stdout.write(`leased ${job.id}\n`);
}
process.stdout.write("committed 0\ncommitted 1\ncommitted 2\n");
let next = 3;
async function loop(): Promise<never> {
  for (;;) {
    const id = next++;
    await store.queue.accept([event(id)]);
    process.stdout.write(`committed ${id}\n`);
  }
}
await Promise.all(Array.from({ length: 50 }, loop));
