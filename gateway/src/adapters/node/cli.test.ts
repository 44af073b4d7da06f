import { type ChildProcess, spawn as spawnProcess } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type RecordingSink, startRecordingSink } from "../../../test/support/recording-sink.js";
import { jwksOf, makeKey } from "../../../test/support/test-issuer.js";
import { subscription } from "../../subscriptions/matcher.case.js";
import { runCli } from "./cli.js";
import { openSqliteStore } from "./sqlite-store.js";

// The built CLI, as users run it (turbo builds before testing).
const HERALD = fileURLToPath(new URL("../../../bin/herald.js", import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-cli-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runCli({
    argv,
    cwd: dir,
    env,
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

describe("herald validate", () => {
  it("accepts a valid config", async () => {
    await writeFile(
      join(dir, "ok.yaml"),
      "subscriptions:\n  - id: a\n    sink: http://127.0.0.1:9/x\n",
    );
    const { code, stdout, stderr } = await cli(["validate", "--config", "ok.yaml"]);
    expect(code).toBe(0);
    expect(stdout).toContain("valid (1 subscription)\n");
    // Valid, but serve needs --no-auth for it: said, not hidden.
    expect(stderr).toMatch(/no auth section; `herald serve` starts it only with --no-auth/);
  });

  it("checks the files the config names, as serve reads them: a missing jwks or creds file is an error with its line", async () => {
    await writeFile(
      join(dir, "files.yaml"),
      [
        "auth:",
        "  issuers:",
        "    - issuer: https://id.example.com",
        "      audience: herald",
        "      jwks: ./missing-jwks.json",
        "  publishers: [{ claims: { sub: a } }]",
        "store: { kind: nats, url: nats://127.0.0.1:4222, credentials: ./missing.creds }",
        "subscriptions: []",
      ].join("\n"),
    );
    const { code, stdout, stderr } = await cli(["validate", "--config", "files.yaml"]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      /files\.yaml:5:\d+ auth\.issuers\[0\]\.jwks: cannot read jwks \.\/missing-jwks\.json: file not found/,
    );
    expect(stderr).toMatch(/files\.yaml:7:\d+ store\.credentials: cannot read \.\/missing\.creds/);
    // With the key file in place (relative to the config's folder) it is valid.
    await writeFile(
      join(dir, "missing-jwks.json"),
      JSON.stringify(jwksOf(await makeKey("ES256", "k"))),
    );
    // A file that is there but not a .creds file is refused too (the client would refuse it at
    // start: "unable to parse credentials").
    await writeFile(join(dir, "missing.creds"), "creds");
    const garbled = await cli(["validate", "--config", "files.yaml"]);
    expect(garbled.code).toBe(1);
    expect(garbled.stderr).toMatch(
      /files\.yaml:7:\d+ store\.credentials: \.\/missing\.creds: not a NATS credentials file/,
    );
    await writeFile(
      join(dir, "missing.creds"),
      [
        "-----BEGIN NATS USER JWT-----",
        "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJVQSJ9.c2ln",
        "------END NATS USER JWT------",
        "",
        "-----BEGIN USER NKEY SEED-----",
        "SUAIBDPBAUTWCWBKIO6XHQNINK5FWJW4OHLXC3HQ2KFE4PEJUA44CNHTAM",
        "------END USER NKEY SEED------",
        "",
      ].join("\n"),
    );
    const fixed = await cli(["validate", "--config", "files.yaml"]);
    expect(fixed.stderr).toBe("");
    expect(fixed.code).toBe(0);
  });

  it("warns about jwks, inline or in a file, none of whose keys can verify a token", async () => {
    const es = await makeKey("ES256", "k");
    const config = (jwks: string, algorithms = "[ES256]") =>
      `auth:\n  issuers:\n    - issuer: https://id.example.com\n      audience: herald\n      algorithms: ${algorithms}\n      jwks: ${jwks}\n`;
    await writeFile(join(dir, "ed-only.json"), JSON.stringify(jwksOf(await makeKey("EdDSA", "e"))));
    const cases = [
      // A coordinate mistyped while pasting the key: it never imports.
      config('{ keys: [{ kty: EC, crv: P-256, x: "bad", y: "bad" }] }'),
      // Keys of a type the allowed algorithms do not use.
      config("./ed-only.json"),
    ];
    for (const [index, text] of cases.entries()) {
      await writeFile(join(dir, `unusable-${index}.yaml`), text);
      const { code, stderr } = await cli(["validate", "--config", `unusable-${index}.yaml`]);
      // A warning: such a config started before (and may have other issuers that work).
      expect(code).toBe(0);
      expect(stderr).toMatch(
        /^herald: warning: .*unusable-\d\.yaml:6:\d+ auth\.issuers\[0\]\.jwks: no key in it can verify a token under ES256: .*; every token of this issuer will be refused$/m,
      );
    }
    await writeFile(join(dir, "usable.yaml"), config(JSON.stringify(jwksOf(es))));
    expect((await cli(["validate", "--config", "usable.yaml"])).stderr).not.toContain("warning");
  });

  it("refuses a SQLite store.path that no one could open: a folder, or a file in the way", async () => {
    await mkdir(join(dir, "store-folder"), { recursive: true });
    await writeFile(join(dir, "a-file"), "");
    await writeFile(
      join(dir, "store.yaml"),
      "store: { kind: sqlite, path: store-folder }\nsubscriptions: []\n",
    );
    const folder = await cli(["validate", "--config", "store.yaml"]);
    expect(folder.code).toBe(1);
    expect(folder.stderr).toBe(
      `herald: ${join(dir, "store.yaml")}:1:30 store.path: it is a folder; give store.path a file name in it, such as ${join(dir, "store-folder")}/herald.db\n`,
    );
    await writeFile(
      join(dir, "store.yaml"),
      "store: { kind: sqlite, path: a-file/x/h.db }\nsubscriptions: []\n",
    );
    const file = await cli(["validate", "--config", "store.yaml"]);
    expect(file.code).toBe(1);
    expect(file.stderr).toContain(`store.path: ${join(dir, "a-file")} is a file, not a folder`);
  });

  it("reports every problem with file, line and field, and exits 1", async () => {
    await writeFile(
      join(dir, "bad.yaml"),
      [
        "listen: { port: 8080 }",
        "subscriptions:",
        "  - id: a",
        "    sink: not-a-url",
        "    filters:",
        "      - regex: { type: x }",
        "colour: blue",
      ].join("\n"),
    );
    const { code, stderr } = await cli(["validate", "--config", "bad.yaml"]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/bad\.yaml:4:\d+ subscriptions\[0\]\.sink: /);
    expect(stderr).toMatch(/bad\.yaml:6:\d+ subscriptions\[0\]\.filters\[0\]/);
    expect(stderr).toMatch(/bad\.yaml:7:\d+ colour/);
    // One line each, every one of them said by herald (grep "^herald:" finds them all).
    const lines = stderr.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).toMatch(/^herald: \/.*bad\.yaml:\d+:\d+ /);
  });

  it("reports an invalid CESQL filter with its subscription id and the position in the expression", async () => {
    await writeFile(
      join(dir, "cesql.yaml"),
      [
        "subscriptions:",
        "  - id: fine",
        "    sink: http://127.0.0.1:9/x",
        "  - id: thumbnails",
        "    sink: http://127.0.0.1:9/x",
        "    filters:",
        `      - sql: "subject LIKE 'uploads/%' AND (size > 10"`,
      ].join("\n"),
    );
    const { code, stderr } = await cli(["validate", "--config", "cesql.yaml"]);
    expect(code).toBe(1);
    const line = stderr.split("\n").find((l) => l.includes("filters[0].sql"));
    // The file position of the expression, then the position inside it (column 40 is its end).
    expect(line).toMatch(/cesql\.yaml:7:\d+ subscriptions\[1\]\.filters\[0\]\.sql: /);
    expect(line).toMatch(/1:40/);
    expect(line).toContain('(subscription "thumbnails")');
    expect(stderr).not.toContain('"fine"');
  });

  it("interpolates environment variables and names a missing one", async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: config text under test
    const text = "subscriptions:\n  - id: a\n    sink: ${SINK}\n";
    await writeFile(join(dir, "env.yaml"), text);
    expect((await cli(["validate", "--config", "env.yaml"], { SINK: "http://h/x" })).code).toBe(0);
    const missing = await cli(["validate", "--config", "env.yaml"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("SINK");
  });

  // CloudEvents spec.md "Size Limits": intermediaries MUST forward events of 64 KiB or less.
  it("warns, without failing, about limits.maxEventBytes below the spec's 64 KiB", async () => {
    await writeFile(join(dir, "small.yaml"), "limits:\n  maxEventBytes: 1024\n");
    const small = await cli(["validate", "--config", "small.yaml"]);
    expect(small.code).toBe(0);
    expect(small.stdout).toContain("valid");
    expect(small.stderr).toMatch(
      /^herald: warning: .*small\.yaml:2:18 limits\.maxEventBytes: 1024 is below 65536 bytes \(64 KiB\).*"Size Limits"/m,
    );
    await writeFile(join(dir, "spec-min.yaml"), "limits: { maxEventBytes: 65536 }\n");
    expect((await cli(["validate", "--config", "spec-min.yaml"])).stderr).not.toContain("warning");
  });

  it("refuses a file that is not UTF-8 at its first such byte, and a UTF-16 one by name", async () => {
    await writeFile(
      join(dir, "latin1.yaml"),
      Buffer.from("subscriptions: []\n# caf\u00e9\n", "latin1"),
    );
    const latin1 = await cli(["validate", "--config", "latin1.yaml"]);
    expect(latin1.code).toBe(1);
    expect(latin1.stderr).toBe(
      `herald: ${join(dir, "latin1.yaml")}:2:6 the file is not UTF-8 text (is it Latin-1?); save it as UTF-8\n`,
    );
    await writeFile(
      join(dir, "utf16.yaml"),
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("subscriptions: []\n", "utf16le")]),
    );
    const utf16 = await cli(["serve", "--config", "utf16.yaml", "--no-auth", "--port", "0"]);
    expect(utf16.code).toBe(1);
    expect(utf16.stderr).toContain("utf16.yaml:1:1 the file is UTF-16 text; save it as UTF-8");
  });

  it("without --config and no herald.yaml, points at a herald.json or herald.yml that is there", async () => {
    const lone = await mkdtemp(join(tmpdir(), "herald-lookalike-"));
    try {
      await writeFile(join(lone, "herald.yml"), "subscriptions: []\n");
      let stderr = "";
      const code = await runCli({
        argv: ["validate"],
        cwd: lone,
        env: {},
        stdout: () => {},
        stderr: (t) => {
          stderr += t;
        },
      });
      expect(code).toBe(1);
      expect(stderr).toBe(
        `herald: config file not found: ${join(lone, "herald.yaml")}\nherald: note: ./herald.yml is not read without --config (the default is ./herald.yaml); start with --config herald.yml\n`,
      );
    } finally {
      await rm(lone, { recursive: true, force: true });
    }
  });

  it("says clearly when the file does not exist", async () => {
    const { code, stderr } = await cli(["validate", "--config", "nope.yaml"]);
    expect(code).toBe(1);
    expect(stderr).toContain("config file not found");
  });

  it("says in one line when the config path is a directory (validate and serve)", async () => {
    for (const command of ["validate", "serve"]) {
      const { code, stderr } = await cli([command, "--config", "."]);
      expect(code).toBe(1);
      expect(stderr).toMatch(/is a directory, not a config file/);
      expect(stderr).not.toContain("    at ");
    }
  });
});

describe("herald command line", () => {
  it("rejects unknown commands and options with usage, exit 2", async () => {
    expect((await cli(["frobnicate"])).code).toBe(2);
    const bad = await cli(["serve", "--colour"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Usage: herald");
    // The usage of that command, where the options it takes are: not every command's.
    const wrong = await cli(["validate", "--port", "1"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /^herald: Unknown option '--port'.*\n\nUsage: herald validate \[options\]\n/s,
    );
    expect(wrong.stderr).not.toContain("Start the gateway");
  });

  it("answers COMMAND --help (and -h, and help COMMAND) with that command's usage, exit 0", async () => {
    for (const command of ["serve", "validate", "send", "tail", "token"]) {
      for (const argv of [
        [command, "--help"],
        [command, "-h"],
        ["help", command],
      ]) {
        const { code, stdout, stderr } = await cli(argv);
        expect(code, argv.join(" ")).toBe(0);
        expect(stdout).toMatch(
          new RegExp(`^Usage: herald ${command} \\[options\\]\n\n  ${command} `),
        );
        expect(stderr).toBe("");
      }
    }
    // Among other options too: help wins, so `serve --port 0 --help` starts no gateway.
    const serve = await cli(["serve", "--port", "0", "--help"]);
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain("--no-auth");
    expect(serve.stdout).not.toContain("listening");
    // After `--` it is not an option.
    expect((await cli(["token", "--", "--help"])).code).not.toBe(0);
  });

  it("shows the short flags (-c, -p) its own error messages name, and takes them", async () => {
    // Node's parseArgs names an option as `-p, --port` when its value is missing: the usage
    // printed under that message must show the same spelling.
    for (const [command, flag] of [
      ["serve", "--port"],
      ["serve", "--config"],
      ["validate", "--config"],
    ] as const) {
      const { code, stderr } = await cli([command, flag]);
      expect(code).toBe(2);
      const named = /Option '(-\w, --\w+) <value>' argument missing/.exec(stderr)?.[1];
      expect(named, `${command} ${flag}`).toBeDefined();
      expect(stderr.split("\n\n").slice(1).join("\n")).toContain(`${named} `);
    }
    await writeFile(join(dir, "short.yaml"), "listen: { port: 0 }\n");
    const { code, stdout } = await cli(["validate", "-c", "short.yaml"]);
    expect(code).toBe(0);
    expect(stdout).toContain("valid");
  });

  it("help with a topic that is not a command is a usage error (exit 2), as the command would be", async () => {
    // `constructor`: a name every object has, which must not pass for a command.
    for (const topic of ["frobnicate", "constructor"]) {
      const { code, stdout, stderr } = await cli(["help", topic]);
      expect(code, topic).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toMatch(
        new RegExp(`^herald: unknown command "${topic}"\n\nUsage: herald <command> \\[options\\]`),
      );
    }
    const two = await cli(["help", "serve", "validate"]);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/^herald: help takes one COMMAND at most/);
    // The whole usage, exit 0: no topic, or help and version (which have no options of their own).
    for (const argv of [["help"], ["help", "version"], ["help", "--help"], ["version", "-h"]]) {
      const { code, stdout } = await cli(argv);
      expect(code, argv.join(" ")).toBe(0);
      expect(stdout).toMatch(/^Usage: herald <command> \[options\]/);
    }
  });

  it("version takes no options or arguments: anything else is a usage error (exit 2), not the version", async () => {
    for (const argv of [
      ["version", "--json"],
      ["--version", "extra"],
    ]) {
      const { code, stdout, stderr } = await cli(argv);
      expect(code, argv.join(" ")).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toMatch(/^herald: /);
    }
    const plain = await cli(["version"]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toMatch(/^herald \d+\.\d+\.\d+\n$/);
  });

  it("refuses to serve a config without an auth section unless --no-auth", async () => {
    await writeFile(join(dir, "herald.yaml"), "subscriptions: []\n");
    const { code, stderr } = await cli(["serve", "--config", "herald.yaml"]);
    expect(code).toBe(1);
    expect(stderr).toContain("--no-auth");
  });

  it("honours every setting, and says so when the NATS store cannot be reached", async () => {
    await writeFile(
      join(dir, "later.yaml"),
      [
        "subscriptions:",
        "  - id: a",
        "    sink: http://127.0.0.1:9/x",
        "    delivery: { retry: 3, deadLetterSink: http://127.0.0.1:9/dlq }",
        // Port 9 (discard) has no NATS server: serve cannot open the store and says where
        // (at once: startupWait 0s; it would keep trying for 30 s).
        "store: { kind: nats, url: nats://127.0.0.1:9, startupWait: 0s }",
        "adapters:",
        "  - { id: gh, kind: github, secret: s }",
      ].join("\n"),
    );
    const { code, stderr } = await cli(["serve", "--config", "later.yaml", "--no-auth"]);
    expect(code).toBe(1);
    // Retries, dead-lettering, adapters and the NATS store are honoured now.
    expect(stderr).not.toContain("cannot honour");
    expect(stderr).toContain("cannot reach NATS at nats://127.0.0.1:9");
  });

  it("a store it cannot start on is one line naming the cause, exit 1, never a stack trace (unless debug)", async () => {
    const base = join(dir, "damaged-store");
    await mkdir(base, { recursive: true });
    const path = join(base, "herald.db");
    const store = openSqliteStore({ path });
    await store.subscriptions.put(subscription("orders"));
    await store.close();
    const db = new Database(path);
    db.prepare("UPDATE subscriptions SET body = ? WHERE id = ?").run("{damaged", "orders");
    db.close();
    const config = join(base, "herald.yaml");
    await writeFile(config, `store: { kind: sqlite, path: ${path} }\nsubscriptions: []\n`);
    const args = ["serve", "--config", config, "--no-auth", "--port", "0"];
    const quiet = await cli(args, { HERALD_LOG_LEVEL: "silent" });
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toMatch(
      /^herald: serve failed: .*the stored subscription "orders" is damaged \(its definition is not JSON: /m,
    );
    expect(quiet.stderr).not.toMatch(/^\s+at /m);
    const debug = await cli(args, { HERALD_LOG_LEVEL: "debug" });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^\s+at /m);
  });

  it("refuses an empty --host as the flag, not as a field of a config the user never wrote", async () => {
    const { code, stderr } = await cli(["serve", "--no-auth", "--port", "0", "--host", ""]);
    expect(code).toBe(2);
    expect(stderr).toBe("herald: --host must not be empty (see herald serve --help)\n");
  });

  it("refuses a --host that can never be listened on as a usage error, before starting", async () => {
    const { code, stderr } = await cli([
      "serve",
      "--no-auth",
      "--port",
      "0",
      "--host",
      "127.0.0.1:80",
    ]);
    expect(code).toBe(2);
    expect(stderr).toBe(
      "herald: --host must not include a port; the port is --port (see herald serve --help)\n",
    );
  });

  it("refuses an empty --config as the flag, not as 'a directory is not a config file'", async () => {
    for (const argv of [
      ["serve", "--no-auth", "--port", "0", "--config", ""],
      ["validate", "--config", ""],
    ]) {
      const command = argv[0];
      const { code, stderr } = await cli(argv);
      expect(code, command).toBe(2);
      expect(stderr).toBe(`herald: --config must not be empty (see herald ${command} --help)\n`);
    }
  });

  it("refuses a --port that is not a port as a usage error, exit 2 like an unknown option", async () => {
    const { code, stderr } = await cli(["serve", "--no-auth", "--port", "99999"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--port");
  });

  it("send and tail: a gateway on a port fetch refuses (6000) is said as such, not 'bad port'", async () => {
    for (const args of [["send", "--type", "t", "--source", "/s"], ["tail"]]) {
      const { code, stderr } = await cli([...args, "--url", "http://127.0.0.1:6000"]);
      expect(code, args[0]).toBe(1);
      expect(stderr).toMatch(
        /^herald: cannot reach http:\/\/127\.0\.0\.1:6000\/\w+: fetch refuses port 6000, a port browsers block \("bad ports" of the Fetch standard\); serve the gateway on another port\n$/,
      );
    }
  });

  it("tail: a --port in use is said as such, exit 1 like serve's", async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const { port } = busy.address() as AddressInfo;
    try {
      const { code, stderr } = await cli([
        "tail",
        "--url",
        "http://127.0.0.1:9",
        "--port",
        `${port}`,
      ]);
      expect(code).toBe(1);
      expect(stderr).toBe(
        `herald: cannot listen for deliveries on 127.0.0.1:${port}: the port is in use (pick another with --port, or leave it out for any free one)\n`,
      );
    } finally {
      busy.close();
    }
  });

  it("tail: --url may be the gateway's ingest URL (.../events), as send's may: the API is at the base", async () => {
    const paths: string[] = [];
    const gateway = createServer((req, res) => {
      paths.push(`${req.method} ${req.url}`);
      res.writeHead(401, { "content-type": "application/problem+json" });
      res.end('{"status":401,"code":"missing_token","detail":"no token"}');
    });
    await new Promise<void>((resolve) => gateway.listen(0, "127.0.0.1", resolve));
    const { port } = gateway.address() as AddressInfo;
    try {
      for (const url of [`http://127.0.0.1:${port}/events`, `http://127.0.0.1:${port}/events/`]) {
        const { code, stderr } = await cli(["tail", "--url", url]);
        expect(code, url).toBe(1);
        expect(stderr).toContain("401 missing_token: no token");
      }
      expect(paths).toEqual(["POST /subscriptions", "POST /subscriptions"]);
    } finally {
      gateway.close();
    }
  });

  it("tail: flags given values they cannot take are usage errors too, exit 2", async () => {
    for (const [args, message] of [
      [["--port", "99999"], '--port must be a number from 0 to 65535 (got "99999")'],
      [["--url", "nope"], '--url must be an absolute http(s) URL (got "nope")'],
      [["--host", ""], "--host must not be empty"],
      [["--host", "127.0.0.1:9"], "--host must not include a port; the port is --port"],
      [["--token", ""], "--token must not be empty"],
      [["--type", "a", "--type", ""], "--type must not be empty"],
      [["--source", " "], "--source must not be empty"],
      [["--sql", ""], "--sql must not be empty"],
    ] as const) {
      const { code, stderr } = await cli(["tail", ...args]);
      expect(code, args.join(" ")).toBe(2);
      expect(stderr).toBe(`herald: ${message} (see herald tail --help)\n`);
    }
  });

  it("a flag that takes one value given twice is a usage error (exit 2), not the last one silently", async () => {
    for (const argv of [
      ["serve", "--config", "a.yaml", "-c", "b.yaml"],
      ["validate", "-c", "a.yaml", "--config=b.yaml"],
      ["send", "--type", "t", "--source", "/a", "--source", "/b"],
      ["tail", "--source", "/a", "--source", "/b"],
      ["token", "--sub", "a", "--sub", "b"],
    ]) {
      const { code, stdout, stderr } = await cli(argv);
      const [command] = argv;
      const flag = argv.includes("--source")
        ? "--source"
        : argv.includes("--sub")
          ? "--sub"
          : "--config";
      expect(code, argv.join(" ")).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toBe(
        `herald: ${flag} is given twice; it takes one value (see herald ${command} --help)\n`,
      );
    }
    // Repeatable flags stay repeatable, and a boolean said twice is still said.
    const repeated = await cli(["send", "--attr", "a=1", "--attr", "b=2", "--type", "t"]);
    expect(repeated.stderr).toContain("send needs --type and --source");
    const noAuth = await cli(["serve", "--no-auth", "--no-auth", "--port", "99999"]);
    expect(noAuth.stderr).toContain("--port must be a number");
  });
});

describe("herald serve (a real process)", () => {
  let sink: RecordingSink;
  beforeAll(async () => {
    sink = await startRecordingSink();
  });
  afterAll(() => sink.close());
  // Every process a test starts: one a failed test left running is killed, not left behind.
  const children = new Set<ChildProcess>();
  const spawn = (...args: Parameters<typeof spawnProcess>): ChildProcess => {
    const child = spawnProcess(...args);
    children.add(child);
    child.once("exit", () => children.delete(child));
    return child;
  };
  afterEach(() => {
    for (const child of children) child.kill("SIGKILL");
  });

  function start(args: string[]): Promise<{ child: ChildProcess; url: string; lines: string[] }> {
    const child = spawn(process.execPath, [HERALD, "serve", ...args], {
      cwd: dir,
      env: { ...process.env, HERALD_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: string[] = [];
    return new Promise((resolve, reject) => {
      child.once("exit", (code) => reject(new Error(`herald exited early with ${code}`)));
      createInterface({ input: child.stdout! }).on("line", (line) => {
        lines.push(line);
        const m = /^herald listening on (http:\/\/\S+)$/.exec(line);
        if (m) resolve({ child, url: m[1]!, lines });
      });
    });
  }

  const exited = (child: ChildProcess) =>
    new Promise<number | null>((ok) => child.once("exit", (code) => ok(code)));

  /** `herald tail --url url ...args`, once it says it is tailing; its stderr so far and after. */
  async function startTail(url: string, ...args: string[]) {
    const tail = spawn(process.execPath, [HERALD, "tail", "--url", url, ...args], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    await new Promise<void>((ready) => {
      tail.stderr!.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes("tailing")) ready();
      });
    });
    return { tail, stderr: () => stderr };
  }

  /** How many subscriptions the gateway at `url` lists (the Subscriptions API, no auth). */
  const subscriptionCount = async (url: string) =>
    ((await (await fetch(`${url}/subscriptions`)).json()) as unknown[]).length;

  it("a SIGTERM while it waits for NATS at start ends the wait: exit 0 at once", async () => {
    // Port 9 (discard) has no NATS server: serve keeps trying, for up to store.startupWait.
    await writeFile(join(dir, "waiting.yaml"), "store: { kind: nats, url: nats://127.0.0.1:9 }\n");
    const child = spawn(
      process.execPath,
      [HERALD, "serve", "--config", "waiting.yaml", "--no-auth", "--port", "0"],
      {
        cwd: dir,
        env: { ...process.env, HERALD_LOG_LEVEL: "warn" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const stopped = exited(child);
    await new Promise<void>((waiting) => {
      createInterface({ input: child.stderr! }).on("line", (line) => {
        if (line.includes("NATS is not ready yet")) waiting();
      });
    });
    const startedAt = Date.now();
    child.kill("SIGTERM");
    expect(await stopped).toBe(0);
    expect(Date.now() - startedAt).toBeLessThan(3_000);
  });

  it("prints one listening line, delivers, and drains then exits 0 on SIGTERM", async () => {
    await writeFile(
      join(dir, "serve.yaml"),
      // The in-memory store: what this test checks is that SIGTERM drains it before exiting.
      `store: { kind: memory }\nsubscriptions:\n  - id: all\n    sink: ${sink.url}/all\n`,
    );
    const { child, url, lines } = await start([
      "--config",
      "serve.yaml",
      "--no-auth",
      "--port",
      "0",
    ]);
    expect(lines.filter((l) => l.startsWith("herald listening on"))).toHaveLength(1);
    const stopped = exited(child);
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${url}/events`, {
        method: "POST",
        headers: { "ce-specversion": "1.0", "ce-id": `p-${i}`, "ce-source": "/p", "ce-type": "t" },
      });
      expect(res.status).toBe(202);
    }
    child.kill("SIGTERM");
    expect(await stopped).toBe(0);
    // Every accepted event was delivered before the process exited.
    const ids = sink.received.filter((r) => r.path === "/all").map((r) => r.headers["ce-id"]);
    expect(new Set(ids).size).toBe(50);
  });

  it("a SIGTERM while its modules still load is a clean stop: the gateway starts, stops, exits 0", async () => {
    // A module hook (a thread of its own) holds the import of the CLI's modules for a moment and
    // says so: the SIGTERM then lands exactly in the window where bin/herald.js is loading them.
    await writeFile(
      join(dir, "slow-load-hooks.mjs"),
      [
        "export async function resolve(specifier, context, next) {",
        '  if (specifier.endsWith("adapters/node/cli.js")) {',
        '    process.stderr.write("loading the CLI\\n");',
        "    await new Promise((ok) => setTimeout(ok, 1000));",
        "  }",
        "  return next(specifier, context);",
        "}",
      ].join("\n"),
    );
    await writeFile(
      join(dir, "slow-load.mjs"),
      'import { register } from "node:module";\nregister("./slow-load-hooks.mjs", import.meta.url);\n',
    );
    await writeFile(join(dir, "early.yaml"), "store: { kind: memory }\nsubscriptions: []\n");
    const child = spawn(
      process.execPath,
      [
        "--import",
        "./slow-load.mjs",
        HERALD,
        "serve",
        "--config",
        "early.yaml",
        "--no-auth",
        "--port",
        "0",
      ],
      {
        cwd: dir,
        env: { ...process.env, HERALD_LOG_LEVEL: "info" },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const stdout: string[] = [];
    createInterface({ input: child.stdout! }).on("line", (line) => stdout.push(line));
    createInterface({ input: child.stderr! }).on("line", (line) => {
      if (line === "loading the CLI") child.kill("SIGTERM");
    });
    const ended = new Promise<[number | null, NodeJS.Signals | null]>((ok) =>
      child.once("exit", (code, signal) => ok([code, signal])),
    );
    expect(await ended).toEqual([0, null]);
    expect(stdout.filter((line) => line.startsWith("herald listening on"))).toHaveLength(1);
  });

  it.each([
    ["silent", false],
    ["loud", true],
  ])(
    "says loudly that auth is off, whatever HERALD_LOG_LEVEL (%s) hides",
    async (level, unknown) => {
      await writeFile(join(dir, "open.yaml"), "store: { kind: memory }\nsubscriptions: []\n");
      const child = spawn(
        process.execPath,
        [HERALD, "serve", "--config", "open.yaml", "--no-auth", "--port", "0"],
        {
          cwd: dir,
          env: { ...process.env, HERALD_LOG_LEVEL: level },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      const errors: string[] = [];
      createInterface({ input: child.stderr! }).on("line", (line) => errors.push(line));
      await new Promise<void>((ready) => {
        createInterface({ input: child.stdout! }).on("line", (line) => {
          if (line.startsWith("herald listening on")) ready();
        });
      });
      const stopped = exited(child);
      child.kill("SIGTERM");
      expect(await stopped).toBe(0);
      expect(errors).toContain(
        "herald: WARNING: authentication is OFF (--no-auth): anyone who can reach this port can publish events and read and change subscriptions (the admin API is open too)",
      );
      expect(errors.some((line) => line.includes(`HERALD_LOG_LEVEL=${level} is not one of`))).toBe(
        unknown,
      );
    },
  );

  it("tail prints the matching events a gateway delivers, then deletes its subscription on Ctrl-C", async () => {
    await writeFile(join(dir, "tail.yaml"), "store: { kind: memory }\nsubscriptions: []\n");
    const { child: gateway, url } = await start([
      "--config",
      "tail.yaml",
      "--no-auth",
      "--port",
      "0",
    ]);
    const { tail } = await startTail(url, "--type", "t.watched");
    const out: string[] = [];
    const arrived = new Set<() => void>();
    createInterface({ input: tail.stdout! }).on("line", (line) => {
      out.push(line);
      for (const check of arrived) check();
    });
    expect(await subscriptionCount(url)).toBe(1);
    const post = (id: string, type: string) =>
      fetch(`${url}/events`, {
        method: "POST",
        headers: { "ce-specversion": "1.0", "ce-id": id, "ce-source": "/tail", "ce-type": type },
      });
    expect((await post("skip-1", "t.other")).status).toBe(202);
    expect((await post("seen-1", "t.watched")).status).toBe(202);
    await new Promise<void>((done) => {
      const check = () => out.length > 0 && done();
      arrived.add(check);
      check();
    });
    expect(out.map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(["seen-1"]);
    expect(JSON.parse(out[0]!)).toMatchObject({ specversion: "1.0", type: "t.watched" });
    // JSON data is printed as it came, on one line: not rounded, not too deep to print.
    const withData = (id: string, data: string) =>
      fetch(`${url}/events`, {
        method: "POST",
        headers: {
          "ce-specversion": "1.0",
          "ce-id": id,
          "ce-source": "/tail",
          "ce-type": "t.watched",
          "content-type": "application/json",
        },
        body: data,
      });
    const deep = `${"[".repeat(50_000)}${"]".repeat(50_000)}`;
    expect((await withData("big-1", '{"n": 12345678901234567890,\n "s": "a\\nb"}')).status).toBe(
      202,
    );
    expect((await withData("deep-1", deep)).status).toBe(202);
    await new Promise<void>((done) => {
      const check = () => out.length >= 3 && done();
      arrived.add(check);
      check();
    });
    const byId = new Map(out.map((line) => [(JSON.parse(line) as { id: string }).id, line]));
    expect(byId.get("big-1")).toContain('"data":{"n": 12345678901234567890, "s": "a\\nb"}');
    expect((JSON.parse(byId.get("deep-1")!) as { data: unknown }).data).toBeInstanceOf(Array);
    expect(byId.get("deep-1")).toContain(deep);
    const stopped = exited(tail);
    tail.kill("SIGINT");
    expect(await stopped).toBe(0);
    expect(await subscriptionCount(url)).toBe(0);
    const gone = exited(gateway);
    gateway.kill("SIGTERM");
    expect(await gone).toBe(0);
  });

  it("tail's local sink: a body that is no JSON is printed safe for a terminal, one past 64 MiB is 413 and named", async () => {
    await writeFile(join(dir, "tail-sink.yaml"), "store: { kind: memory }\nsubscriptions: []\n");
    const { child: gateway, url } = await start([
      "--config",
      "tail-sink.yaml",
      "--no-auth",
      "--port",
      "0",
    ]);
    const { tail } = await startTail(url);
    const out: string[] = [];
    const arrived = new Set<() => void>();
    createInterface({ input: tail.stdout! }).on("line", (line) => {
      out.push(line);
      for (const check of arrived) check();
    });
    const lines = (n: number) =>
      new Promise<void>((done) => {
        const check = () => out.length >= n && done();
        arrived.add(check);
        check();
      });
    // Anything that finds the port can post to it, not only the gateway.
    const [subscription] = (await (await fetch(`${url}/subscriptions`)).json()) as {
      sink: string;
    }[];
    const sink = subscription!.sink;
    // CSI (U+009B) 2J clears a terminal that takes C1 controls.
    const hostile = await fetch(sink, { method: "POST", body: "not json \u009b2J\u007f" });
    expect(hostile.status).toBe(204);
    await lines(1);
    expect(out[0]).not.toMatch(/[\u007f-\u009f]/);
    expect(JSON.parse(out[0]!)).toEqual({ undecodable: "not json \u009b2J\u007f" });
    const huge = await fetch(sink, { method: "POST", body: new Uint8Array(64 * 1024 * 1024 + 1) });
    expect(huge.status).toBe(413);
    await lines(2);
    expect(JSON.parse(out[1]!)).toEqual({ tooLarge: 64 * 1024 * 1024 + 1 });
    const stopped = exited(tail);
    tail.kill("SIGINT");
    expect(await stopped).toBe(0);
    const gone = exited(gateway);
    gateway.kill("SIGTERM");
    expect(await gone).toBe(0);
  });

  it("tail stops as on Ctrl-C when the reader of its output goes away (tail | head -1): exit 0, subscription deleted", async () => {
    await writeFile(join(dir, "tail-pipe.yaml"), "store: { kind: memory }\nsubscriptions: []\n");
    const { child: gateway, url } = await start([
      "--config",
      "tail-pipe.yaml",
      "--no-auth",
      "--port",
      "0",
    ]);
    const { tail, stderr } = await startTail(url);
    expect(await subscriptionCount(url)).toBe(1);
    // The first line read, the reader leaves, as `head -1` does.
    const firstLine = new Promise<void>((read) => {
      tail.stdout!.once("data", () => {
        tail.stdout!.destroy();
        read();
      });
    });
    const stopped = exited(tail);
    for (let i = 0; i < 3; i++) {
      const posted = await fetch(`${url}/events`, {
        method: "POST",
        headers: { "ce-specversion": "1.0", "ce-id": `p-${i}`, "ce-source": "/p", "ce-type": "t" },
      });
      expect(posted.status).toBe(202);
    }
    await firstLine;
    // The next line it prints finds the pipe closed.
    await fetch(`${url}/events`, {
      method: "POST",
      headers: { "ce-specversion": "1.0", "ce-id": "p-last", "ce-source": "/p", "ce-type": "t" },
    });
    expect(await stopped).toBe(0);
    expect(stderr()).not.toMatch(/EPIPE|Error:|at /);
    expect(await subscriptionCount(url)).toBe(0);
    const gone = exited(gateway);
    gateway.kill("SIGTERM");
    expect(await gone).toBe(0);
  });

  it("reloads the config on SIGHUP: the new subscriptions route, the old ones stop", async () => {
    const file = join(dir, "reload.yaml");
    const config = (id: string) =>
      `subscriptions:\n  - id: ${id}\n    types: [t]\n    sink: ${sink.url}/${id}\n`;
    await writeFile(file, config("before"));
    const { child, url } = await start(["--config", "reload.yaml", "--no-auth", "--port", "0"]);
    const reloaded = new Promise<void>((resolve) => {
      createInterface({ input: child.stderr! }).on("line", (line) => {
        if (line.includes('"config reloaded"') && line.includes('"SIGHUP"')) resolve();
      });
    });
    await writeFile(file, config("after"));
    child.kill("SIGHUP");
    await reloaded;
    const listed = (await (await fetch(`${url}/subscriptions`)).json()) as { id: string }[];
    expect(listed.map((s) => s.id)).toStrictEqual(["after"]);
    const before = sink.received.length;
    const res = await fetch(`${url}/events`, {
      method: "POST",
      headers: { "ce-specversion": "1.0", "ce-id": "r-1", "ce-source": "/r", "ce-type": "t" },
    });
    expect(res.status).toBe(202);
    expect((await sink.waitFor(before + 1)).at(-1)?.path).toBe("/after");
    const stopped = exited(child);
    child.kill("SIGTERM");
    expect(await stopped).toBe(0);
  });

  it("a SIGHUP while it drains after SIGTERM does not end it: the delivery in flight finishes, exit 0", async () => {
    // A sink that holds its answer until the test lets it go, so the drain has work to wait for.
    let release = () => {};
    let arrived = () => {};
    const inFlight = new Promise<void>((ok) => {
      arrived = ok;
    });
    const answered: string[] = [];
    const held = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        arrived();
        release = () => {
          answered.push(String(req.headers["ce-id"]));
          res.writeHead(204).end();
        };
      });
    });
    await new Promise<void>((ok) => held.listen(0, "127.0.0.1", ok));
    const port = (held.address() as AddressInfo).port;
    try {
      await writeFile(
        join(dir, "drain-hup.yaml"),
        `store: { kind: memory }\nsubscriptions:\n  - id: held\n    sink: http://127.0.0.1:${port}/held\n`,
      );
      const { child, url } = await start([
        "--config",
        "drain-hup.yaml",
        "--no-auth",
        "--port",
        "0",
      ]);
      const stopped = exited(child);
      const stderr: string[] = [];
      const seen = new Set<() => void>();
      createInterface({ input: child.stderr! }).on("line", (line) => {
        stderr.push(line);
        for (const check of seen) check();
      });
      const logged = (text: string) =>
        new Promise<void>((ok) => {
          const check = () => {
            if (stderr.some((line) => line.includes(text))) ok();
          };
          seen.add(check);
          check();
        });
      const res = await fetch(`${url}/events`, {
        method: "POST",
        headers: { "ce-specversion": "1.0", "ce-id": "h-1", "ce-source": "/h", "ce-type": "t" },
      });
      expect(res.status).toBe(202);
      await inFlight;
      child.kill("SIGTERM");
      await logged('"shutting down"');
      child.kill("SIGHUP");
      // Without a handler, SIGHUP's default action ends the process here, mid-drain.
      const outcome = await Promise.race([
        logged("SIGHUP ignored").then(() => "ignored"),
        stopped.then(() => "exited"),
      ]);
      expect(outcome).toBe("ignored");
      release();
      expect(await stopped).toBe(0);
      expect(answered).toStrictEqual(["h-1"]);
    } finally {
      held.closeAllConnections();
      await new Promise<void>((ok) => held.close(() => ok()));
    }
  });

  it("runs the embedded demo without a herald.yaml: one stdout line, a token on stderr, accepts events sent with it, exits 0 on SIGINT", async () => {
    const empty = await mkdtemp(join(tmpdir(), "herald-demo-"));
    const child = spawn(process.execPath, [HERALD, "serve", "--port", "0"], {
      cwd: empty,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const stdout: string[] = [];
    const output: string[] = [];
    const waiting = new Set<() => void>();
    createInterface({ input: child.stdout! }).on("line", (line) => {
      stdout.push(line);
      for (const check of waiting) check();
    });
    createInterface({ input: child.stderr! }).on("line", (line) => {
      output.push(line);
      for (const check of waiting) check();
    });
    /** The first line of `lines` so far or to come that matches `pattern`. */
    const lineMatching = (pattern: RegExp, lines = output) =>
      new Promise<RegExpExecArray>((resolve) => {
        const check = () => {
          const found = lines.map((line) => pattern.exec(line)).find((m) => m !== null);
          if (found) {
            waiting.delete(check);
            resolve(found);
          }
        };
        waiting.add(check);
        check();
      });
    const url = (await lineMatching(/^herald listening on (\S+)$/, stdout))[1]!;
    // The curl line the demo prints (on stderr) carries its ready token.
    const token = (await lineMatching(/-H "Authorization: Bearer ([\w-]+\.[\w-]+\.[\w-]+)"/))[1]!;
    expect(output).toContain(token);
    const send = (id: string, bearer: string) =>
      fetch(`${url}/events`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${bearer}`,
          "ce-specversion": "1.0",
          "ce-id": id,
          "ce-source": "/demo",
          "ce-type": "com.example.demo",
          "content-type": "application/json",
        },
        body: `{"hello":"${id}"}`,
      });
    expect((await send("demo-1", token)).status).toBe(202);
    // `herald token` in the same directory mints from the same dev issuer.
    let minted = "";
    const code = await runCli({
      argv: ["token", "--sub", "demo"],
      cwd: empty,
      env: {},
      stdout: (t) => {
        minted += t;
      },
      stderr: () => {},
    });
    expect(code).toBe(0);
    expect((await send("demo-2", minted.trim())).status).toBe(202);
    const stopped = exited(child);
    await lineMatching(/\{"hello":"demo-1"\}/);
    await lineMatching(/\{"hello":"demo-2"\}/);
    expect(output.join("\n")).toContain("curl -i");
    child.kill("SIGINT");
    expect(await stopped).toBe(0);
    // Exactly one line on stdout, start to end (DESIGN.md).
    expect(stdout).toStrictEqual([`herald listening on ${url}`]);
    await rm(empty, { recursive: true, force: true });
  });
});

describe("herald send", () => {
  it("posts one binary-mode event with percent-encoded attributes", async () => {
    const target = await startRecordingSink(202);
    const { code, stdout } = await cli([
      "send",
      "--url",
      target.url,
      "--type",
      "com.example.t",
      "--source",
      "/s",
      "--subject",
      "a b",
      "--attr",
      "myext=é",
      "--data",
      '{"a":1}',
    ]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^202 /);
    const [got] = target.received;
    expect(got?.path).toBe("/events");
    expect(got?.headers).toMatchObject({
      "ce-specversion": "1.0",
      "ce-type": "com.example.t",
      "ce-source": "/s",
      "ce-subject": "a%20b",
      "ce-myext": "%C3%A9",
      "content-type": "application/json",
    });
    expect(got?.body.toString()).toBe('{"a":1}');
    await target.close();
  });

  it("exits 1 and prints the answer when the gateway refuses", async () => {
    const target = await startRecordingSink(400);
    const { code, stderr } = await cli([
      "send",
      "--url",
      target.url,
      "--type",
      "t",
      "--source",
      "/s",
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/^400 /);
    await target.close();
  });

  it("needs --type and --source", async () => {
    const { code, stderr } = await cli(["send", "--type", "t"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--type and --source");
  });

  it("refuses an empty --token (an unset variable) as a usage error, not a tokenless send", async () => {
    const { code, stderr } = await cli(["send", "--type", "t", "--source", "/s", "--token", ""]);
    expect(code).toBe(2);
    expect(stderr).toBe("herald: --token must not be empty (see herald send --help)\n");
  });
});

describe("herald send, details", () => {
  it("keeps a path prefix, reads --data @file as bytes, maps datacontenttype to Content-Type", async () => {
    const target = await startRecordingSink(202);
    const bytes = Buffer.from([0, 1, 2, 255]);
    await writeFile(join(dir, "blob #1.bin"), bytes);
    const { code } = await cli([
      "send",
      "--url",
      `${target.url}/prefix`,
      "--type",
      "t",
      "--source",
      "/s",
      "--data",
      "@blob #1.bin",
      "--attr",
      "datacontenttype=application/octet-stream",
    ]);
    expect(code).toBe(0);
    const [got] = target.received;
    expect(got?.path).toBe("/prefix/events");
    expect(got?.headers["content-type"]).toBe("application/octet-stream");
    expect(got?.headers["ce-datacontenttype"]).toBeUndefined();
    expect(Buffer.compare(got!.body, bytes)).toBe(0);
    await target.close();
  });

  it("takes --url as the ingest URL with a trailing slash too (/events/), as tail does, not as a prefix", async () => {
    const target = await startRecordingSink(202);
    for (const url of [`${target.url}/events/`, `${target.url}/p/events//`, `${target.url}/`]) {
      const { code } = await cli(["send", "--url", url, "--type", "t", "--source", "/s"]);
      expect(code, url).toBe(0);
    }
    expect(target.received.map((r) => r.path)).toEqual(["/events", "/p/events", "/events"]);
    await target.close();
  });

  it("refuses attribute names that are not CloudEvents names, without a stack trace", async () => {
    const { code, stderr } = await cli([
      "send",
      "--type",
      "t",
      "--source",
      "/s",
      "--attr",
      "a b=c",
    ]);
    expect(code).toBe(2);
    expect(stderr).toContain("--attr must look like name=value");
    expect(stderr).not.toContain("    at ");
  });

  it("refuses an --attr that gives an attribute already given (its own flag, or an --attr before), not the last one silently", async () => {
    const target = await startRecordingSink(202);
    const send = ["send", "--url", target.url, "--type", "t", "--source", "/s"];
    for (const [args, message] of [
      [["--attr", "type=other"], "--attr type=... gives the type again; --type gives it"],
      [["--attr", "source=/b"], "--attr source=... gives the source again; --source gives it"],
      [["--id", "a", "--attr", "id=b"], "--attr id=... gives the id again; --id gives it"],
      [
        ["--subject", "a", "--attr", "subject=b"],
        "--attr subject=... gives the subject again; --subject gives it",
      ],
      [
        ["--content-type", "text/plain", "--attr", "datacontenttype=text/csv"],
        "--attr datacontenttype=... gives the datacontenttype again; --content-type gives it",
      ],
      [["--attr", "x=1", "--attr", "x=2"], "--attr x=... is given twice; give each attribute once"],
    ] as const) {
      const { code, stderr } = await cli([...send, ...args]);
      expect(code, args.join(" ")).toBe(2);
      expect(stderr).toBe(`herald: ${message} (see herald send --help)\n`);
    }
    expect(target.received).toEqual([]);
    // An attribute with no flag given (an id, without --id; a specversion to try a refusal) is set.
    const { code } = await cli([...send, "--attr", "id=x1", "--attr", "specversion=1.0"]);
    expect(code).toBe(0);
    expect(target.received[0]?.headers).toMatchObject({ "ce-id": "x1", "ce-specversion": "1.0" });
    await target.close();
  });

  it("refuses a --url that is not http(s), as it does one that is no URL", async () => {
    for (const url of ["ftp://127.0.0.1/x", "mailto:a@example.com", "nope"]) {
      const { code, stderr } = await cli(["send", "--url", url, "--type", "t", "--source", "/s"]);
      expect(code).toBe(2);
      expect(stderr).toBe(
        `herald: --url must be an absolute http(s) URL (got "${url}") (see herald send --help)\n`,
      );
    }
  });

  it("says so in one line when --data @FILE cannot be read, and sends nothing", async () => {
    const target = await startRecordingSink(202);
    const args = ["send", "--url", target.url, "--type", "t", "--source", "/s", "--data"];
    const missing = await cli([...args, "@no-such-file.json"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--data @no-such-file\.json: cannot read it \(file not found\)/);
    expect(missing.stderr).not.toContain("    at ");
    const directory = await cli([...args, "@."]);
    expect(directory.code).toBe(1);
    expect(directory.stderr).toContain("(a directory)");
    // JSON is the default type: data that is not JSON is refused before it is sent...
    const notJson = await cli([...args, "{bad"]);
    // A flag given a value it cannot take: a usage error, exit 2.
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/--data is not JSON; .* --content-type/);
    expect(target.received).toHaveLength(0);
    // ...and goes as what --content-type says it is.
    const text = await cli([...args, "{bad", "--content-type", "text/plain"]);
    expect(text.code).toBe(0);
    expect(target.received.map((r) => r.body.toString())).toEqual(["{bad"]);
    await target.close();
  });
});

describe("herald send and tail against a redirect", () => {
  it("say the redirect and where it points, exit 1, instead of following it (a POST re-sent as a GET, without its event)", async () => {
    const seen: string[] = [];
    const target = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      req.resume();
      if (req.url?.startsWith("/old")) {
        res.writeHead(301, { location: "/new/events" }).end();
      } else {
        // Followed, the POST arrives here as a GET and this 200 read as "sent".
        res.writeHead(200, { "content-type": "text/plain" }).end("a page");
      }
    });
    await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
    try {
      const sent = await cli(["send", "--url", `${base}/old`, "--type", "t", "--source", "/s"]);
      expect(sent.code).toBe(1);
      expect(sent.stdout).toBe("");
      expect(sent.stderr).toBe(
        `herald: ${base}/old/events answered 301 Moved Permanently, a redirect to ${base}/new/events; herald does not follow redirects: give --url the gateway's own address\n`,
      );
      const tailed = await cli(["tail", "--url", `${base}/old`]);
      expect(tailed.code).toBe(1);
      expect(tailed.stderr).toContain(
        `herald: ${base}/old/subscriptions answered 301 Moved Permanently, a redirect to ${base}/new/events;`,
      );
      expect(seen).toEqual(["POST /old/events", "POST /old/subscriptions"]);
    } finally {
      await new Promise((resolve) => target.close(resolve));
    }
  });
});

describe("herald send against a gateway that never answers", () => {
  it("gives up after --timeout with one line, exit 1, instead of hanging; a --timeout that is no duration is a usage error", async () => {
    const requests: string[] = [];
    // Takes the request and never answers (a stopped process behind a live socket).
    const silent = createServer((req) => {
      requests.push(`${req.method} ${req.url}`);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const args = ["send", "--url", url, "--type", "t", "--source", "/s"];
      const { code, stdout, stderr } = await cli([...args, "--timeout", "300ms"]);
      expect(code).toBe(1);
      expect(stdout).toBe("");
      expect(stderr).toBe(
        `herald: no answer from ${url}/events within 300ms; is --url a Herald gateway?\n`,
      );
      expect(requests).toEqual(["POST /events"]);
      for (const bad of ["0s", "30", "soon"]) {
        const refused = await cli([...args, "--timeout", bad]);
        expect(refused.code, bad).toBe(2);
        expect(refused.stderr).toContain(
          `--timeout must be a duration such as 500ms, 10s or 1m (got "${bad}")`,
        );
      }
      // Past the longest timer Node keeps (2^31-1 ms, 24.8 days) the timer fired after 1 ms:
      // "no answer within 597h" at once, and PT1000000H said it "cannot reach" the gateway.
      for (const long of ["597h", "PT1000000H"]) {
        const refused = await cli([...args, "--timeout", long]);
        expect(refused.code, long).toBe(2);
        expect(refused.stderr).toContain(`--timeout must be at most 24 days (got "${long}")`);
      }
      expect(requests).toHaveLength(1);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
