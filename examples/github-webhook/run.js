// GitHub webhooks through Herald: "GitHub" posts signed deliveries to /webhooks/github-main;
// Herald checks X-Hub-Signature-256, turns each delivery into the CloudEvent the CloudEvents
// GitHub adapter document prescribes, and delivers it, signed (Standard Webhooks), to a CI
// service that verifies the signature with `receive()` from @herald/sdk/receive. A delivery
// altered on its way is refused at either end.
// Run: npm start -w @herald/example-github-webhook   (after `npm run build` at the root)
import { spawn } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { HeraldError, problemResponse, receive } from "@herald/sdk/receive";

const here = dirname(fileURLToPath(import.meta.url));
const herald = join(here, "..", "..", "gateway", "bin", "herald.js");

const repository = {
  full_name: "octo-org/hello-world",
  url: "https://api.github.com/repos/octo-org/hello-world",
  html_url: "https://github.com/octo-org/hello-world",
};

/** What GitHub sends: the event's name and a delivery id in headers, signed with the secret. */
export function githubDelivery(secret, event, payload) {
  const body = JSON.stringify(payload);
  const hmac = createHmac("sha256", secret).update(body).digest("hex");
  return {
    headers: {
      "content-type": "application/json",
      "user-agent": "GitHub-Hookshot/example",
      "x-github-event": event,
      "x-github-delivery": randomUUID(),
      "x-hub-signature-256": `sha256=${hmac}`,
    },
    body,
  };
}

/**
 * The CI service: checks each delivery's Standard Webhooks signature and decodes the event with
 * `receive()`; a refusal is answered with its status and problem document (`problemResponse`).
 */
function startCi(signingSecret, onEvent) {
  const deliveries = []; // as they came over the wire: headers and body
  const events = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const headers = Object.entries(req.headers).filter(([, v]) => typeof v === "string");
      let answer;
      try {
        const event = await receive(
          new Request(`http://ci${req.url}`, { method: req.method, headers, body }),
          { signingSecret },
        );
        deliveries.push({ headers: Object.fromEntries(headers), body: body.toString() });
        events.push(event);
        answer = new Response(null, { status: 204 });
        onEvent(event);
      } catch (err) {
        if (!(err instanceof HeraldError)) throw err;
        answer = problemResponse(err); // 401 for a bad signature
      }
      res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(await answer.text());
    });
  });
  return { server, deliveries, events };
}

/** Posts a delivery; resolves with the status and, for a refusal, the problem's `code`. */
async function post(url, { headers, body }) {
  const res = await fetch(url, { method: "POST", headers, body });
  const text = await res.text();
  return { status: res.status, code: text ? JSON.parse(text).code : undefined };
}

/** Runs the example; resolves with Herald's answers, the CI service's events and refusals. */
export async function runExample() {
  const githubSecret = randomBytes(32).toString("hex"); // the webhook's secret on GitHub
  const signingSecret = `whsec_${randomBytes(32).toString("base64")}`; // Herald -> CI
  let ciGot;
  const twoEvents = new Promise((resolve) => {
    ciGot = resolve;
  });
  const ci = startCi(signingSecret, () => {
    if (ci.events.length === 2) ciGot();
  });
  await new Promise((ok) => ci.server.listen(0, "127.0.0.1", ok));
  const ciUrl = `http://127.0.0.1:${ci.server.address().port}`;

  const gateway = spawn(
    process.execPath,
    [herald, "serve", "--config", "herald.yaml", "--no-auth"],
    {
      cwd: here,
      env: {
        ...process.env,
        GITHUB_WEBHOOK_SECRET: githubSecret,
        SIGNING_SECRET: signingSecret,
        CI_URL: ciUrl,
        HERALD_LOG_LEVEL: "warn",
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise((resolve, reject) => {
    gateway.once("exit", (code) => reject(new Error(`herald exited with ${code}`)));
    createInterface({ input: gateway.stdout }).on("line", (line) => {
      const m = /^herald listening on (\S+)$/.exec(line);
      if (m) resolve(m[1]);
    });
  });
  try {
    const hook = `${url}/webhooks/github-main`;
    const answers = {};
    // GitHub's first delivery to a new webhook: nothing to store, 204.
    answers.ping = await post(
      hook,
      githubDelivery(githubSecret, "ping", { zen: "Keep it logically awesome.", hook_id: 1 }),
    );
    const push = githubDelivery(githubSecret, "push", {
      ref: "refs/heads/main",
      before: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      after: "0000000000000000000000000000000000000001",
      repository,
      pusher: { name: "octocat" },
    });
    answers.push = await post(hook, push);
    const pullRequest = githubDelivery(githubSecret, "pull_request", {
      action: "opened",
      number: 7,
      pull_request: { title: "Add a README", updated_at: "2026-05-01T09:30:00Z" },
      repository,
    });
    answers.pullRequest = await post(hook, pullRequest);
    // Someone changed the body on its way (a push to a branch that was not pushed): GitHub's
    // signature no longer matches, and Herald refuses it before reading the body.
    answers.tamperedWebhook = await post(hook, {
      headers: { ...push.headers, "x-github-delivery": randomUUID() },
      body: push.body.replace("refs/heads/main", "refs/heads/release"),
    });

    await twoEvents;
    // The same at the CI service: a delivery Herald signed, replayed with its body altered.
    const signed = ci.deliveries.find((d) => JSON.parse(d.body).type === "com.github.push");
    const replayed = Object.entries(signed.headers).filter(
      ([name]) => name === "content-type" || name.startsWith("webhook-"),
    );
    const tamperedDelivery = await post(`${ciUrl}/github`, {
      headers: Object.fromEntries(replayed), // the webhook-* headers Herald signed with
      body: signed.body.replaceAll("refs/heads/main", "refs/heads/release"),
    });
    const events = ci.events.toSorted((a, b) => a.type.localeCompare(b.type));
    const deliveryIds = {
      push: push.headers["x-github-delivery"],
      pullRequest: pullRequest.headers["x-github-delivery"],
    };
    return { answers, events, deliveryIds, tamperedDelivery, signedPush: signed };
  } finally {
    gateway.kill("SIGTERM");
    await new Promise((ok) => gateway.once("exit", ok));
    ci.server.closeAllConnections();
    await new Promise((ok) => ci.server.close(ok));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { answers, events, tamperedDelivery } = await runExample();
  for (const [name, a] of Object.entries(answers)) {
    console.log(`GitHub -> Herald  ${name.padEnd(16)} ${a.status}${a.code ? ` ${a.code}` : ""}`);
  }
  for (const e of events) {
    console.log(`Herald -> CI      ${e.type}  (signature verified)`);
    console.log(`  id ${e.id}  source ${e.source}`);
    console.log(`  subject ${e.subject}  time ${e.time}  authid ${e.authid} (${e.authtype})`);
  }
  console.log(
    `tampered delivery -> CI  ${tamperedDelivery.status} ${tamperedDelivery.code} (refused by receive())`,
  );
}
