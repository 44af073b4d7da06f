import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type RequestListener } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { main } from "./cli.js";
import { conformanceConfig } from "./config/conformance-config.js";
import { defaultDataDir } from "./official/data-dir.js";

async function run(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

/** Runs `body` with the URL of a target on 127.0.0.1 that answers with `answer`, then closes it. */
async function withTarget(answer: RequestListener, body: (url: string) => Promise<void>) {
  const server = createServer(answer);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe("herald-conformance", () => {
  it("config --sink prints the target config as YAML", async () => {
    const { code, stdout } = await run(["config", "--sink", "http://127.0.0.1:9999"]);
    expect(code).toBe(0);
    expect(parse(stdout)).toEqual(
      JSON.parse(JSON.stringify(conformanceConfig("http://127.0.0.1:9999"))),
    );
  });

  it("config --json prints JSON", async () => {
    const { stdout } = await run(["config", "--sink", "http://127.0.0.1:9999", "--json"]);
    expect(JSON.parse(stdout).subscriptions).toHaveLength(22);
  });

  it("config --no-herald leaves out the on-success subscriptions and the mapping adapter", async () => {
    const { code, stdout } = await run([
      "config",
      "--sink",
      "http://127.0.0.1:9999",
      "--json",
      "--no-herald",
    ]);
    expect(code).toBe(0);
    const config = JSON.parse(stdout);
    expect(config.subscriptions).toHaveLength(12);
    expect(JSON.stringify(config)).not.toMatch(/"reply"|"receipts"|"mapping"/);
    expect((await run(["--url", "http://127.0.0.1:1", "--no-herald"])).code).toBe(2);
  });

  it("config --auth-jwks FILE writes the public JWKS inline, URLs stay URLs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "conformance-cli-"));
    try {
      const key = { kty: "OKP", crv: "Ed25519", x: "abc", kid: "k" };
      const file = join(dir, "jwks.json");
      await writeFile(file, JSON.stringify({ keys: [key] }));
      const base = [
        "config",
        "--sink",
        "http://127.0.0.1:9999",
        "--issuer",
        "https://i",
        "--audience",
        "a",
      ];
      const { code, stdout } = await run([...base, "--auth-jwks", file, "--sub", "me"]);
      expect(code).toBe(0);
      expect(parse(stdout).auth).toEqual({
        issuers: [{ issuer: "https://i", audience: "a", jwks: { keys: [key] } }],
        publishers: [{ claims: { sub: "me" } }],
        admins: [{ claims: { sub: "me" } }],
      });
      const admin = await run([...base, "--auth-jwks", file, "--admin-sub", "ops", "--json"]);
      expect(JSON.parse(admin.stdout).auth.admins).toEqual([{ claims: { sub: "ops" } }]);
      const url = await run([...base, "--auth-jwks", "https://i/jwks.json", "--json"]);
      expect(JSON.parse(url.stdout).auth.issuers[0].jwks).toBe("https://i/jwks.json");
      await writeFile(file, JSON.stringify({ keys: [{ ...key, d: "private" }] }));
      const secret = await run([...base, "--auth-jwks", file]);
      expect(secret.code).toBe(2);
      expect(secret.stderr).toMatch(/private key material/);
      expect(secret.stderr).not.toContain('private"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [["config"], /needs --sink/],
    [["config", "--sink", "http://x", "--auth-jwks", "j.json"], /needs --issuer and --audience/],
    [["config", "--sink", "http://x", "--issuer", "https://i"], /go with --auth-jwks/],
    [
      [
        "config",
        "--sink",
        "http://x",
        "--auth-jwks",
        "/nonexistent/j.json",
        "--issuer",
        "i",
        "--audience",
        "a",
      ],
      /cannot read the JWKS/,
    ],
    [["--url", "http://x", "--foreign-token", "t"], /need --token/],
    [["--url", "http://x", "--admin-token", "t"], /need --token/],
    [["config", "--sink", "http://x", "--admin-sub", "ops"], /go with --auth-jwks/],
    [["config", "--sink", "not a url"], /--sink|sink base URL must be an absolute http\(s\) URL/],
    [["config", "--sink", "http://x/?a=1"], /must have no query or fragment/],
    // A flag of the other command is refused, not ignored: a run with --sink (config's flag)
    // would listen on an ephemeral port and time out on every case.
    [
      ["--url", "http://x", "--sink", "http://127.0.0.1:9999"],
      /--sink goes with config.*--sink-port/,
    ],
    [["--list", "--issuer", "https://i"], /--issuer goes with config/],
    [["config", "--sink", "http://x", "--url", "http://y"], /--url goes with a run/],
    [["config", "--sink", "http://x", "--token", "t"], /--token goes with a run/],
    [["--list", "--no-data", "--data", "/tmp"], /contradict/],
    [[], /--url is required/],
    [["--url", "http://x", "--sink-port", "abc"], /take numbers/],
    [["--url", "not-a-url", "--no-data"], /--url must be an absolute http\(s\) URL/],
    [["--url", "http://x", "--sink-port", "70000"], /--sink-port must be from 0 to 65535/],
    // 0 ms fails every wait; past 2^31-1 ms Node's timers fire after 1 ms: both fail every case.
    [["--url", "http://x", "--timeout", "0"], /--timeout must be from 1 to 2147483647/],
    [["--url", "http://x", "--timeout", "3000000000"], /--timeout must be from 1 to 2147483647/],
    [["--url", "http://x", "--request-timeout", "0"], /--request-timeout must be from 1 to/],
    [["--url", "http://x", "--request-timeout", "soon"], /take numbers/],
    // Checked before the run: a typo costs no request to the target.
    [["--url", "http://127.0.0.1:9", "--no-data", "--only", "nomatchxyz"], /matched no case/],
    [["--bogus"], /Unknown option/],
    [["frobnicate"], /unknown command/],
  ])("exits 2 on %j", async (argv, message) => {
    const { code, stderr } = await run(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain("Usage:");
  });

  it("--list prints every case name, one a line, filtered by --only, without a target", async () => {
    const all = await run(["--list", "--no-data"]);
    expect(all.code).toBe(0);
    const names = all.stdout.trimEnd().split("\n");
    expect(names[0]).toMatch(/^setup: /);
    expect(names).toContain(
      "dedupe: a batch holding the same event twice -> accepted, delivered once",
    );
    expect(names.some((n) => n.startsWith("official:"))).toBe(false);
    const some = await run(["--list", "--no-data", "--only", "dedupe:"]);
    expect(some.stdout.trimEnd().split("\n")).toHaveLength(4); // setup always runs
    const typo = await run(["--list", "--no-data", "--only", "nomatchxyz"]);
    expect(typo.code).toBe(2);
  });

  it("--skip leaves out the cases whose name contains it, and --skip herald: every herald: case", async () => {
    const all = (await run(["--list", "--no-data"])).stdout.trimEnd().split("\n");
    const portable = await run(["--list", "--no-data", "--skip", "herald:"]);
    expect(portable.code).toBe(0);
    const names = portable.stdout.trimEnd().split("\n");
    expect(names).toEqual(all.filter((n) => !n.includes("herald:")));
    expect(names.length).toBeLessThan(all.length);
    const both = await run(["--list", "--no-data", "--only", "dedupe:", "--skip", "batch"]);
    expect(both.stdout.trimEnd().split("\n")).toHaveLength(3);
    expect((await run(["--list", "--no-data", "--skip", ":"])).code).toBe(2);
  });

  it("--data takes the conformance-data folder or its http, as HERALD_CONFORMANCE_DATA does", async () => {
    const http = defaultDataDir(); // <repo>/../shared/conformance-data/http
    const official = async (dir: string) =>
      (await run(["--list", "--data", dir])).stdout
        .split("\n")
        .filter((n) => n.startsWith("official:"));
    const fromHttp = await official(http);
    expect(fromHttp.length).toBeGreaterThan(10);
    expect(await official(dirname(http))).toEqual(fromHttp);
  });

  it("prints each case as it finishes, not only at the end", async () => {
    const writes: string[] = [];
    await withTarget(
      (_, res) => {
        res.writeHead(503);
        res.end("down");
      },
      async (url) => {
        const code = await main(["--url", url, "--no-data", "--only", "http: GET /events"], {
          stdout: (t) => writes.push(t),
          stderr: () => {},
        });
        expect(code).toBe(1);
        expect(writes[0]).toMatch(/^FAIL {2}setup: [^\n]*\n(?: {6}.*\n)+$/);
        expect(writes.at(-1)).toBe(
          "0 passed, 2 failed (1 not run: the setup check failed: a valid binary event: expected 202 (or 200, 201, 204), got 503 down)\n",
        );
      },
    );
  });

  it("an HTML page for the setup event asks whether --url is a CloudEvents gateway, on one line", async () => {
    await withTarget(
      (_, res) => {
        res.writeHead(501, { "content-type": "text/html;charset=utf-8" });
        res.end("<!DOCTYPE HTML>\n<html>\n<title>Unsupported method</title>\n</html>\n");
      },
      async (url) => {
        const { code, stdout } = await run([
          "--url",
          url,
          "--no-data",
          "--only",
          "http: GET /events",
        ]);
        expect(code).toBe(1);
        expect(stdout.trimEnd().split("\n").at(-1)).toBe(
          "0 passed, 2 failed (1 not run: the setup check failed: a valid binary event: expected 202 (or 200, 201, 204), got 501 <!DOCTYPE HTML> <html> <title>Unsupported method</title> </html> (an HTML page, not a problem document: is --url a CloudEvents gateway?))",
        );
      },
    );
  });

  it("a 404 to the setup event says that --url is the base URL, not the /events one", async () => {
    await withTarget(
      (req, res) => {
        res.writeHead(req.url === "/events" ? 202 : 404);
        res.end(req.url === "/events" ? "" : `no route for ${req.url}`);
      },
      async (base) => {
        const url = `${base}/events`;
        const { code, stdout } = await run(["--url", url, "--no-data", "--only", "setup:"]);
        expect(code).toBe(1);
        expect(stdout.split("\n")[1]?.trim()).toBe(
          "a valid binary event: expected 202 (or 200, 201, 204), got 404 no route for /events/events (--url is the gateway's base URL: the suite posts to URL/events, so leave /events out)",
        );
      },
    );
  });

  it("a taken --sink-port stops the run with exit 2 and a message that names it", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      const { code, stdout, stderr } = await run([
        "--url",
        "http://127.0.0.1:9",
        "--no-data",
        "--sink-port",
        String(port),
      ]);
      expect(code).toBe(2);
      expect(stdout).toBe("");
      expect(stderr).toBe(
        `herald-conformance: the sink cannot listen on 127.0.0.1:${port}: the port is in use\n`,
      );
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });

  it("says which request failed and how: refused, closed, or no answer in --request-timeout", async () => {
    const closing = createServer((req) => req.socket.destroy());
    const silent = createServer(() => {});
    for (const s of [closing, silent]) {
      await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
    }
    const urlOf = (s: typeof closing) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const setupMessage = async (url: string, ...more: string[]) => {
      const { stdout } = await run(["--url", url, "--no-data", "--only", "setup:", ...more]);
      return stdout.split("\n")[1]?.trim();
    };
    try {
      const refusedUrl = urlOf(closing).replace(/:\d+$/, ":9");
      expect(await setupMessage(refusedUrl)).toBe(
        "POST /events: connection refused (is the target listening at http://127.0.0.1:9?)",
      );
      expect(await setupMessage(urlOf(closing))).toBe(
        "POST /events: the target closed the connection without an answer (socket hang up)",
      );
      expect(await setupMessage(urlOf(silent), "--request-timeout", "200")).toBe(
        "POST /events: no response within 200 ms",
      );
    } finally {
      for (const s of [closing, silent]) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
    }
  });

  it("prints help", async () => {
    const { code, stdout } = await run(["--help"]);
    expect(code).toBe(0);
    expect(stdout).toContain("herald-conformance --url URL");
  });

  it("runs against a URL, prints the report and exits 1 on failures", async () => {
    await withTarget(
      (_, res) => {
        res.writeHead(503);
        res.end("down");
      },
      async (url) => {
        const { code, stdout } = await run([
          "--url",
          url,
          "--no-data",
          "--only",
          "http: GET /events",
        ]);
        expect(code).toBe(1);
        expect(stdout).toMatch(/^FAIL {2}setup: /);
        expect(stdout).toMatch(
          /0 passed, 2 failed \(1 not run: the setup check failed: .*503 down\)\n$/,
        );
        // A filter that matches nothing (a typo) is a usage error, not a pass.
        const typo = await run(["--url", url, "--no-data", "--only", "nomatchxyz"]);
        expect(typo.code).toBe(2);
        expect(typo.stderr).toMatch(/--only "nomatchxyz" matched no case/);
        // The setup check always runs, so --only may name it.
        const setup = await run(["--url", url, "--no-data", "--only", "setup:"]);
        expect(setup.code).toBe(1);
        expect(setup.stdout).toMatch(/0 passed, 1 failed\n$/);
      },
    );
  });
});
