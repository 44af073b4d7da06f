import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type RequestListener, type Server } from "node:http";
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
} from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { HERALD_BIN } from "../../../test/support/spawn-herald.js";
import { waitUntil } from "../../../test/support/wait-until.js";
import { runCli } from "./cli.js";

// `herald backup` against real HTTP servers on 127.0.0.1 that answer what a gateway (or something
// else) might: whatever happens, FILE is the whole copy or nothing, and no `.part` is left.

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "herald-backup-cli-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const servers: Server[] = [];
const netServers: NetServer[] = [];
afterAll(async () => {
  for (const server of netServers) await new Promise((ok) => server.close(ok));
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  }
});

/** A server on 127.0.0.1 answering every request with `listener`; resolves its base URL. */
async function serveWith(listener: RequestListener): Promise<string> {
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function cli(argv: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runCli({
    argv: ["backup", ...argv],
    cwd: dir,
    env: {},
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  });
  return { code, stdout, stderr };
}

/** A small valid-looking SQLite file: its 16-byte header, then padding. */
const SQLITE = Buffer.concat([Buffer.from("SQLite format 3\0", "latin1"), Buffer.alloc(4_080, 1)]);

const sqliteAnswer: RequestListener = (_req, res) => {
  res
    .writeHead(200, { "content-type": "application/vnd.sqlite3", "content-length": SQLITE.length })
    .end(SQLITE);
};

describe("herald backup", () => {
  it("writes the copy to --out, sending the token, and says where and how large", async () => {
    let seen: { url?: string; authorization?: string } = {};
    const url = await serveWith((req, res) => {
      seen = {
        ...(req.url ? { url: req.url } : {}),
        authorization: String(req.headers.authorization),
      };
      sqliteAnswer(req, res);
    });
    const result = await cli(["--url", `${url}/events`, "--token", "t0k", "-o", "b.db"]);
    expect(result).toEqual({
      code: 0,
      stdout: `${join(dir, "b.db")}: ${SQLITE.length} bytes, a backup of ${url}\n`,
      stderr: "",
    });
    expect(seen).toEqual({ url: "/store/backup", authorization: "Bearer t0k" });
    expect(await readFile(join(dir, "b.db"))).toEqual(SQLITE);
    expect(await readdir(dir)).toEqual(["b.db"]);
  });

  it("prints the gateway's refusal and writes nothing (exit 1)", async () => {
    const url = await serveWith((_req, res) => {
      res
        .writeHead(501, { "content-type": "application/problem+json" })
        .end(
          JSON.stringify({ code: "backup_unsupported", detail: "the memory store keeps nothing" }),
        );
    });
    const result = await cli(["--url", url, "--out", "b.db"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "herald: the gateway refused the backup: 501 backup_unsupported: the memory store keeps nothing\n",
    );
    expect(await readdir(dir)).toEqual([]);
  });

  // What a server says reaches the user's terminal: escape sequences (clear the screen, set the
  // window title, recolour) and line breaks (a forged line of output) are printed escaped.
  it("prints a hostile refusal's detail and code escaped, on one line", async () => {
    const url = await serveWith((_req, res) => {
      res.writeHead(400, { "content-type": "application/problem+json" }).end(
        JSON.stringify({
          code: "bad\u001b[31m",
          detail: "no\u001b]0;owned\u0007 room\u001b[2J\r\nherald: backup written\u009b2J\u202e!",
        }),
      );
    });
    const result = await cli(["--url", url, "--out", "b.db"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "herald: the gateway refused the backup: 400 bad\\u001b[31m: no\\u001b]0;owned\\u0007 room\\u001b[2J\\r\\nherald: backup written\\u009b2J\\u202e!\n",
    );
    expect(await readdir(dir)).toEqual([]);
  });

  // Answers node:http would refuse to send, as raw bytes. U+009B is CSI in C1, which some
  // terminals obey (fetch refuses C0 controls in a status line or a header).
  it.each([
    {
      what: "status line",
      head: "HTTP/1.1 409 Con\xc2\x9b2Jflict\r\ncontent-length: 0\r\n\r\n",
      said: "the gateway refused the backup: 409 Con\\u009b2Jflict\n",
    },
    {
      what: "redirect's Location",
      // Header values are read as latin1: the byte 0x9b is U+009B.
      head: "HTTP/1.1 302 Found\r\nlocation: http://[\x9b2J\r\ncontent-length: 0\r\n\r\n",
      said: "302 Found, a redirect to http://[\\u009b2J;",
    },
  ])("prints a hostile $what escaped", async ({ head, said }) => {
    const server = createNetServer((socket) => {
      socket.once("data", () => socket.end(Buffer.from(head, "latin1")));
    });
    netServers.push(server);
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const result = await cli(["--url", url, "--out", "b.db"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(said);
    expect(result.stderr).not.toContain("\u001b");
    expect(result.stderr).not.toContain("\u009b");
    expect(await readdir(dir)).toEqual([]);
  });

  // A refusal whose body never ends (a broken or hostile endpoint): read up to 64 KiB, the rest
  // cancelled, so memory stays bounded and the command does not wait for --timeout.
  it.each([
    {
      what: "a problem document",
      head: `{"type":"about:blank","title":"A backup is already in progress","status":409,"code":"backup_in_progress","detail":"another backup is being downloaded","pad":"`,
      said: "409 backup_in_progress: another backup is being downloaded",
    },
    {
      what: "no problem document",
      head: "<html><body>",
      said: "409 Conflict (its body was not read past 64 KiB)",
    },
  ])(
    "reads at most 64 KiB of a refusal's endless body ($what), and writes nothing",
    async ({ head, said }) => {
      let sent = 0;
      let closed = false;
      const url = await serveWith((_req, res) => {
        res.writeHead(409, { "content-type": "application/problem+json" });
        res.write(head);
        const chunk = Buffer.alloc(64 * 1024, "x");
        const more = () => {
          // Endless to the client; a cap only so that a client reading all of it cannot fill
          // this test's memory (256 MiB, far past any bound).
          while (!closed && sent < 256 * 1024 * 1024) {
            sent += chunk.length;
            if (!res.write(chunk)) return void res.once("drain", more);
          }
        };
        res.on("close", () => {
          closed = true;
        });
        more();
      });
      const started = Date.now();
      const result = await cli(["--url", url, "--out", "b.db", "--timeout", "20s"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`herald: the gateway refused the backup: ${said}\n`);
      // Promptly, not at --timeout.
      expect(Date.now() - started).toBeLessThan(5_000);
      // The connection was closed on the server: it sent what the sockets' buffers hold, no more.
      await waitUntil(() => closed, { what: "the refusal's connection to be closed" });
      expect(sent).toBeLessThan(16 * 1024 * 1024);
      expect(await readdir(dir)).toEqual([]);
    },
    30_000,
  );

  it("leaves no file when the connection is cut mid-download", async () => {
    const url = await serveWith((_req, res) => {
      res.writeHead(200, {
        "content-type": "application/vnd.sqlite3",
        "content-length": 1_000_000,
      });
      res.write(SQLITE, () => res.destroy());
    });
    const result = await cli(["--url", url, "--out", "b.db"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^herald: the download stopped after \d+ of 1000000 bytes \(the connection was cut\); .*b\.db was not written\n$/,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it("removes what it wrote when stopped with Ctrl-C mid-download (a process of its own)", async () => {
    // Sends the header and a first part, then holds the rest back.
    const url = await serveWith((_req, res) => {
      res.writeHead(200, {
        "content-type": "application/vnd.sqlite3",
        "content-length": 1_000_000,
      });
      res.write(SQLITE);
    });
    const child = spawn(process.execPath, [HERALD_BIN, "backup", "--url", url, "--out", "b.db"], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (t: string) => {
      stderr += t;
    });
    const exited = new Promise<number | null>((ok) => child.once("exit", ok));
    try {
      // The first part is in the `.part` file: the download is under way.
      await waitUntil(
        async () => {
          const parts = (await readdir(dir)).filter((name) => name.endsWith(".part"));
          const part = parts[0];
          return part !== undefined && (await stat(join(dir, part))).size > 0;
        },
        { everyMs: 20, what: "the download to start" },
      );
      child.kill("SIGINT");
      expect(await exited).toBe(1);
      expect(stderr).toMatch(/the download stopped after \d+ of 1000000 bytes \(it was stopped\)/);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 20_000);

  // A write to a file that meets the disk's end (or the file size limit) takes only part of a
  // chunk, with no error: the file was short while the count said whole (exit 0, a torn copy).
  it.skipIf(process.platform === "win32")(
    "writes nothing when the file cannot take the whole copy (a write takes part of a chunk)",
    async () => {
      const body = Buffer.concat([SQLITE.subarray(0, 16), Buffer.alloc(2_100 - 16, 1)]);
      // 2,000 bytes, then the last 100 later: the last chunk crosses the 2 KiB limit below.
      const url = await serveWith((_req, res) => {
        res.writeHead(200, {
          "content-type": "application/vnd.sqlite3",
          "content-length": body.length,
        });
        res.write(body.subarray(0, 2_000), () => res.end(body.subarray(2_000)));
      });
      // `ulimit -f 2`: files of at most 2 KiB, as a nearly full disk would allow.
      const child = spawn(
        "/bin/sh",
        [
          "-c",
          'ulimit -f 2 && exec "$0" "$@"',
          process.execPath,
          HERALD_BIN,
          "backup",
          "--url",
          url,
          "--out",
          "b.db",
        ],
        { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (t: string) => {
        stderr += t;
      });
      const code = await new Promise<number | null>((ok) => child.once("exit", ok));
      expect(stderr).toMatch(
        /^herald: cannot write .*\.part after \d+ bytes: EFBIG; .*b\.db was not written\n$/,
      );
      expect(code).toBe(1);
      expect(await readdir(dir)).toEqual([]);
    },
    20_000,
  );

  it("refuses an answer that is not a SQLite database", async () => {
    const url = await serveWith((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" }).end("<html>a login page</html>");
    });
    const result = await cli(["--url", url, "--out", "b.db"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is not a SQLite database; .*b\.db was not written/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("keeps an existing FILE unless --force, which replaces it whole", async () => {
    const url = await serveWith(sqliteAnswer);
    await writeFile(join(dir, "b.db"), "older backup");
    const kept = await cli(["--url", url, "--out", "b.db"]);
    expect(kept.code).toBe(1);
    expect(kept.stderr).toMatch(/b\.db exists; pass --force to replace it/);
    expect(await readFile(join(dir, "b.db"), "utf8")).toBe("older backup");
    const replaced = await cli(["--url", url, "--out", "b.db", "--force"]);
    expect(replaced.code).toBe(0);
    expect(await readFile(join(dir, "b.db"))).toEqual(SQLITE);
    expect(await readdir(dir)).toEqual(["b.db"]);
  });

  it("says when the gateway cannot be reached, and writes nothing", async () => {
    const url = await serveWith(sqliteAnswer);
    const port = new URL(url).port;
    const server = servers.pop();
    server?.closeAllConnections();
    await new Promise((ok) => server?.close(ok));
    const result = await cli(["--url", `http://127.0.0.1:${port}`, "--out", "b.db"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^herald: cannot reach http:\/\/127\.0\.0\.1:\d+\/store\/backup/);
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    [[], "backup needs --out FILE"],
    [["--out", " "], "--out must not be empty"],
    [["--out", "b.db", "--token", ""], "--token must not be empty"],
    [["--out", "b.db", "--url", "127.0.0.1:8080"], "--url must be an absolute http(s) URL"],
    [["--out", "b.db", "--timeout", "soon"], "--timeout must be a duration"],
    [["--out", "b.db", "--out", "c.db"], "--out is given twice"],
  ])("is a usage error (exit 2) for %j", async (args, message) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses a folder as --out", async () => {
    const result = await cli(["--out", "."]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/is a folder; name a file/);
  });
});
